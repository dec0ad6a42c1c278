using BaloyiBank.Contracts.Control;
using BaloyiBank.Lake;
using BaloyiBank.Warehouse;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Sink;

/// <summary>
/// Wake-ups for the worker. A <see cref="GoldCommitted"/> only says "look at gold now": the loader reads what to
/// load from gold's logs after the warehouse's watermark, so a lost, late or repeated message changes nothing.
/// </summary>
public sealed class SinkSignal : BaloyiBank.Bus.WakeUpSignal;

/// <summary>The MassTransit consumer: every gold commit announcement is a wake-up call.</summary>
public sealed class GoldCommittedConsumer(SinkSignal signal) : IConsumer<GoldCommitted>
{
    public Task Consume(ConsumeContext<GoldCommitted> context)
    {
        // The consume span (MassTransit's, continuing the gold round's publish) is what the load links to.
        signal.Wake(System.Diagnostics.Activity.Current?.Context ?? default);
        return Task.CompletedTask;
    }
}

/// <summary>What the worker has done, for the CLI, health and tests.</summary>
public sealed class SinkProgress
{
    private long _loads;
    private long _watermark;
    private long _inserted;
    private long _updated;
    private int _holdsLease;

    public long Loads => Interlocked.Read(ref _loads);

    /// <summary>The gold round the warehouse holds, as of the last load (or the start).</summary>
    public long Watermark => Interlocked.Read(ref _watermark);

    public long RowsInserted => Interlocked.Read(ref _inserted);

    public long RowsUpdated => Interlocked.Read(ref _updated);

    /// <summary>True while this instance holds the warehouse lease; false as a standby.</summary>
    public bool HoldsLease => Volatile.Read(ref _holdsLease) != 0;

    /// <summary>The lease holder last seen (this instance or another).</summary>
    public string? LeaseHolder { get; private set; }

    /// <summary>The last load's failure (null once a load succeeds again). A fenced load is not a failure.</summary>
    public string? LastError { get; private set; }

    private long _fenced;

    /// <summary>Loads the warehouse refused because another loader moved the watermark first (nothing changed).</summary>
    public long FencedLoads => Interlocked.Read(ref _fenced);

    /// <summary>Why the last fenced load was refused (null before any).</summary>
    public string? LastFenced { get; private set; }

    internal void Lease(bool held, string? holder)
    {
        Volatile.Write(ref _holdsLease, held ? 1 : 0);
        LeaseHolder = holder;
    }

    internal void Started(long watermark) => Interlocked.Exchange(ref _watermark, watermark);

    internal void Loaded(SinkLoadResult load)
    {
        Interlocked.Exchange(ref _watermark, load.ToRound);
        Interlocked.Add(ref _inserted, load.Load.Inserted);
        Interlocked.Add(ref _updated, load.Load.Updated);
        Interlocked.Increment(ref _loads);
        LastError = null;
    }

    internal void Failed(string reason) => LastError = reason;

    internal void Fenced(string reason)
    {
        LastFenced = reason;
        Interlocked.Increment(ref _fenced);
    }
}

