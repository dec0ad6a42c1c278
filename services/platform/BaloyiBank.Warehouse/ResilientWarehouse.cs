using System.Globalization;
using BaloyiBank.Delta;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace BaloyiBank.Warehouse;

/// <summary>
/// The resilience every engine gets: per attempt a timeout (the attempt is cancelled, so its transaction rolls
/// back), a circuit breaker counting transient failures, and retries with exponential backoff and jitter for
/// transient errors only. A permanent error (bad data, bad SQL, permissions) fails at once.
/// </summary>
public static class WarehouseResilience
{
    /// <summary>The key under which the pipeline's context carries the attempt callback (for reporting).</summary>
    internal static readonly ResiliencePropertyKey<Action<int, TimeSpan, Exception?>> OnRetryKey = new("baloyi.warehouse.on-retry");

    public static ResiliencePipeline CreatePipeline(WarehouseResilienceOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        // The caller's cancellation is never retried; an attempt's timeout arrives as TimeoutRejectedException (transient).
        var transient = new PredicateBuilder().Handle<Exception>(e => e is not OperationCanceledException && WarehouseErrors.IsTransient(e));
        var builder = new ResiliencePipelineBuilder();
        if (timeProvider is not null)
        {
            builder.TimeProvider = timeProvider;
        }

        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = transient,
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.BaseDelay,
                MaxDelay = options.MaxDelay,
                OnRetry = args =>
                {
                    if (args.Context.Properties.TryGetValue(OnRetryKey, out var report))
                    {
                        report(args.AttemptNumber + 1, args.RetryDelay, args.Outcome.Exception);
                    }

                    return default;
                },
            });
        }

        return builder
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = transient,
                FailureRatio = options.BreakerFailureRatio,
                MinimumThroughput = options.BreakerMinimumThroughput,
                SamplingDuration = options.BreakerSamplingDuration,
                BreakDuration = options.BreakDuration,
            })
            .AddTimeout(options.Timeout)
            .Build();
    }
}

/// <summary>
/// Any engine behind <see cref="WarehouseResilience"/>: retries are logged and counted
/// (<c>baloyibank.warehouse.retries</c>), and a final failure surfaces as <see cref="WarehouseException"/> with
/// its kind and attempt count, logged once and counted in <c>baloyibank.warehouse.loads</c>. A fenced load
/// (<see cref="WarehouseFencedException"/>) is neither retried nor wrapped: it is counted as outcome <c>fenced</c>
/// and rethrown as is.
/// </summary>
public sealed partial class ResilientWarehouse : IWarehouse
{
    private readonly IWarehouse inner;
    private readonly ResiliencePipeline pipeline;
    private readonly ILogger logger;

    public ResilientWarehouse(IWarehouse inner, WarehouseResilienceOptions options, ILogger<ResilientWarehouse>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        this.inner = inner;
        pipeline = WarehouseResilience.CreatePipeline(options, timeProvider);
        this.logger = logger ?? NullLogger<ResilientWarehouse>.Instance;
    }

    public WarehouseEngine Engine => inner.Engine;

    public string Schema => inner.Schema;

    /// <summary>The engine underneath (for tests and tools that need its own API).</summary>
    public IWarehouse Inner => inner;

    public Task<SchemaEnsureResult> EnsureSchemaAsync(WarehouseModel model, CancellationToken cancellationToken = default) =>
        RunAsync("ensure-schema", ct => inner.EnsureSchemaAsync(model, ct), cancellationToken);

    public async Task<WarehouseLoadResult> LoadAsync(WarehouseLoad load, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(load);
        load.Validate();
        var result = await RunAsync("load", ct => inner.LoadAsync(load, ct), cancellationToken);
        LogLoaded(logger, Engine, load.Pipeline, string.Join(",", result.Tables.Select(t => t.Table)), result.Inserted, result.Updated, result.Deleted, load.Watermark, result.Duration.TotalMilliseconds);
        return result;
    }

