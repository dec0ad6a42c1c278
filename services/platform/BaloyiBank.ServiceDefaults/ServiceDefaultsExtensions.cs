using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.ServiceDefaults;

/// <summary>
/// What every BaloyiBank service gets, in one call (the eShop ServiceDefaults shape): console logging,
/// OpenTelemetry traces/metrics/logs (exported over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, to
/// Azure Monitor when <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set), and health checks ("live" and "ready").
/// The HTTP endpoints that serve the checks are <see cref="HealthEndpointExtensions.AddHealthEndpoints"/>.
/// </summary>
public static class ServiceDefaultsExtensions
{
    public const string LiveTag = "live";
    public const string ReadyTag = "ready";

    /// <summary>The setting that picks the console log format: <c>simple</c> (one line, the default) or <c>json</c> (for log shippers).</summary>
    public const string ConsoleFormatVariable = "Logging:Console:FormatterName";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder, string serviceName)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(serviceName);

        // Every log line written inside a span carries its trace and span ids (a scope the console prints, and fields
        // of the OpenTelemetry log record), so a log line leads to its trace and back.
        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        if (string.Equals(builder.Configuration[ConsoleFormatVariable], "json", StringComparison.OrdinalIgnoreCase))
        {
            // For log shippers: one JSON object a line, the trace and span ids among its scopes.
            builder.Logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.UseUtcTimestamp = true;
            });
        }
        else
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.IncludeScopes = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
                o.UseUtcTimestamp = true;
            });
        }

        builder.ConfigureOpenTelemetry(serviceName);
        builder.AddDefaultHealthChecks();
        return builder;
    }

    /// <summary>The liveness check: the process answers (<c>/alive</c>); each service adds its own "ready" checks.</summary>
    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        return builder;
    }
}
