using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace BaloyiBank.EventLog.RabbitMq;

/// <summary>The broker could not be reached (or kept failing) for longer than the retries allow.</summary>
public sealed class RabbitMqUnavailableException : IOException
{
    public RabbitMqUnavailableException()
    {
    }

    public RabbitMqUnavailableException(string message)
        : base(message)
    {
    }

    public RabbitMqUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The log's two AMQP connections (publishing and consuming apart, so broker flow control on
/// publishers never stalls readers), created lazily and replaced once closed, and the retry
/// policy every broker operation runs under. Automatic recovery of the client is off on purpose:
/// a recovered stream consumer would re-attach at its original x-stream-offset and a recovered
/// producer would not re-learn its partition's tail, so recovery is done here, by the operation.
/// </summary>
internal sealed partial class BrokerConnections : IAsyncDisposable
{
    private static readonly ResiliencePropertyKey<string> OperationKey = new("baloyi.operation");

    private readonly RabbitMqEventLogOptions _options;
    private readonly ConnectionFactory _factory;
    private readonly ILogger _logger;
    private readonly string _clientName;
    private readonly ResiliencePipeline _retry;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly IConnection?[] _connections = new IConnection?[2];
    private bool _disposed;

    public BrokerConnections(RabbitMqEventLogOptions options, string clientName, ILogger logger)
    {
        _options = options;
        _logger = logger;
        _clientName = clientName;
        _factory = new ConnectionFactory
        {
            Uri = new Uri(options.Uri),
            AutomaticRecoveryEnabled = false,
            TopologyRecoveryEnabled = false,
            RequestedHeartbeat = options.Heartbeat,
            RequestedConnectionTimeout = TimeSpan.FromSeconds(10),
            ClientProvidedName = clientName,
            MaxInboundMessageBodySize = (uint)Math.Max(options.MaxMessageBytes * 2L, 64L * 1024 * 1024),
        };
        if (!string.IsNullOrEmpty(options.UserName))
        {
            _factory.UserName = options.UserName;
        }

        if (!string.IsNullOrEmpty(options.Password))
        {
            _factory.Password = options.Password;
        }

        var builder = new ResiliencePipelineBuilder();
        if (options.RetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(IsTransient),
                MaxRetryAttempts = options.RetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.RetryMaxDelay,
                OnRetry = args =>
                {
                    var operation = args.Context.Properties.GetValue(OperationKey, "operation");
                    LogRetry(_logger, operation, _options.MaskedUri, args.AttemptNumber + 1, _options.RetryAttempts + 1, args.RetryDelay.TotalMilliseconds, args.Outcome.Exception?.GetType().Name, args.Outcome.Exception?.Message);
                    return default;
                },
            });
        }

