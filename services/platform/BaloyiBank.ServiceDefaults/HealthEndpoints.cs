using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BaloyiBank.ServiceDefaults;

/// <summary>The service's health endpoints (section "Health"): <c>/alive</c> and <c>/health</c> over plain HTTP.</summary>
public sealed class HealthEndpointOptions
{
    public const string SectionName = "Health";

    /// <summary>The TCP port; 0 turns the endpoints off.</summary>
    public int Port { get; set; }

    /// <summary>The address to listen on: loopback by default, so nothing is exposed beyond the machine.</summary>
    public string Host { get; set; } = "127.0.0.1";
}

public sealed class HealthEndpointOptionsValidator : IValidateOptions<HealthEndpointOptions>
{
    public ValidateOptionsResult Validate(string? name, HealthEndpointOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new OptionProblems(HealthEndpointOptions.SectionName)
            .Require(options.Port is >= 0 and <= 65535, "Port", $"must be between 0 (off) and 65535 (got {options.Port})",
                "set Health__Port to a free port such as 8081, or 0 to turn the endpoints off.")
            .Require(IPAddress.TryParse(options.Host, out _), "Host", $"must be an IP address (got '{options.Host}')",
                "set Health__Host to 127.0.0.1 (this machine only) or 0.0.0.0 (every interface).")
            .ToResult();
    }
}

/// <summary>
/// Serves the host's health checks on <c>Health:Host</c>:<c>Health:Port</c> with ASP.NET Core's <c>MapHealthChecks</c>
/// (see <see cref="HealthEndpointExtensions.MapDefaultEndpoints"/>). The services are worker hosts, not web
/// applications, so the endpoints run in a small Kestrel app of their own that answers from this host's
/// <see cref="HealthCheckService"/>; with port 0 nothing listens.
/// </summary>
public sealed partial class HealthEndpointServer(
    IOptions<HealthEndpointOptions> options,
    HealthCheckService checks,
    IHostEnvironment environment,
    ILogger<HealthEndpointServer> logger) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    /// <summary>Where the endpoints answer once started; null when <c>Health:Port</c> is 0.</summary>
    public Uri? ListeningOn { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (settings.Port == 0)
        {
            return;
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = environment.ApplicationName, Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Parse(settings.Host), settings.Port));
        // The checks registered by the service live in this host's container, not in the endpoint app's.
        builder.Services.AddSingleton(checks);
        var app = builder.Build();
        app.MapDefaultEndpoints(environment.ApplicationName);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException failure)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException(
                $"Health:Port {settings.Port} on {settings.Host} cannot be used ({failure.Message}). Fix: set Health__Port to a free port, or 0 to turn the endpoints off.",
                failure);
        }

        _app = app;
        ListeningOn = new Uri($"http://{(settings.Host.Contains(':', StringComparison.Ordinal) ? $"[{settings.Host}]" : settings.Host)}:{settings.Port}/");
        LogListening(logger, settings.Host, settings.Port);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is { } app)
        {
            await app.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Health endpoints on http://{Host}:{Port}/health and /alive")]
    private static partial void LogListening(ILogger logger, string host, int port);
}

/// <summary>
/// The body of <c>/health</c> and <c>/alive</c>: the service, the overall status, and each check's status, description
/// and figures (e.g. lag, events consumed), so an operator or <c>baloyi up</c>/<c>status</c> can read progress.
/// </summary>
public static class HealthResponse
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static Task WriteAsync(HttpContext context, HealthReport report, string service)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(report);
        context.Response.ContentType = "application/json";
        var body = new Dictionary<string, object?>
        {
            ["service"] = service,
            ["status"] = report.Status.ToString(),
            ["durationMs"] = Math.Round(report.TotalDuration.TotalMilliseconds, 1),
            ["checks"] = report.Entries.ToDictionary(e => e.Key, e => (object?)new Dictionary<string, object?>
            {
                ["status"] = e.Value.Status.ToString(),
                ["description"] = e.Value.Description ?? e.Value.Exception?.Message,
                ["data"] = e.Value.Data,
            }, StringComparer.Ordinal),
        };
        return JsonSerializer.SerializeAsync(context.Response.Body, body, Json, context.RequestAborted);
    }
}

public static class HealthEndpointExtensions
{
    /// <summary>
    /// Adds the <c>/health</c> and <c>/alive</c> endpoints on <c>Health:Port</c> (0 = off). Each service's own
    /// executable calls this; the one-process <c>baloyi run</c> does not.
    /// </summary>
    public static TBuilder AddHealthEndpoints<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddValidatedOptions<HealthEndpointOptions, HealthEndpointOptionsValidator>(builder.Configuration, HealthEndpointOptions.SectionName);
        builder.Services.AddHostedService<HealthEndpointServer>();
        return builder;
    }

    /// <summary>
    /// <c>/alive</c> runs the checks tagged "live" (the process answers); <c>/health</c> runs every check (the service
    /// does its work: its dependencies answer and it is not failing). 200 when healthy or degraded, 503 when
    /// unhealthy, never cached, with the JSON of <see cref="HealthResponse"/>.
    /// </summary>
    public static IEndpointRouteBuilder MapDefaultEndpoints(this IEndpointRouteBuilder endpoints, string service)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapHealthChecks("/health", Options(service, null));
        endpoints.MapHealthChecks("/alive", Options(service, r => r.Tags.Contains(ServiceDefaultsExtensions.LiveTag)));
        return endpoints;
    }

    private static HealthCheckOptions Options(string service, Func<HealthCheckRegistration, bool>? predicate) => new()
    {
        Predicate = predicate,
        ResponseWriter = (context, report) => HealthResponse.WriteAsync(context, report, service),
    };
}