    public Task<WarehouseWatermark?> ReadWatermarkAsync(string pipeline, string table, CancellationToken cancellationToken = default) =>
        RunAsync("read-watermark", ct => inner.ReadWatermarkAsync(pipeline, table, ct), cancellationToken);

    public Task<long> ExportAsync(TableSchema relation, string parquetPath, CancellationToken cancellationToken = default) =>
        RunAsync("export", ct => inner.ExportAsync(relation, parquetPath, ct), cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();

    private async Task<T> RunAsync<T>(string operation, Func<CancellationToken, Task<T>> action, CancellationToken cancellationToken)
    {
        var attempts = 0;
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(WarehouseResilience.OnRetryKey, (attempt, delay, error) =>
        {
            WarehouseTelemetry.Retries.Add(1, new("db.system.name", WarehouseTelemetry.SystemName(Engine)), new("db.operation.name", operation));
            LogRetry(logger, Engine, operation, attempt, delay.TotalMilliseconds, error?.GetType().Name ?? "none", error?.Message ?? string.Empty);
        });
        try
        {
            return await pipeline.ExecuteAsync(
                async (ctx, state) =>
                {
                    Interlocked.Increment(ref attempts);
                    return await state(ctx.CancellationToken).ConfigureAwait(false);
                },
                context,
                action).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Count(operation, "cancelled");
            throw;
        }
        catch (WarehouseFencedException fenced)
        {
            // Not a failure of the warehouse: another loader moved the watermark. Never retried (permanent by
            // classification), passed through as is for the caller to re-read the watermark; logged once, by it.
            Count(operation, "fenced");
            LogFenced(logger, Engine, fenced.Pipeline, fenced.Table, fenced.ExpectedWatermark?.ToString(CultureInfo.InvariantCulture) ?? "none",
                fenced.FoundWatermark?.ToString(CultureInfo.InvariantCulture) ?? "none", fenced.Watermark);
            throw;
        }
        catch (Exception ex) when (ex is not WarehouseException and not ArgumentException)
        {
            var kind = WarehouseErrors.Classify(ex);
            Count(operation, kind == WarehouseErrorKind.Transient ? "transient" : "permanent");
            var detail = ex is BrokenCircuitException
                ? $"the circuit is open after repeated transient failures; calls fail at once until the break ends ({ex.Message})"
                : ex.Message;
            LogFailed(logger, ex, Engine, operation, kind, attempts, detail);
            throw new WarehouseException(Engine, operation, kind, attempts, detail, ex);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private void Count(string operation, string outcome)
    {
        if (operation == "load")
        {
            WarehouseTelemetry.Loads.Add(1, new("db.system.name", WarehouseTelemetry.SystemName(Engine)), new("outcome", outcome));
        }
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "Warehouse {Operation} on {Engine}: transient failure, retry {Attempt} in {DelayMs:F0} ms ({ErrorType}: {Error})")]
    private static partial void LogRetry(ILogger logger, WarehouseEngine engine, string operation, int attempt, double delayMs, string errorType, string error);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Error, Message = "Warehouse {Operation} on {Engine} failed ({Kind}) after {Attempts} attempt(s): {Detail}")]
    private static partial void LogFailed(ILogger logger, Exception exception, WarehouseEngine engine, string operation, WarehouseErrorKind kind, int attempts, string detail);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Debug, Message = "Warehouse load on {Engine} fenced: pipeline {Pipeline}, table {Table} expected watermark {Expected}, found {Found}; the load to {Watermark} was rolled back")]
    private static partial void LogFenced(ILogger logger, WarehouseEngine engine, string pipeline, string table, string expected, string found, long watermark);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Information, Message = "Warehouse load on {Engine} committed: pipeline {Pipeline}, tables {Tables}, {Inserted} inserted, {Updated} updated, {Deleted} deleted, watermark {Watermark}, {DurationMs:F0} ms")]
    private static partial void LogLoaded(ILogger logger, WarehouseEngine engine, string pipeline, string tables, long inserted, long updated, long deleted, long watermark, double durationMs);
}
