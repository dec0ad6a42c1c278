using System.Diagnostics;
using System.Diagnostics.Metrics;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Xunit;

namespace BaloyiBank.ServiceDefaults.Tests;

public sealed class TelemetryTests
{
    private static readonly Action<ILogger, string, Exception?> LogProbe =
        LoggerMessage.Define<string>(LogLevel.Warning, new EventId(1, "Probe"), "telemetry probe {Marker}");

    // A fresh name per test under the product prefix, so only this test's host can be the listener.
    private readonly string _sourceName = Telemetry.SourcePrefix + "Tests." + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task Without_either_variable_nothing_listens_and_no_logger_provider_is_added()
    {
        using var host = TestHost.Build([]);
        await host.StartAsync();
        using var source = new ActivitySource(_sourceName);
        using var meter = new Meter(_sourceName);
        var counter = meter.CreateCounter<long>("baloyibank.tests.events");

        // No listener: StartActivity returns null and Add returns at its first check (the per-event hot path stays free).
        Assert.False(source.HasListeners());
        Assert.Null(source.StartActivity("event"));
        Assert.False(counter.Enabled);
        Assert.Empty(host.Services.GetServices<ILoggerProvider>().OfType<OpenTelemetryLoggerProvider>());
        // The hosting package still owns the (idle) providers.
        Assert.NotNull(host.Services.GetService<TracerProvider>());
        Assert.NotNull(host.Services.GetService<MeterProvider>());
        await host.StopAsync();
    }

    [Fact]
    public async Task The_otlp_endpoint_switches_on_traces_metrics_and_logs_with_the_service_name()
    {
        await using var receiver = await Receiver.StartAsync();
        using var host = TestHost.Build(new()
        {
            [Telemetry.OtlpEndpointVariable] = receiver.Url.GetLeftPart(UriPartial.Authority),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["Telemetry:TraceSampleRatio"] = "1",
        });
        await host.StartAsync();
        using var source = new ActivitySource(_sourceName);
        using var meter = new Meter(_sourceName);
        var counter = meter.CreateCounter<long>("baloyibank.tests.events");

        using (var activity = source.StartActivity("otlp-probe-span"))
        {
            Assert.NotNull(activity);
            Assert.True(activity.Recorded);
        }

        Assert.True(counter.Enabled);
        // Logging.AddOpenTelemetry and WithLogging share one provider: each log line is exported once.
        Assert.Single(host.Services.GetServices<ILoggerProvider>().OfType<OpenTelemetryLoggerProvider>());
        counter.Add(3);
        LogProbe(host.Services.GetRequiredService<ILogger<TelemetryTests>>(), "otlp-log-marker", null);
        Flush(host);

        await receiver.WaitForAsync("/v1/traces", "otlp-probe-span", TestHost.ServiceName, Telemetry.ServiceNamespace);
        await receiver.WaitForAsync("/v1/metrics", "baloyibank.tests.events", TestHost.ServiceName);
        await receiver.WaitForAsync("/v1/logs", "otlp-log-marker", TestHost.ServiceName);
        Assert.DoesNotContain(receiver.Requests, r => r.Path.StartsWith("/v2.1/", StringComparison.Ordinal));
        await host.StopAsync();
    }

    [Fact]
    public async Task The_sample_ratio_drops_new_journeys_unless_the_standard_sampler_variable_is_set()
    {
        await using var receiver = await Receiver.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            [Telemetry.OtlpEndpointVariable] = receiver.Url.GetLeftPart(UriPartial.Authority),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["Telemetry:TraceSampleRatio"] = "0",
        };
        using (var host = TestHost.Build(settings))
        {
            await host.StartAsync();
            using var source = new ActivitySource(_sourceName);
            AssertJourneySampling(source);
            await host.StopAsync();
        }

