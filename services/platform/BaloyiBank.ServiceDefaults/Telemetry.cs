using Azure.Monitor.OpenTelemetry.Exporter;
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
/// OpenTelemetry through OpenTelemetry.Extensions.Hosting: <c>services.AddOpenTelemetry()</c> with tracing and
/// metrics, <c>Logging.AddOpenTelemetry</c> for logs; the providers start and stop with the host. Exporters are
/// switched on by the standard variables only: <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (OTLP) and
/// <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> (Azure Monitor), each for traces, metrics and logs.
/// </summary>
public static class Telemetry
{
    /// <summary>Every ActivitySource and Meter of the product is named under this prefix.</summary>
    public const string SourcePrefix = "BaloyiBank.";

    /// <summary>Third-party sources exported with ours: the control bus spans and metrics (publish, consume).</summary>
    public static IReadOnlyList<string> LibrarySources { get; } = ["MassTransit"];

    /// <summary>The standard variable that switches the OTLP exporter on (no custom flags).</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The standard variable that switches the Azure Monitor (Application Insights) exporter on.</summary>
    public const string AzureMonitorConnectionStringVariable = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    /// <summary>Share of new traces (event journeys) recorded when no sampler is configured.</summary>
    public const double DefaultTraceSampleRatio = 0.01;

    /// <summary>The resource namespace of every service (<c>service.namespace</c>).</summary>
    public const string ServiceNamespace = "baloyibank";

    /// <summary>Every product ActivitySource (<c>BaloyiBank.*</c>) and MassTransit's: what an exporter (or a test's in-memory one) listens to.</summary>
    public static TracerProviderBuilder AddProductSources(TracerProviderBuilder tracing)
    {
        ArgumentNullException.ThrowIfNull(tracing);
        return tracing.AddSource(SourcePrefix + "*").AddSource([.. LibrarySources]);
    }

    /// <summary>Every product Meter (<c>BaloyiBank.*</c>) and MassTransit's.</summary>
    public static MeterProviderBuilder AddProductMeters(MeterProviderBuilder metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        return metrics.AddMeter(SourcePrefix + "*").AddMeter([.. LibrarySources]);
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder, string serviceName)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(serviceName);

        var exportOtlp = !string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointVariable]);
        var azureMonitor = builder.Configuration[AzureMonitorConnectionStringVariable];
        var exportAzureMonitor = !string.IsNullOrWhiteSpace(azureMonitor);
        var exporting = exportOtlp || exportAzureMonitor;
        // Per-event spans at 100k+ events/s would flood any backend: sample whole event journeys
        // (JourneySampler: parent-based, and a batch span linked to a sampled event is always kept)
        // unless the operator chose a sampler with the standard OTEL_TRACES_SAMPLER variable.
        var samplerFromEnvironment = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_TRACES_SAMPLER"]);
        var sampleRatio = builder.Configuration.GetValue("Telemetry:TraceSampleRatio", DefaultTraceSampleRatio);
        if (sampleRatio is < 0 or > 1 || double.IsNaN(sampleRatio))
        {
            throw new OptionsValidationException("Telemetry", typeof(double),
                [$"Telemetry:TraceSampleRatio must be between 0 and 1 (got {sampleRatio}). Fix: set Telemetry__TraceSampleRatio to e.g. 0.01 (1 % of events traced end to end)."]);
        }

        if (exportAzureMonitor)
        {
            // Set before the exporters read their options, so a caller's Configure<AzureMonitorExporterOptions> still applies after.
            builder.Services.Configure<AzureMonitorExporterOptions>(o => o.ConnectionString = azureMonitor);
        }

        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName, serviceNamespace: ServiceNamespace,
                serviceInstanceId: Environment.MachineName + ":" + Environment.ProcessId))
            .WithTracing(tracing =>
            {
                // Listen only when exporting: with no listener, per-event spans cost nothing on the hot path.
                if (!exporting)
                {
                    return;
                }

                AddProductSources(tracing);
                if (exportOtlp)
                {
                    // Endpoint, protocol and headers come from the standard OTEL_EXPORTER_OTLP_* variables.
                    tracing.AddOtlpExporter();
                }

                if (exportAzureMonitor)
                {
                    tracing.AddAzureMonitorTraceExporter();
                }

                if (!samplerFromEnvironment)
                {
                    // After the exporters: the Azure Monitor exporter sets its own (rate-limited, not parent-based)
                    // sampler, and the builder applies the calls in order, so the last sampler set wins.
                    tracing.SetSampler(new JourneySampler(sampleRatio));
                }
            })
            .WithMetrics(metrics =>
            {
                // Same rule: an instrument nobody listens to is skipped by a field check in Add/Record.
                if (!exporting)
                {
                    return;
                }

                // Runtime metrics (GC, heap, thread pool, exceptions) are observable: read only at export time.
                AddProductMeters(metrics).AddRuntimeInstrumentation();
                if (exportOtlp)
                {
                    metrics.AddOtlpExporter();
                }

                if (exportAzureMonitor)
                {
                    metrics.AddAzureMonitorMetricExporter();
                }
            });

        if (exporting)
        {
            // Without an exporter the provider would still be handed every enabled log call, for nothing.
            builder.Logging.AddOpenTelemetry(o =>
            {
                o.IncludeScopes = true;
                o.IncludeFormattedMessage = true;
            });
            otel.WithLogging(logging =>
            {
                if (exportOtlp)
                {
                    logging.AddOtlpExporter();
                }

                if (exportAzureMonitor)
                {
                    logging.AddAzureMonitorLogExporter();
                }
            });
            builder.Services.AddHostedService<TelemetryExportLifetime>();
        }

        return builder;
    }
}

/// <summary>Says where telemetry goes when the host starts, and flushes it when the host stops (before the last logs are lost).</summary>
internal sealed partial class TelemetryExportLifetime(
    TracerProvider tracerProvider,
    MeterProvider meterProvider,
    LoggerProvider loggerProvider,
    IConfiguration configuration,
    ILogger<TelemetryExportLifetime> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var endpoint = configuration[Telemetry.OtlpEndpointVariable];
        if (!string.IsNullOrWhiteSpace(endpoint))
        {
            LogOtlp(logger, UriMasking.Mask(endpoint));
        }

        if (!string.IsNullOrWhiteSpace(configuration[Telemetry.AzureMonitorConnectionStringVariable]))
        {
            // The connection string holds the instrumentation key: named, never printed.
            LogAzureMonitor(logger, Telemetry.AzureMonitorConnectionStringVariable);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        tracerProvider.ForceFlush(5000);
        meterProvider.ForceFlush(5000);
        loggerProvider.ForceFlush(5000);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Exporting traces, metrics and logs over OTLP to {Endpoint}")]
    private static partial void LogOtlp(ILogger logger, string endpoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "Exporting traces, metrics and logs to Azure Monitor (connection string from {Variable})")]
    private static partial void LogAzureMonitor(ILogger logger, string variable);
}