        _retry = builder.Build();
    }

    public RabbitMqEventLogOptions Options => _options;

    public ILogger Logger => _logger;

    public Task<IConnection> PublishingAsync(CancellationToken ct) => GetAsync(0, ct);

    public Task<IConnection> ConsumingAsync(CancellationToken ct) => GetAsync(1, ct);

    /// <summary>
    /// Runs <paramref name="action"/> with retries on transient broker failures (each retry logged),
    /// turning the final failure into <see cref="RabbitMqUnavailableException"/>.
    /// </summary>
    public async Task<T> RetryAsync<T>(string operation, Func<CancellationToken, Task<T>> action, CancellationToken ct)
    {
        var context = ResilienceContextPool.Shared.Get(ct);
        context.Properties.Set(OperationKey, operation);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var outcome = await _retry.ExecuteOutcomeAsync(
                static async (ctx, state) =>
                {
                    try
                    {
                        return Outcome.FromResult(await state(ctx.CancellationToken).ConfigureAwait(false));
                    }
                    catch (Exception ex)
                    {
                        return Outcome.FromException<T>(ex);
                    }
                },
                context,
                action).ConfigureAwait(false);
            if (outcome.Exception is { } failure)
            {
                if (failure is OperationCanceledException || !IsTransient(failure))
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
                }

                var elapsed = Stopwatch.GetElapsedTime(started);
                LogGaveUp(_logger, operation, _options.MaskedUri, _options.RetryAttempts + 1, elapsed.TotalSeconds, failure.Message);
                throw new RabbitMqUnavailableException(
                    $"RabbitMQ at {_options.MaskedUri} failed {operation} {_options.RetryAttempts + 1} times over {elapsed.TotalSeconds:F1} s; last error: {failure.GetType().Name}: {failure.Message}. " +
                    "Fix: check that the broker runs and is reachable, and that EventLog:RabbitMq:Uri (host, port, vhost, credentials) is right; raise EventLog:RabbitMq:RetryAttempts to wait longer.",
                    failure);
            }

            return outcome.Result!;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>Closes a connection that misbehaved so the next operation opens a fresh one.</summary>
    public async Task ResetAsync(IConnection connection)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            for (var i = 0; i < _connections.Length; i++)
            {
                if (ReferenceEquals(_connections[i], connection))
                {
                    _connections[i] = null;
                }
            }
        }
        finally
        {
            _gate.Release();
        }

        await CloseQuietlyAsync(connection).ConfigureAwait(false);
    }

    /// <summary>Aborts both connections as a network failure would; operations in flight fail and retry (used by tests).</summary>
    internal async Task CutAsync()
    {
        foreach (var connection in _connections.ToArray())
        {
            if (connection is not null)
            {
                await connection.CloseAsync(Constants.ConnectionForced, "cut", TimeSpan.FromSeconds(1), abort: true).ConfigureAwait(false);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            _disposed = true;
            foreach (var connection in _connections)
            {
                if (connection is not null)
                {
                    await CloseQuietlyAsync(connection).ConfigureAwait(false);
                }
            }

            Array.Clear(_connections);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Whether a failure may pass by itself (the broker restarting, a network blip), as opposed to a wrong setting.</summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        OperationCanceledException => false,
        EventLogConfigurationException or EventLogLockedException or EventLogCorruptionException => false,
        BrokerUnreachableException { InnerException: AuthenticationFailureException } => false,
        AuthenticationFailureException => false,
        // While a node starts, its streams answer 404 "home node … is down or inaccessible" for a moment.
        OperationInterruptedException { ShutdownReason: { ReplyCode: 404, ReplyText: var text } } when text.Contains("down or inaccessible", StringComparison.Ordinal) => true,
        OperationInterruptedException { ShutdownReason.ReplyCode: 403 or 404 or 405 or 406 } => false,
        RabbitMqUnavailableException => false,
        RabbitMQClientException or IOException or SocketException or TimeoutException or ObjectDisposedException => true,
        _ => false,
    };

    private async Task<IConnection> GetAsync(int role, CancellationToken ct)
    {
        var current = _connections[role];
        if (current is { IsOpen: true })
        {
            return current;
        }

        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            current = _connections[role];
            if (current is { IsOpen: true })
            {
                return current;
            }

            if (current is not null)
            {
                _connections[role] = null;
                await CloseQuietlyAsync(current).ConfigureAwait(false);
            }

            var name = $"{_clientName}:{(role == 0 ? "publish" : "consume")}";
            var connection = await _factory.CreateConnectionAsync(name, ct).ConfigureAwait(false);
            connection.ConnectionShutdownAsync += (_, args) =>
            {
                if (args.Initiator != ShutdownInitiator.Application)
                {
                    LogConnectionLost(_logger, name, _options.MaskedUri, args.ReplyCode, args.ReplyText);
                }

                return Task.CompletedTask;
            };
            LogConnected(_logger, name, _options.MaskedUri);
            _connections[role] = connection;
            return connection;
        }
        finally
        {
            _gate.Release();
        }
    }

    private static async Task CloseQuietlyAsync(IConnection connection)
    {
        try
        {
            await connection.CloseAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RabbitMQClientException or IOException or SocketException or ObjectDisposedException or TimeoutException or OperationCanceledException)
        {
            // Already gone.
        }

        connection.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "RabbitMQ {Operation} at {Uri} failed (attempt {Attempt} of {Attempts}); retrying in {DelayMs:F0} ms: {ErrorType}: {Error}")]
    private static partial void LogRetry(ILogger logger, string operation, string uri, int attempt, int attempts, double delayMs, string? errorType, string? error);

    [LoggerMessage(Level = LogLevel.Error, Message = "RabbitMQ {Operation} at {Uri} failed {Attempts} times over {Seconds:F1} s; giving up: {Error}")]
    private static partial void LogGaveUp(ILogger logger, string operation, string uri, int attempts, double seconds, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Connected {Connection} to RabbitMQ at {Uri}")]
    private static partial void LogConnected(ILogger logger, string connection, string uri);

    [LoggerMessage(Level = LogLevel.Warning, Message = "RabbitMQ connection {Connection} to {Uri} was lost ({Code} {Reason}); the next operation reconnects")]
    private static partial void LogConnectionLost(ILogger logger, string connection, string uri, ushort code, string reason);
}
