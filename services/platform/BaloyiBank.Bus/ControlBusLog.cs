using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.Bus;

/// <summary>What the control bus tells operators, beside MassTransit's own log lines.</summary>
internal static partial class ControlBusLog
{
    public const string Category = "BaloyiBank.Bus";

    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "Control bus: RabbitMQ at {Broker}, queue prefix '{Prefix}'")]
    public static partial void UsingRabbitMq(ILogger logger, string broker, string prefix);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Information, Message = "Control bus endpoint {Endpoint} is consuming")]
    public static partial void EndpointReady(ILogger logger, string endpoint);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Warning,
        Message = "Control bus endpoint {Endpoint} lost its broker ({Reason}); reconnecting with backoff, messages wait in the durable queue")]
    public static partial void EndpointFaulted(ILogger logger, string endpoint, string reason);

    [LoggerMessage(EventId = 7005, Level = LogLevel.Error,
        Message = "Control bus endpoint {Endpoint}: the broker {Broker} refused the login ({Reason}). Fix: set Bus__RabbitMq__Username and Bus__RabbitMq__Password (or the user:password of Bus__RabbitMq__Uri) to an account of that broker")]
    public static partial void LoginRefused(ILogger logger, string endpoint, string broker, string reason);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Information, Message = "Control bus endpoint {Endpoint} stopped after {Delivered} deliveries")]
    public static partial void EndpointCompleted(ILogger logger, string endpoint, long delivered);
}

/// <summary>
/// Logs each consumer endpoint's connection story: ready, broker lost (MassTransit then reconnects with backoff on its
/// own), stopped. Exception texts pass through <see cref="Redact"/> first, so the broker password can never show.
/// </summary>
internal sealed class ControlBusEndpointLog(ILoggerFactory loggers, Microsoft.Extensions.Options.IOptions<BusOptions> options) : IReceiveEndpointObserver
{
    private readonly ILogger _logger = loggers.CreateLogger(ControlBusLog.Category);

    public Task Ready(ReceiveEndpointReady ready)
    {
        ControlBusLog.EndpointReady(_logger, Name(ready.InputAddress));
        return Task.CompletedTask;
    }

    public Task Stopping(ReceiveEndpointStopping stopping) => Task.CompletedTask;

    public Task Completed(ReceiveEndpointCompleted completed)
    {
        ControlBusLog.EndpointCompleted(_logger, Name(completed.InputAddress), completed.DeliveryCount);
        return Task.CompletedTask;
    }

    public Task Faulted(ReceiveEndpointFaulted faulted)
    {
        var reason = Redact(faulted.Exception?.GetBaseException().Message ?? "no reason given");
        if (IsLoginRefused(faulted.Exception))
        {
            // Not retried: MassTransit fails the bus's start, and so the host's.
            ControlBusLog.LoginRefused(_logger, Name(faulted.InputAddress), options.Value.RabbitMq.Resolve().ToString(), reason);
        }
        else
        {
            ControlBusLog.EndpointFaulted(_logger, Name(faulted.InputAddress), reason);
        }

        return Task.CompletedTask;
    }

    private static bool IsLoginRefused(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is RabbitMQ.Client.Exceptions.AuthenticationFailureException)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The text with the broker password (if it occurs) replaced by ***.</summary>
    internal string Redact(string text)
    {
        var password = options.Value.IsRabbitMq ? options.Value.RabbitMq.Resolve().Password : "";
        return password.Length == 0 ? text : text.Replace(password, "***", StringComparison.Ordinal);
    }

    private static string Name(Uri address) => address.AbsolutePath.TrimStart('/') is { Length: > 0 } path ? path : address.ToString();
}

/// <summary>
/// MassTransit 8 keeps its log context in an AsyncLocal that a publish sets in the publisher's own flow. A host started
/// later from that flow (a second host in one process: tests, the CLI) would build its bus with the first host's log
/// context, whose LoggerFactory is disposed by then, and fail to start. The host resolves its hosted services in order
/// before starting any, so this one, registered before MassTransit's (which builds the bus), points the context at
/// this host's loggers first. Starting and stopping do nothing.
/// </summary>
internal sealed class ControlBusLogContext : IHostedService
{
    public ControlBusLogContext(IServiceProvider services) => LogContext.ConfigureCurrentLogContext(services.GetService<ILoggerFactory>());

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
