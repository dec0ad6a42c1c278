using BaloyiBank.Delta;
using BaloyiBank.Lake;
using BaloyiBank.ServiceDefaults;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.Cleansing;

/// <summary>What one compaction pass did over the worker's tables.</summary>
public sealed record CompactionPass(int Compacted, int FilesReplaced, int GaveUp, int Vacuumed);

/// <summary>
/// Keeps the worker's tables (silver, quarantine, bronze, the audit) from growing a file per flush for ever: every
/// <see cref="CleansingOptions.CompactionInterval"/> it rewrites each partition value (event date, ingest date,
/// enqueue date; the whole table when unpartitioned) holding at least <see cref="CleansingOptions.CompactionMinFiles"/>
/// small files into one file, and then vacuums the tables (files removed longer than <c>Lake:VacuumRetention</c> ago).
/// </summary>
/// <remarks>
/// <para><b>Exactly-once.</b> A compaction commit is Delta's OPTIMIZE: remove and add actions with <c>dataChange=false</c>
/// and no txn, so the partitions' progress (the txn versions resume reads, see <see cref="CleansingPipeline"/>) never
/// moves, and change readers (the aggregator) skip it. It runs beside the flushes: a flush only adds files, so a
/// compaction that loses the race to one retries on top of it; a commit that removed one of its files ends the
/// partition's attempt until the next pass.</para>
/// <para><b>Crashes.</b> Killed before its commit, a compaction leaves one file no commit names (an orphan; the rerun
/// writes the same name, and the orphan sweep or the vacuum deletes it); after it, readers see the same rows in one file.
/// The orphan sweep deletes unreferenced files only once they are <see cref="CleansingOptions.OrphanGracePeriod"/> old,
/// and a compaction commits only within half that (and half the vacuum retention) of starting its write; in this process
/// the sweep also skips while a pass runs (<see cref="Gate"/>). Crash test: <c>BALOYI_FAILPOINTS=cleansing.compaction-before-commit=N</c>
/// kills the process (SIGKILL) between the N-th compacted file and its commit.</para>
/// </remarks>
public sealed partial class SilverCompactor(ILakeStore lake, CleansingOptions options, TimeSpan vacuumRetention, TimeProvider time, ILogger logger)
{
    /// <summary>Held while a pass runs; the orphan sweep of the same process skips a round rather than wait for it.</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>How long removed files are kept (<c>Lake:VacuumRetention</c>).</summary>
    public TimeSpan VacuumRetention => vacuumRetention;

    /// <summary>The options a table of this worker is opened with: checkpoints forget tombstones the vacuum deletes.</summary>
    public static DeltaTableOptions TableOptions(TimeProvider time, TimeSpan vacuumRetention) => new() { TimeProvider = time, TombstoneRetention = vacuumRetention };

    /// <summary>How a table is compacted: the worker's thresholds, the table's own layout.</summary>
    public DeltaCompactionOptions CompactionOptions(TableSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var shortest = options.OrphanGracePeriod < vacuumRetention ? options.OrphanGracePeriod : vacuumRetention;
        return new DeltaCompactionOptions(options.CompactionMinFiles, options.CompactionTargetFileBytes)
        {
            MaxWriteToCommit = shortest / 2,
            Layout = schema.Layout,
        };
    }

    /// <summary>Passes every <see cref="CleansingOptions.CompactionInterval"/> until cancelled; a failed pass is logged and the next one tries again.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.CompactionInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    var pass = await RunOnceAsync(cancellationToken).ConfigureAwait(false);
                    if (pass.Compacted > 0 || pass.Vacuumed > 0 || pass.GaveUp > 0)
                    {
                        LogPass(logger, pass.Compacted, pass.FilesReplaced, pass.GaveUp, pass.Vacuumed);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Maintenance only: the flushes go on, and the next pass starts from the log again.
                    LogPassFailed(logger, e.Message, e);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One pass: compacts then vacuums every table of the worker, in table order.</summary>
    public async Task<CompactionPass> RunOnceAsync(CancellationToken cancellationToken)
    {
        await Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            int compacted = 0, replaced = 0, gaveUp = 0, vacuumed = 0;
            foreach (var schema in CleansingWorker.TablesFor(options))
            {
                using var table = new DeltaTable(lake, CleansingWorker.TablePath(options, schema), TableOptions(time, vacuumRetention));
                var compaction = CompactionOptions(schema);
                var snapshot = await table.LoadAsync(cancellationToken).ConfigureAwait(false);
                foreach (var bin in DeltaCompaction.Plan(snapshot.Files.Values, snapshot.Metadata.PartitionColumns, compaction))
                {
                    var write = await table.WriteCompactionAsync(snapshot, bin, compaction.Layout, cancellationToken).ConfigureAwait(false);
                    Failpoints.Hit("cleansing.compaction-before-commit");
                    var result = await table.CommitCompactionAsync(snapshot, write, compaction, cancellationToken).ConfigureAwait(false);
                    snapshot = result.Snapshot;
                    if (result.Status == DeltaCompactionStatus.Committed)
                    {
                        compacted++;
                        replaced += result.Bin.Files.Count;
                    }
                    else
                    {
                        gaveUp++;
                    }
                }

                vacuumed += (await table.VacuumAsync(vacuumRetention, cancellationToken).ConfigureAwait(false)).Deleted.Count;
            }

            return new(compacted, replaced, gaveUp, vacuumed);
        }
        finally
        {
            Gate.Release();
        }
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Compaction pass: {Compacted} partitions compacted ({Files} small files replaced), {GaveUp} given up on a conflict, {Vacuumed} removed files vacuumed")]
    private static partial void LogPass(ILogger logger, int compacted, int files, int gaveUp, int vacuumed);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "Compaction pass failed ({Reason}); cleansing goes on and the next pass tries again")]
    private static partial void LogPassFailed(ILogger logger, string reason, Exception exception);
}