        settings["OTEL_TRACES_SAMPLER"] = "always_on";
        using (var host = TestHost.Build(settings))
        {
            await host.StartAsync();
            using var source = new ActivitySource(_sourceName);
            using var kept = source.StartActivity("kept");
            Assert.NotNull(kept);
            Assert.True(kept.Recorded);
            await host.StopAsync();
        }
    }

    [Fact]
    public void A_sample_ratio_outside_0_to_1_is_refused_with_the_fix()
    {
        var failure = Assert.ThrowsAny<Exception>(() => TestHost.Build(new() { ["Telemetry:TraceSampleRatio"] = "1.5" }));
        Assert.Contains("Telemetry__TraceSampleRatio", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_application_insights_connection_string_switches_on_azure_monitor_for_traces_metrics_and_logs()
    {
        // The SDK's own usage reports ("statsbeat") are not what is tested and must not leave the machine.
        using var isolation = AzureMonitorIsolation();
        await using var receiver = await Receiver.StartAsync();
        using var host = TestHost.Build(
            new()
            {
                [Telemetry.AzureMonitorConnectionStringVariable] = $"InstrumentationKey={Guid.NewGuid()};IngestionEndpoint={receiver.Url}",
                ["Telemetry:TraceSampleRatio"] = "1",
            },
            builder => builder.Services.Configure<AzureMonitorExporterOptions>(o => o.DisableOfflineStorage = true));
        await host.StartAsync();
        using var source = new ActivitySource(_sourceName);
        using var meter = new Meter(_sourceName);
        var counter = meter.CreateCounter<long>("baloyibank.tests.events");

        using (var activity = source.StartActivity("azure-probe-span"))
        {
            Assert.NotNull(activity);
            Assert.True(activity.Recorded);
        }

        counter.Add(5);
        LogProbe(host.Services.GetRequiredService<ILogger<TelemetryTests>>(), "azure-log-marker", null);
        Flush(host);

        await receiver.WaitForAsync("/v2.1/track", "azure-probe-span", TestHost.ServiceName);
        await receiver.WaitForAsync("/v2.1/track", "baloyibank.tests.events");
        await receiver.WaitForAsync("/v2.1/track", "azure-log-marker");
        Assert.DoesNotContain(receiver.Requests, r => r.Path.StartsWith("/v1/", StringComparison.Ordinal));
        await host.StopAsync();
    }

    [Fact]
    public async Task Azure_monitor_keeps_the_journey_sampler_instead_of_its_own()
    {
        using var isolation = AzureMonitorIsolation();
        await using var receiver = await Receiver.StartAsync();
        using var host = TestHost.Build(
            new()
            {
                [Telemetry.AzureMonitorConnectionStringVariable] = $"InstrumentationKey={Guid.NewGuid()};IngestionEndpoint={receiver.Url}",
                ["Telemetry:TraceSampleRatio"] = "1",
            },
            builder => builder.Services.Configure<AzureMonitorExporterOptions>(o => o.DisableOfflineStorage = true));
        await host.StartAsync();
        using var source = new ActivitySource(_sourceName);

        // Ratio 1 records every new journey; the exporter's own sampler would let through only a few per second.
        for (var i = 0; i < 200; i++)
        {
            using var root = source.StartActivity("kept");
            Assert.True(root?.Recorded, $"new journey {i} was not recorded");
        }

        // Parent-based: a journey dropped upstream stays dropped here.
        var droppedParent = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None, isRemote: true);
        using var child = source.StartActivity("child", ActivityKind.Consumer, droppedParent);
        Assert.False(child?.Recorded ?? false);
        await host.StopAsync();
    }

    /// <summary>With ratio 0 a new journey is not recorded, and one sampled upstream stays sampled (parent-based).</summary>
    private static void AssertJourneySampling(ActivitySource source)
    {
        Assert.True(source.HasListeners());
        for (var i = 0; i < 20; i++)
        {
            using var root = source.StartActivity("dropped");
            Assert.False(root?.Recorded ?? false);
        }

        var sampledParent = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true);
        using (var child = source.StartActivity("child", ActivityKind.Consumer, sampledParent))
        {
            Assert.NotNull(child);
            Assert.True(child.Recorded);
        }

        // A batch span (no parent) linked to a sampled event is recorded even at ratio 0; linked only to unsampled ones, not.
        var unsampled = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None, isRemote: true);
        using (var batch = source.StartActivity(ActivityKind.Consumer, default, links: [new ActivityLink(unsampled), new ActivityLink(sampledParent)], name: "batch"))
        {
            Assert.NotNull(batch);
            Assert.True(batch.Recorded);
            Assert.NotEqual(sampledParent.TraceId, batch.TraceId);
        }

        using var unlinked = source.StartActivity(ActivityKind.Consumer, default, links: [new ActivityLink(unsampled)], name: "batch");
        Assert.False(unlinked?.Recorded ?? false);
    }

    /// <summary>
    /// The Azure Monitor exporter reads some switches from the process environment only, and lets an environment
    /// connection string or sampler win over configuration: clear those, and turn off its own usage reports.
    /// </summary>
    private static EnvironmentVariables AzureMonitorIsolation() =>
        new(("APPLICATIONINSIGHTS_STATSBEAT_DISABLED", "true"), ("APPLICATIONINSIGHTS_SDKSTATS_DISABLED_ALL", "true"),
            (Telemetry.AzureMonitorConnectionStringVariable, null), ("OTEL_TRACES_SAMPLER", null), ("OTEL_TRACES_SAMPLER_ARG", null));

    private static void Flush(IHost host)
    {
        Assert.True(host.Services.GetRequiredService<TracerProvider>().ForceFlush(10_000));
        Assert.True(host.Services.GetRequiredService<MeterProvider>().ForceFlush(10_000));
        Assert.True(host.Services.GetRequiredService<LoggerProvider>().ForceFlush(10_000));
    }

    /// <summary>Sets process environment variables for one test and puts the previous values back.</summary>
    private sealed class EnvironmentVariables : IDisposable
    {
        private readonly (string Name, string? Previous)[] _previous;

        public EnvironmentVariables(params (string Name, string? Value)[] variables)
        {
            _previous = [.. variables.Select(v => (v.Name, Environment.GetEnvironmentVariable(v.Name)))];
            foreach (var (name, value) in variables)
            {
                Environment.SetEnvironmentVariable(name, value);
            }
        }

        public void Dispose()
        {
            foreach (var (name, previous) in _previous)
            {
                Environment.SetEnvironmentVariable(name, previous);
            }
        }
    }
}
