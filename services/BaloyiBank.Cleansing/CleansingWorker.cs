using BaloyiBank.Delta;
using BaloyiBank.EventLog;
using BaloyiBank.Lake;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Cleansing;

/// <summary>
/// Something upstream that finishes (the generator of a bounded <c>baloyi run</c>). When one is registered,
/// the worker stops the application once it is complete and every partition is committed to the log's end,
/// so a bounded run ends with silver caught up instead of with the last batches unwritten.
/// </summary>
public interface IUpstreamCompletion
{
    bool IsComplete { get; }
}

/// <summary>
/// The cleansing service: a reader per log partition and flushes over all of them (see <see cref="CleansingPipeline"/>),
/// with an in-memory DuckDB as the Parquet engine. A failing partition stops the worker, and with it the host:
/// a partition that silently stops would freeze its lag while the rest look healthy.
/// </summary>
public sealed partial class CleansingWorker(
    IEventLog log,
    ILakeStore lake,
    IOptions<CleansingOptions> options,
    CleansingProgress progress,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    IServiceProvider services,
    ILogger<CleansingWorker> logger) : BackgroundService
{
    /// <summary>Every table a flush may commit, in commit order: silver, quarantine, bronze, then the audit (last, see <see cref="CleansingPipeline"/>).</summary>
    internal static IReadOnlyList<TableSchema> Tables { get; } = [.. SilverTables.All, BronzeTables.BankEvents, CleansingBatchesTable.Schema];

    /// <summary>The tables flushes write with these options: <see cref="Tables"/>, without bronze when <see cref="CleansingOptions.Archive"/> is off.</summary>
    internal static IReadOnlyList<TableSchema> TablesFor(CleansingOptions options) =>
        options.Archive ? Tables : [.. Tables.Where(t => !ReferenceEquals(t, BronzeTables.BankEvents))];

    /// <summary>
    /// The options with <see cref="CleansingOptions.SilverRoot"/> set to the live generation of that layer (one lake
    /// listing), when <see cref="CleansingOptions.FollowGenerations"/> is on; generation 0 is the folder itself.
    /// </summary>
    public static async Task<CleansingOptions> ResolveGenerationAsync(ILakeStore lake, CleansingOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lake);
        ArgumentNullException.ThrowIfNull(options);
        if (!options.FollowGenerations)
        {
            return options;
        }

        var live = await new LakeGenerations(lake).LiveAsync(options.SilverRoot, cancellationToken).ConfigureAwait(false);
        if (live.Root == options.SilverRoot.TrimEnd('/'))
        {
            return options;
        }

        var resolved = options.MemberwiseCloneForGeneration();
        resolved.SilverRoot = live.Root;
        return resolved;
    }

    /// <summary>The lake path of a table: <c>silver/transactions</c>, …, <c>bronze/bank_events</c>, <c>silver/_cleansing_batches</c>.</summary>
    public static string TablePath(CleansingOptions options, TableSchema schema)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(schema);
        if (ReferenceEquals(schema, BronzeTables.BankEvents))
        {
            return $"{options.BronzeRoot.TrimEnd('/')}/{schema.Name}";
        }

        var folder = ReferenceEquals(schema, CleansingBatchesTable.Schema) ? CleansingBatchesTable.FolderName : schema.Name;
        return $"{options.SilverRoot.TrimEnd('/')}/{folder}";
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Let the host finish starting before the (possibly long) state rebuild.
        await Task.Yield();
        try
        {
            // Once per live generation of silver: a switch (a replay) ends the pipeline here and resumes it on the new one,
            // where the replay handed over this group's progress.
            while (await RunGenerationAsync(stoppingToken).ConfigureAwait(false))
            {
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            progress.Fail(exception.Message);
            LogFailed(logger, exception.Message, exception);
            lifetime.StopApplication();
            throw;
        }
    }

    /// <summary>Runs the pipeline on silver's live generation; true when it stopped because another generation went live.</summary>
    private async Task<bool> RunGenerationAsync(CancellationToken stoppingToken)
    {
        var settings = await ResolveGenerationAsync(lake, options.Value, stoppingToken).ConfigureAwait(false);
        if (settings.SilverRoot != options.Value.SilverRoot)
        {
            LogGeneration(logger, options.Value.SilverRoot, settings.SilverRoot);
        }

        // Created once up front, so the partition loops only ever load existing tables.
        foreach (var schema in TablesFor(settings))
        {
            using var table = new DeltaTable(lake, TablePath(settings, schema), new DeltaTableOptions { TimeProvider = time });
            await table.CreateAsync(schema, cancellationToken: stoppingToken).ConfigureAwait(false);
        }

        progress.Start(log.PartitionCount);
        var publisher = services.GetService<IPublishEndpoint>();
        var upstream = services.GetService<IUpstreamCompletion>();
        var telemetry = services.GetService<CleansingTelemetry>();
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var watch = upstream is null ? Task.CompletedTask : StopWhenDrainedAsync(upstream, failed.Token);
        var switched = options.Value.FollowGenerations ? WatchGenerationAsync(options.Value.SilverRoot, settings.SilverRoot, failed) : Task.FromResult(false);
        try
        {
            var retention = services.GetService<IOptions<LakeOptions>>()?.Value.VacuumRetention ?? new LakeOptions().VacuumRetention;
            var compactor = new SilverCompactor(lake, settings, retention, time, logger);
            if (settings.ScaleOut)
            {
                await RunScaledOutAsync(settings, publisher, telemetry, compactor, failed.Token).ConfigureAwait(false);
            }
            else
            {
                await new CleansingPipeline(log, lake, settings, progress, publisher, telemetry, time, logger, compactor)
                    .RunAsync(failed.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested && switched.IsCompletedSuccessfully && switched.Result)
        {
        }
        finally
        {
            await failed.CancelAsync().ConfigureAwait(false);
            await watch.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await ((Task)switched).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        return !stoppingToken.IsCancellationRequested && switched.IsCompletedSuccessfully && switched.Result;
    }

    /// <summary>
    /// Scale-out: balances the partition ownership in the background and runs the pipeline over the owned partitions,
    /// a new run each time the owned set changes (or a commit is fenced off), until cancelled; then releases the records
    /// so the other instances take the partitions at their next round rather than after the expiry.
    /// </summary>
    private async Task RunScaledOutAsync(CleansingOptions settings, IPublishEndpoint? publisher, CleansingTelemetry? telemetry, SilverCompactor compactor, CancellationToken cancellationToken)
    {
        using var ownership = new PartitionOwnership(lake, settings, log.PartitionCount, time, telemetry, logger);
        LogScaleOut(logger, settings.InstanceId, ownership.Prefix, settings.OwnershipExpiry, settings.OwnershipRenewInterval);
        using var balancing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var balancer = ownership.RunAsync(balancing.Token);
        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var changed = ownership.Changed;
                try
                {
                    // One compactor among the instances: the owner of partition 0 (a run restarts when ownership changes).
                    await new CleansingPipeline(log, lake, settings, progress, publisher, telemetry, time, logger,
                            ownership.Owned.Contains(0) ? compactor : null, ownership)
                        .RunAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (DeltaFencedException fenced)
                {
                    // Another instance committed a partition this run still read (it took it while this one was paused): nothing of the
                    // refused flush was written; the next run resumes from the tables.
                    telemetry?.OwnershipChanges.Add(1, new KeyValuePair<string, object?>("change", "fenced"));
                    LogFenced(logger, settings.InstanceId, fenced.AppId, fenced.Found, fenced.Message);
                }

                if (balancer.IsFaulted)
                {
                    await balancer.ConfigureAwait(false);
                }

                // Wait for the next change, at most a renew interval, so a run that ended on a lapsed renewal does not spin.
                await Task.Delay(settings.OwnershipRenewInterval, time, changed).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
        finally
        {
            await balancing.CancelAsync().ConfigureAwait(false);
            await balancer.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            using var release = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await ownership.ReleaseAsync(release.Token).ConfigureAwait(false);
            }
            catch (Exception failure)
            {
                // The records then expire by themselves after OwnershipExpiry.
                LogReleaseFailed(logger, settings.InstanceId, failure.Message);
            }
        }
    }

    /// <summary>Polls the layer's live generation (one listing each time); cancels the pipeline and answers true when it is no longer <paramref name="root"/>.</summary>
    private async Task<bool> WatchGenerationAsync(string layer, string root, CancellationTokenSource pipeline)
    {
        var generations = new LakeGenerations(lake);
        using var timer = new PeriodicTimer(options.Value.GenerationPollInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(pipeline.Token).ConfigureAwait(false))
            {
                LakeGeneration live;
                try
                {
                    live = await generations.LiveAsync(layer, pipeline.Token).ConfigureAwait(false);
                }
                catch (Exception failure) when (failure is not OperationCanceledException)
                {
                    // A lake hiccup must not stop cleansing; the next poll asks again.
                    LogGenerationPollFailed(logger, layer, failure.Message);
                    continue;
                }

                if (live.Root != root.TrimEnd('/'))
                {
                    LogSwitched(logger, layer, root, live.Root);
                    await pipeline.CancelAsync().ConfigureAwait(false);
                    return true;
                }
            }
        }
        catch (OperationCanceledException) when (pipeline.IsCancellationRequested)
        {
        }

        return false;
    }

    private async Task StopWhenDrainedAsync(IUpstreamCompletion upstream, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200), time);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            // Upstream first: once it is complete the log's end is final, so lag 0 afterwards means drained.
            if (!upstream.IsComplete)
            {
                continue;
            }

            var ends = await log.DescribeAsync(cancellationToken).ConfigureAwait(false);
            foreach (var end in ends)
            {
                progress.LogEnd(end.Partition, end.NextOffset);
            }

            if (progress.IsCaughtUp)
            {
                LogDrained(logger, progress.Consumed, progress.BatchesCommitted);
                lifetime.StopApplication();
                return;
            }
        }
    }

    [LoggerMessage(EventId = 15, Level = LogLevel.Information,
        Message = "Cleansing scales out as instance {Instance}: partition ownership in {Prefix}, expiry {Expiry}, renewed every {RenewInterval}")]
    private static partial void LogScaleOut(ILogger logger, string instance, string prefix, TimeSpan expiry, TimeSpan renewInterval);

    [LoggerMessage(EventId = 16, Level = LogLevel.Warning,
        Message = "Cleansing instance {Instance}: a commit was fenced off, another instance committed {AppId} up to {Found} first; the flush is dropped and the owned partitions resume from silver. {Reason}")]
    private static partial void LogFenced(ILogger logger, string instance, string appId, long found, string reason);

    [LoggerMessage(EventId = 17, Level = LogLevel.Warning,
        Message = "Cleansing instance {Instance} could not release its partitions on stop ({Reason}); the others take them after Cleansing:OwnershipExpiry")]
    private static partial void LogReleaseFailed(ILogger logger, string instance, string reason);

    [LoggerMessage(EventId = 10, Level = LogLevel.Critical, Message = "Cleansing failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string reason, Exception exception);

    [LoggerMessage(EventId = 13, Level = LogLevel.Information, Message = "Silver layer {Layer} switched from {Root} to {NewRoot}: cleansing stops its open batches and resumes on the new generation")]
    private static partial void LogSwitched(ILogger logger, string layer, string root, string newRoot);

    [LoggerMessage(EventId = 14, Level = LogLevel.Warning, Message = "Looking for a switch of {Layer} failed ({Reason}); cleansing goes on and asks again")]
    private static partial void LogGenerationPollFailed(ILogger logger, string layer, string reason);

    [LoggerMessage(EventId = 12, Level = LogLevel.Information, Message = "Cleansing writes {Layer} at its live generation {Root}")]
    private static partial void LogGeneration(ILogger logger, string layer, string root);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "Cleansing drained the log after upstream completed: {Consumed} events in {Batches} batches; stopping the application")]
    private static partial void LogDrained(ILogger logger, long consumed, long batches);
}