/// <summary>
/// The sink service: holds the warehouse lease (or waits as a standby until it expires), then loads gold into the
/// warehouse at start, on its <see cref="SinkSchedule"/> (<see cref="SinkOptions.Interval"/> or the cron
/// <see cref="SinkOptions.Schedule"/>) and on every <see cref="GoldCommitted"/>, renewing the lease
/// in between, and announces each committed load as <see cref="WarehouseLoaded"/>. A failed load is logged and
/// counted; the next scheduled or signalled load tries again (the warehouse retries transient errors itself). A
/// fenced load (this instance paused past its lease and another sink loaded meanwhile) is a warning, not a failure:
/// the worker re-reads the watermark and the lease and carries on, as a standby when the lease is gone.
/// </summary>
public sealed partial class SinkWorker(
    ILakeStore lake,
    IWarehouse warehouse,
    IOptions<SinkOptions> options,
    SinkSignal signal,
    SinkProgress progress,
    SinkMetrics metrics,
    TimeProvider time,
    IServiceProvider services,
    ILogger<SinkWorker> logger) : BackgroundService
{
    /// <summary>This instance's name in the lease.</summary>
    public string Owner { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var settings = options.Value;
        var publisher = services.GetService<IPublishEndpoint>();
        var lease = new SinkLease(lake, settings.LeaseFolder, Owner, settings.LeaseDuration, time);
        var schedule = SinkSchedule.From(settings);
        // Renew the lease well within its duration, and look at the clock at least once per interval.
        var tick = TimeSpan.FromTicks(Math.Min(schedule.MaxWait.Ticks, settings.LeaseDuration.Ticks / 3));
        LogSchedule(logger, schedule.ToString());
        using var loader = new SinkLoader(lake, warehouse, settings, logger, metrics);
        var nextLoad = time.GetUtcNow();
        var woken = false;
        var wasHeld = false;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var held = await TryLeaseAsync(lease, stoppingToken).ConfigureAwait(false);
                if (held != wasHeld)
                {
                    LogLease(logger, held ? "holds" : "waits for", lease.LastSeen?.Owner ?? "nobody", Owner);
                    LeaseChanged(held, lease.LastSeen?.Owner);
                    wasHeld = held;
                }

                var wait = tick;
                if (held)
                {
                    if (woken || time.GetUtcNow() >= nextLoad)
                    {
                        await LoadOnceAsync(loader, lease, publisher, stoppingToken).ConfigureAwait(false);
                        nextLoad = schedule.Next(time);
                    }

                    var untilLoad = nextLoad - time.GetUtcNow();
                    wait = untilLoad < tick ? untilLoad : tick;
                }

                woken = wait > TimeSpan.Zero && await signal.WaitAsync(wait, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            try
            {
                await lease.ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is IOException or HttpRequestException or InvalidOperationException)
            {
                LogLeaseFailed(logger, exception.Message, exception);
            }

            progress.Lease(false, null);
            metrics.LeaseHeld(false);
        }
    }

    /// <summary>The lease decision as a span event (a short <c>sink lease</c> span of its own: it happens between loads).</summary>
    private void LeaseChanged(bool held, string? holder)
    {
        using var span = SinkMetrics.Source.StartActivity("sink lease", System.Diagnostics.ActivityKind.Internal);
        span?.AddEvent(new System.Diagnostics.ActivityEvent(held ? "lease acquired" : "lease lost", tags: new System.Diagnostics.ActivityTagsCollection
        {
            ["baloyibank.sink.owner"] = Owner,
            ["baloyibank.sink.lease_holder"] = holder ?? "nobody",
        }));
    }

    private async Task<bool> TryLeaseAsync(SinkLease lease, CancellationToken cancellationToken)
    {
        bool held;
        try
        {
            held = await lease.AcquireOrRenewAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // Without a lease we cannot be sure we are the only loader: stand by until the lake answers again.
            LogLeaseFailed(logger, exception.Message, exception);
            held = false;
        }

        progress.Lease(held, lease.LastSeen?.Owner);
        metrics.LeaseHeld(held);
        return held;
    }

    private async Task LoadOnceAsync(SinkLoader loader, SinkLease lease, IPublishEndpoint? publisher, CancellationToken cancellationToken)
    {
        try
        {
            if (progress.Loads == 0)
            {
                progress.Started(await loader.WatermarkAsync(cancellationToken).ConfigureAwait(false));
            }

            var load = await loader.LoadAsync(signal.Contexts.Drain(), cancellationToken).ConfigureAwait(false);
            if (load is null)
            {
                return;
            }

            progress.Loaded(load);
            if (publisher is not null)
            {
                // After the commit: a message never names an invisible load; a crash before it loses only the announcement.
                await publisher.Publish(new WarehouseLoaded
                {
                    Tables = [.. load.Load.Tables.Select(t => t.Table)],
                    RowsInserted = load.Load.Inserted,
                    RowsUpdated = load.Load.Updated,
                    Watermark = load.ToRound,
                    Duration = load.Load.Duration,
                }, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (WarehouseFencedException fenced)
        {
            // This sink was a stale loader (its lease lapsed while it paused) or raced another: the warehouse refused the
            // load whole. Not a failure: re-read where the warehouse is and who holds the lease, and go on from there.
            progress.Fenced(fenced.Message);
            await AfterFencedAsync(loader, lease, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            progress.Failed(exception.Message);
            LogLoadFailed(logger, WarehouseErrors.Classify(exception).ToString(), exception.Message, exception);
        }
    }

    private async Task AfterFencedAsync(SinkLoader loader, SinkLease lease, CancellationToken cancellationToken)
    {
        try
        {
            progress.Started(await loader.WatermarkAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The next scheduled load reads the watermark again anyway.
            LogLoadFailed(logger, WarehouseErrors.Classify(exception).ToString(), exception.Message, exception);
        }

        var held = await TryLeaseAsync(lease, cancellationToken).ConfigureAwait(false);
        LogAfterFenced(logger, progress.Watermark, held ? "still holds" : "no longer holds", lease.LastSeen?.Owner ?? "nobody");
    }

    [LoggerMessage(EventId = 6010, Level = LogLevel.Information, Message = "Sink lease: this instance {State} the warehouse lease (holder {Holder}; this instance {Owner})")]
    private static partial void LogLease(ILogger logger, string state, string holder, string owner);

    [LoggerMessage(EventId = 6011, Level = LogLevel.Warning, Message = "Sink lease could not be read or written: {Reason}; standing by")]
    private static partial void LogLeaseFailed(ILogger logger, string reason, Exception exception);

    [LoggerMessage(EventId = 6012, Level = LogLevel.Error, Message = "Sink load failed ({Kind}): {Reason}; the next scheduled load tries again")]
    private static partial void LogLoadFailed(ILogger logger, string kind, string reason, Exception exception);

    [LoggerMessage(EventId = 6014, Level = LogLevel.Information, Message = "Sink schedule: loads at start, {Schedule}, and when woken by GoldCommitted")]
    private static partial void LogSchedule(ILogger logger, string schedule);

    [LoggerMessage(EventId = 6013, Level = LogLevel.Information, Message = "Sink after a fenced load: the warehouse is at gold round {Watermark}; this instance {State} the warehouse lease (holder {Holder})")]
    private static partial void LogAfterFenced(ILogger logger, long watermark, string state, string holder);
}
