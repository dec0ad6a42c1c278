using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace BaloyiBank.ServiceDefaults;

/// <summary>
/// OpenTelemetry without the (unavailable) hosting package: providers are built with
/// <c>Sdk.Create…Builder()</c>, owned by the DI container (disposed, hence flushed, with the
/// host) and created at start-up by <see cref="TelemetryLifetime"/>.
/// </summary>
public static class Telemetry
{
    /// <summary>Every ActivitySource and Meter of the product is named under this prefix.</summary>
    public const string SourcePrefix = "BaloyiBank.";

    /// <summary>Third-party sources exported with ours: the control bus spans and metrics (publish, consume).</summary>
    public static IReadOnlyList<string> LibrarySources { get; } = ["MassTransit"];

    /// <summary>The standard variable that switches the OTLP exporter on (no custom flags).</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>Share of new traces (event journeys) recorded when no sampler is configured.</summary>
    public const double DefaultTraceSampleRatio = 0.01;

    public static TBuilder AddBaloyiTelemetry<TBuilder>(this TBuilder builder, string serviceName)
        where TBuilder : IHostApplicationBuilder
    {
        var exportOtlp = !string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointVariable]);
        // Per-event spans at 100k+ events/s would flood any backend: sample whole event journeys
        // (parent-based, so every hop keeps or drops an event's trace together) unless the
        // operator chose a sampler with the standard OTEL_TRACES_SAMPLER variable.
        var samplerFromEnvironment = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_TRACES_SAMPLER"]);
        var sampleRatio = builder.Configuration.GetValue("Telemetry:TraceSampleRatio", DefaultTraceSampleRatio);
        if (sampleRatio is < 0 or > 1 || double.IsNaN(sampleRatio))
        {
            throw new OptionsValidationException("Telemetry", typeof(double),
                [$"Telemetry:TraceSampleRatio must be between 0 and 1 (got {sampleRatio}). Fix: set Telemetry__TraceSampleRatio to e.g. 0.01 (1 % of events traced end to end)."]);
        }

        var resource = ResourceBuilder.CreateDefault()
            .AddService(serviceName, serviceNamespace: "baloyibank", serviceInstanceId: Environment.MachineName + ":" + Environment.ProcessId);

        builder.Services.AddSingleton(_ =>
        {
            var tracing = Sdk.CreateTracerProviderBuilder().SetResourceBuilder(resource);
            if (exportOtlp)
            {
                // Listen only when exporting: with no listener, per-event spans cost nothing on the hot path.
                tracing.AddSource(SourcePrefix + "*").AddSource([.. LibrarySources]);
                if (!samplerFromEnvironment)
                {
                    tracing.SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(sampleRatio)));
                }

                // Endpoint, protocol and headers come from the standard OTEL_EXPORTER_OTLP_* variables.
                tracing.AddOtlpExporter();
            }

            return tracing.Build();
        });
        builder.Services.AddSingleton(_ =>
        {
            var metrics = Sdk.CreateMeterProviderBuilder().SetResourceBuilder(resource);
            if (exportOtlp)
            {
                metrics.AddMeter(SourcePrefix + "*").AddMeter([.. LibrarySources]).AddOtlpExporter();
            }

            return metrics.Build();
        });
        if (exportOtlp)
        {
            builder.Logging.AddOpenTelemetry(o =>
            {
                o.SetResourceBuilder(resource);
                o.IncludeScopes = true;
                o.IncludeFormattedMessage = true;
                o.AddOtlpExporter();
            });
        }

        builder.Services.AddHostedService<TelemetryLifetime>();
        return builder;
    }
}

/// <summary>Creates the providers when the host starts and flushes them when it stops.</summary>
internal sealed class TelemetryLifetime(
    TracerProvider tracerProvider,
    MeterProvider meterProvider,
    IConfiguration configuration,
    ILogger<TelemetryLifetime> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var endpoint = configuration[Telemetry.OtlpEndpointVariable];
        if (!string.IsNullOrWhiteSpace(endpoint))
        {
            logger.LogInformation("Exporting traces, metrics and logs over OTLP to {Endpoint}", endpoint);
        }
        else if (!string.IsNullOrWhiteSpace(configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"]))
        {
            // No Azure Monitor exporter package is available: App Insights is reached through an OTel Collector.
            logger.LogWarning(
                "APPLICATIONINSIGHTS_CONNECTION_STRING is set but OTEL_EXPORTER_OTLP_ENDPOINT is not: telemetry is not exported. " +
                "Run the OTel Collector from deploy/otel (azuremonitor exporter) and set OTEL_EXPORTER_OTLP_ENDPOINT to it");
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        tracerProvider.ForceFlush(5000);
        meterProvider.ForceFlush(5000);
        return Task.CompletedTask;
    }
}
