using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using BaloyiBank.Contracts.Control;
using BaloyiBank.Delta;
using BaloyiBank.EventLog;
using BaloyiBank.Lake;
using BaloyiBank.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.Cleansing;

/// <summary>
/// Reads every log partition in parallel (a <see cref="PartitionFeed"/> each), and writes what they cleansed
/// in flushes that span partitions: one set of Parquet files and one Delta commit per table and flush, carrying
/// one <c>txn({group}-p{partition}, lastOffset)</c> action per partition in it.
/// </summary>
/// <remarks>
/// <para><b>Why flushes span partitions.</b> A flush per partition would write partitions × tables files and
/// commits every flush interval (the small-files problem of streaming into Delta: 8 partitions and 8 tables at
/// 2 s make ~2.7 million files a day) and spend most of its time on per-file and per-commit costs. One flush over
/// all partitions writes each table once, with row groups 8 times larger, and still records each partition's
/// exact progress in its own txn action. Each partition keeps its own micro-batch (offset range, counts, state)
/// inside the flush: the audit table has a row per partition batch.</para>
/// <para><b>The commit rule.</b> A flush commits, in <see cref="CleansingWorker.Tables"/> order, every table that
/// has rows in it, then always the audit table <c>_cleansing_batches</c>, each commit with the txn of every
/// partition in the flush (even those without rows in that table), so a table either holds a whole flush or
/// none of it (<see cref="DeltaCommit.Transactions"/>).</para>
/// <para><b>Resume.</b> The audit table is committed last, so per partition its txn version is the lowest of any
/// table's: resume at audit txn + 1. A crash inside a flush leaves some tables one flush ahead; for each
/// partition in that flush the range is exactly (audit txn, txn of the tables ahead]. On restart those
/// partitions read exactly to that end (<see cref="PartitionFeed.ReadThroughBoundaryAsync"/>) and the same flush
/// is written again before anything else: the tables holding it are skipped, the others get it, with the same
/// file names (<see cref="FlushStem"/>), so the crashed attempt's files are overwritten, not duplicated.</para>
/// <para><b>State.</b> Each <see cref="PartitionState"/> is rebuilt from silver rows with source_offset below the
/// partition's resume point only, so the re-cleansed flush meets the state it met the first time.</para>
/// <para><b>Scale-out.</b> With a <see cref="PartitionOwnership"/>, a run reads only the partitions the process owns
/// when it starts. When ownership changes, the run flushes the batches of the partitions it still holds, drops the
/// open batches of the ones it lost (never committed: the next owner reads them from the log again) and ends; the
/// next run resumes the new set exactly as a start does, with the resume and recovery above.</para>
/// <para><b>Fencing.</b> Ownership alone cannot stop a process paused past its expiry (a GC pause, a frozen VM) from
/// committing a batch it sealed before the pause, after another process took the partition and committed the same
/// offsets. So every scaled-out commit carries, per partition, the fence "this table's txn for the partition is still
/// below the batch's first offset" (<see cref="DeltaCommit.Fences"/>). Delta checks it against the version it writes
/// on top of, and the put-if-absent of the next version makes check and write one step: if another owner committed
/// the partition first, the stale commit loses the race for the version, re-reads the winners, sees the txn and is
/// refused (<see cref="DeltaFencedException"/>), with nothing written. The fence is on the table's txn, not on the
/// ownership record's version: the record lives in another object, so checking it before the commit would leave a
/// window between the check and the commit that only a commit-time condition on the table itself closes; and the txn
/// is exactly what a duplicate would break (rows of a partition in a table all have offsets up to its txn, so a batch
/// starting above the txn cannot repeat one). The ownership is still checked, cheaply and locally, before each flush
/// (<see cref="PartitionOwnership.Holds"/>), so a process that knows it lost a partition never tries. Data file names
/// of a scaled-out flush also carry the writer (<see cref="FlushStem"/>), so a stale writer cannot overwrite the files
/// of a commit it lost to.</para>
/// </remarks>
internal sealed partial class CleansingPipeline(
    IEventLog log,
    ILakeStore lake,
    CleansingOptions options,
    CleansingProgress progress,
    IPublishEndpoint? publisher,
    CleansingTelemetry? telemetry,
    TimeProvider time,
    ILogger logger,
    SilverCompactor? compactor = null,
    PartitionOwnership? ownership = null)
{
    private static readonly TimeSpan FlushCheckInterval = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan LogEndRefresh = TimeSpan.FromSeconds(1);

    /// <summary>
    /// With nothing pending the flush loop looks less often: the first record opens a batch whose age counts from
    /// then, so its flush is not later for it, and an idle service does not wake 100 times a second.
    /// </summary>
    private static readonly TimeSpan IdleFlushCheckInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// How old the shared log description may be for a feed whose read came back empty: such a feed has read all the
    /// broker gave it, so the description only confirms that (a stuck consumer would show as lag) and need not be
    /// taken every second while the stream is idle; after a commit it is at most <see cref="LogEndRefresh"/> old.
    /// </summary>
    private static readonly TimeSpan IdleLogEndRefresh = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan LogEndTimeout = TimeSpan.FromSeconds(30);

    private readonly FlushPolicy _policy = FlushPolicy.From(options);
    private readonly Dictionary<TableSchema, TableHandle> _tables = [];
    private readonly PendingRows _pending = new();
    private readonly Lock _endsGate = new();
    private Task<IReadOnlyList<PartitionInfo>>? _ends;
    private long _endsAt;

    /// <summary>Tests only: awaited just before each table's commit, where a process pause is the most dangerous.</summary>
    internal Func<TableSchema, CancellationToken, Task>? BeforeCommit { get; init; }

    /// <summary>What recent flushes took (halving memory): the age limit is brought forward by it, so records commit by the limit.</summary>
    private TimeSpan _flushTime;

    /// <summary>The txn appId holding a partition's progress: <c>{group}-p{partition}</c>.</summary>
    public static string AppId(CleansingOptions options, int partition)
    {
        ArgumentNullException.ThrowIfNull(options);
        return string.Create(CultureInfo.InvariantCulture, $"{options.ConsumerGroup}-p{partition}");
    }

    /// <summary>
    /// The name every data file of a flush starts with, from its partitions' offset ranges alone: a flush of one
    /// partition is named like its batch (<c>part-p0003-o000000001000-000000001999</c>), a flush of several
    /// <c>part-m08-&lt;16 hex digits of SHA-256 over the ranges&gt;</c>. Writing the same ranges again gives the same names.
    /// </summary>
    /// <remarks>With a <paramref name="writer"/> (scale-out), the name also carries 8 hex digits of SHA-256 over it, so two
    /// processes writing the same ranges (a stale owner and its successor) never write the same file.</remarks>
    public static string FlushStem(IReadOnlyList<MicroBatch> batches, string? writer = null)
    {
        ArgumentNullException.ThrowIfNull(batches);
        if (batches.Count == 1)
        {
            return writer is null ? batches[0].FileStem
                : $"{batches[0].FileStem}-w{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(writer)))[..8]}";
        }

        var ranges = new StringBuilder(writer is null ? "" : $"w{writer};");
        foreach (var batch in batches.OrderBy(b => b.Partition))
        {
            ranges.Append(CultureInfo.InvariantCulture, $"p{batch.Partition}:{batch.FirstOffset}-{batch.LastOffset};");
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ranges.ToString())))[..16];
        return string.Create(CultureInfo.InvariantCulture, $"part-m{batches.Count:D2}-{hash}");
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var feeds = new List<PartitionFeed>();
        try
        {
            foreach (var schema in CleansingWorker.TablesFor(options))
            {
                var table = new DeltaTable(lake, CleansingWorker.TablePath(options, schema), compactor is null
                    ? new DeltaTableOptions { TimeProvider = time }
                    : SilverCompactor.TableOptions(time, compactor.VacuumRetention));
                _tables[schema] = new TableHandle(table, await table.CreateAsync(schema, cancellationToken: cancellationToken).ConfigureAwait(false));
            }

            var ends = await log.DescribeAsync(cancellationToken).ConfigureAwait(false);
            // The change token before the set: a change in between then ends this run at once instead of going unnoticed.
            var changed = ownership?.Changed ?? CancellationToken.None;
            IReadOnlyList<int> partitions = ownership?.Owned ?? [.. Enumerable.Range(0, log.PartitionCount)];
            if (ownership is not null)
            {
                progress.Start(log.PartitionCount, partitions, ownership.InstanceId);
            }

            foreach (var partition in partitions)
            {
                var appId = AppId(options, partition);
                var audited = _tables[CleansingBatchesTable.Schema].Snapshot.TransactionVersion(appId) ?? -1;
                var ahead = _tables.Values.Max(t => t.Snapshot.TransactionVersion(appId) ?? -1);
                long? boundary = ahead > audited ? ahead : null;
                var resumeAt = audited + 1;
                var state = await RebuildStateAsync(partition, resumeAt, cancellationToken).ConfigureAwait(false);
                var p = partition;
                feeds.Add(new PartitionFeed(partition, appId, state, boundary, log.OpenReader(partition, StartPosition.AtOffset(resumeAt)),
                    options, progress, _pending, ct => LogEndAsync(p, IdleLogEndRefresh, ct), time));
                progress.Resumed(partition, audited, ends.First(e => e.Partition == partition).NextOffset);
                LogResumed(logger, partition, resumeAt, appId, boundary ?? -1, state.AccountCount, state.Transactions.Count);
            }

            // The flush in flight at a crash is written again first, cut where the tables ahead say it ended.
            var recovering = feeds.Where(f => f.Boundary is not null).ToList();
            if (recovering.Count > 0)
            {
                await Task.WhenAll(recovering.Select(f => f.ReadThroughBoundaryAsync(cancellationToken))).ConfigureAwait(false);
                await FlushAsync([.. recovering.Select(f => f.Seal()!)], cancellationToken).ConfigureAwait(false);
            }

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            // Room for the next flush to fill while the current one is written, and no more.
            var maxPending = (2L * options.FlushRows) + ((long)options.ReadBatchRecords * feeds.Count);
            var readers = feeds.Select(f => Task.Run(() => f.RunAsync(maxPending, stop.Token), CancellationToken.None)).ToList();
            // Compaction beside the flushes, never in their way: its commits only replace files a flush no longer touches.
            var compaction = compactor is null ? Task.CompletedTask : Task.Run(() => compactor.RunAsync(stop.Token), CancellationToken.None);
            try
            {
                await FlushLoopAsync(feeds, readers, changed, stop.Token).ConfigureAwait(false);
            }
            finally
            {
                await stop.CancelAsync().ConfigureAwait(false);
                await Task.WhenAll(readers).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                await compaction.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            // Batches still open are dropped on purpose: their records were never committed, so the next owner
            // re-reads them from the log (the commit log is the only checkpoint).
        }
        finally
        {
            foreach (var feed in feeds)
            {
                await feed.DisposeAsync().ConfigureAwait(false);
            }

            foreach (var handle in _tables.Values)
            {
                handle.Table.Dispose();
            }

        }
    }

    /// <summary>Flushes whenever the pending rows, bytes or the oldest batch's age reach the policy; surfaces a failed feed.</summary>
    /// <remarks>With scale-out, ends when ownership changed (or a feed's partition is no longer held): after flushing the
    /// batches of the partitions still held; the lost ones' open batches are dropped uncommitted.</remarks>
    private async Task FlushLoopAsync(List<PartitionFeed> feeds, List<Task> readers, CancellationToken ownershipChanged, CancellationToken cancellationToken)
    {
        var nextSweep = time.GetUtcNow() + options.OrphanSweepInterval;
        while (!cancellationToken.IsCancellationRequested)
        {
            if (ownership is not null && (ownershipChanged.IsCancellationRequested || feeds.Any(f => !ownership.Holds(f.Partition))))
            {
                List<SealedBatch> kept = [.. feeds.Where(f => ownership.Holds(f.Partition)).Select(f => f.Seal()).OfType<SealedBatch>()];
                var dropped = feeds.Where(f => !ownership.Holds(f.Partition)).Select(f => f.Partition).ToList();
                if (kept.Count > 0)
                {
                    await FlushAsync(kept, cancellationToken).ConfigureAwait(false);
                }

                LogOwnershipChanged(logger, string.Join(',', kept.Select(b => b.Batch.Partition)), string.Join(',', dropped));
                return;
            }

            if (time.GetUtcNow() >= nextSweep)
            {
                await SweepOrphansAsync(cancellationToken).ConfigureAwait(false);
                nextSweep = time.GetUtcNow() + options.OrphanSweepInterval;
            }

            if (readers.FirstOrDefault(r => r.IsFaulted) is { } failed)
            {
                await failed.ConfigureAwait(false);
            }

            long rows = 0, bytes = 0;
            DateTimeOffset? oldest = null;
            foreach (var feed in feeds)
            {
                var (feedRows, feedBytes, openedAt) = feed.Pending;
                rows += feedRows;
                bytes += feedBytes;
                oldest = openedAt is { } o && (oldest is null || o < oldest) ? o : oldest;
            }

            if (rows > 0 && _policy.ShouldFlush(rows, bytes, time.GetUtcNow() - oldest!.Value, _flushTime))
            {
                List<SealedBatch> batches = [.. feeds.Select(f => f.Seal()).OfType<SealedBatch>()];
                await FlushAsync(batches, cancellationToken).ConfigureAwait(false);
                continue;
            }

            try
            {
                await Task.Delay(rows > 0 ? FlushCheckInterval : IdleFlushCheckInterval, time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>
    /// A partition's log end for the lag figures, from one description of the whole log shared by every feed for
    /// <paramref name="maxAge"/>: a feed at the log's end asks after each empty read, and eight feeds each
    /// describing eight partition streams several times a second put a broker under needless load. Null when the
    /// description did not come within <see cref="LogEndTimeout"/> (the lag figure then waits; cleansing does not).
    /// </summary>
    private async Task<long?> LogEndAsync(int partition, TimeSpan maxAge, CancellationToken cancellationToken)
    {
        Task<IReadOnlyList<PartitionInfo>> ends;
        lock (_endsGate)
        {
            if (_ends is null || _ends.IsFaulted || _ends.IsCanceled || Stopwatch.GetElapsedTime(_endsAt) > maxAge)
            {
                _ends = log.DescribeAsync(cancellationToken);
                _endsAt = Stopwatch.GetTimestamp();
            }

            ends = _ends;
        }

        try
        {
            var partitions = await ends.WaitAsync(LogEndTimeout, cancellationToken).ConfigureAwait(false);
            return partitions.First(p => p.Partition == partition).NextOffset;
        }
        catch (TimeoutException)
        {
            LogEndSlow(logger, log.Name, LogEndTimeout);
            return null;
        }
    }

    private async Task FlushAsync(IReadOnlyList<SealedBatch> batches, CancellationToken cancellationToken)
    {
        try
        {
            await WriteAndCommitAsync(batches, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // The rows are in the files (or the flush failed and they are read from the log again): the feeds refill the buffers.
            foreach (var batch in batches)
            {
                batch.Release();
            }
        }
    }

    private async Task WriteAndCommitAsync(IReadOnlyList<SealedBatch> batches, CancellationToken cancellationToken)
    {
        var flushStarted = Stopwatch.GetTimestamp();
        using var span = StartFlushSpan(batches);
        var committedAt = time.GetUtcNow();
        var stem = FlushStem([.. batches.Select(b => b.Batch)], ownership?.InstanceId);
        List<DeltaTransaction> transactions = [.. batches.Select(b => new DeltaTransaction(b.AppId, b.Batch.LastOffset))];
        // Scale-out only: refused when another owner committed a partition's range since this batch began (see the remarks).
        List<DeltaTransactionFence> fences = ownership is null ? [] : [.. batches.Select(b => new DeltaTransactionFence(b.AppId, b.Batch.FirstOffset))];
        TimeSpan staging = default, writing = default, committing = default;
        List<(TableSchema Schema, long Version)> committed = [];
        var lineage = Lineage(batches);
        List<TableSchema> due = [.. CleansingWorker.TablesFor(options).Where(schema =>
            !transactions.All(t => _tables[schema].Snapshot.IsCommitted(t.AppId, t.Version)) && SilverStaging.RowCount(schema, batches) > 0)];

        // Files first, several tables at once (the big ones, silver transactions and bronze, take about as long as
        // each other), then the commits one by one in table order, so the commit
        // rule above holds. A crash in between leaves written files that no commit names: orphans the retried
        // flush overwrites (same names) and the sweep removes.
        var adds = new IReadOnlyList<AddFile>[due.Count];
        var clock = new Lock();
        await Parallel.ForAsync(0, due.Count, new ParallelOptions { MaxDegreeOfParallelism = options.FlushWriters, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var (stagedIn, writtenIn, files) = await WriteFilesAsync(due[i], batches, stem, committedAt, ct).ConfigureAwait(false);
            adds[i] = files;
            lock (clock)
            {
                staging += stagedIn;
                writing += writtenIn;
            }
        }).ConfigureAwait(false);

        for (var i = 0; i < due.Count; i++)
        {
            var schema = due[i];
            var handle = _tables[schema];
            Failpoints.Hit("cleansing.after-files");
            if (BeforeCommit is { } pause)
            {
                await pause(schema, cancellationToken).ConfigureAwait(false);
            }

            var phase = Stopwatch.GetTimestamp();
            var result = await handle.Table.CommitAsync(handle.Snapshot, new DeltaCommit
            {
                Adds = adds[i],
                Transactions = transactions,
                Fences = fences,
                Operation = "STREAMING UPDATE",
                Lineage = lineage,
                OperationParameters = new Dictionary<string, string>
                {
                    ["outputMode"] = "Append",
                    ["queryId"] = options.ConsumerGroup,
                    ["epochId"] = stem,
                },
            }, cancellationToken).ConfigureAwait(false);
            committing += Stopwatch.GetElapsedTime(phase);
            _tables[schema] = handle with { Snapshot = result.Snapshot };
            if (result.Status == DeltaCommitStatus.Committed)
            {
                committed.Add((schema, result.Version));
                Failpoints.Hit("cleansing.after-commit");
            }
        }

        foreach (var batch in batches.Select(b => b.Batch))
        {
            progress.BatchCommitted(batch);
            if (await LogEndAsync(batch.Partition, LogEndRefresh, cancellationToken).ConfigureAwait(false) is { } end)
            {
                progress.LogEnd(batch.Partition, end);
            }

            LogFlushed(logger, batch.Partition, batch.FirstOffset, batch.LastOffset, batch.Consumed, batch.Valid, batch.Quarantined, batch.Duplicates);
        }

        var took = Stopwatch.GetElapsedTime(flushStarted);
        _flushTime = _flushTime == TimeSpan.Zero ? took : (_flushTime + took) / 2;
        RecordFlush(batches, staging, writing, committing, took, span);
        await PublishAsync(batches, committed, committedAt, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// When the flush's events were enqueued, recorded in each commit for the stages downstream to measure their
    /// end-to-end latency from; only while this service's telemetry is on (otherwise null: nothing is spent on it).
    /// </summary>
    private CommitLineage? Lineage(IReadOnlyList<SealedBatch> batches)
    {
        if (telemetry?.PipelineLatency.Enabled != true && !CleansingTelemetry.Source.HasListeners())
        {
            return null;
        }

        var enqueued = new EnqueueTimes();
        foreach (var ticks in batches.SelectMany(b => b.EnqueuedTicks))
        {
            enqueued.AddTicks(ticks);
        }

        return new CommitLineage { Enqueued = enqueued };
    }

    /// <summary>One table's data files of the flush: from the feeds' column buffers, or from rows staged now.</summary>
    private async Task<(TimeSpan Staging, TimeSpan Writing, IReadOnlyList<AddFile> Adds)> WriteFilesAsync(
        TableSchema schema, IReadOnlyList<SealedBatch> batches, string stem, DateTimeOffset committedAt, CancellationToken cancellationToken)
    {
        var phase = Stopwatch.GetTimestamp();
        IReadOnlyList<ColumnBuffer> sources = SilverStaging.FedTables.Contains(schema)
            ? [.. batches.Where(b => b.FeedRows.ContainsKey(schema)).Select(b => b.FeedRows[schema])]
            : [SilverStaging.Stage(schema, batches, options.ConsumerGroup, committedAt)];
        var staging = Stopwatch.GetElapsedTime(phase);
        phase = Stopwatch.GetTimestamp();
        var adds = await new DeltaFileWriter(_tables[schema].Table, schema).WriteAsync(sources, stem, cancellationToken).ConfigureAwait(false);
        return (staging, Stopwatch.GetElapsedTime(phase), adds);
    }

    /// <summary>Deletes data files no commit names once they are older than the grace period (a crash between files and commit).</summary>
    private async Task SweepOrphansAsync(CancellationToken cancellationToken)
    {
        // A compaction pass may hold a written file it has not committed yet: skip this sweep rather than wait for it.
        if (compactor is not null && !await compactor.Gate.WaitAsync(0, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        try
        {
            await SweepTablesAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            compactor?.Gate.Release();
        }
    }

    private async Task SweepTablesAsync(CancellationToken cancellationToken)
    {
        foreach (var (schema, handle) in _tables)
        {
            var deleted = await handle.Table.DeleteOrphansAsync(options.OrphanGracePeriod, cancellationToken).ConfigureAwait(false);
            if (deleted.Count > 0)
            {
                LogOrphansDeleted(logger, deleted.Count, CleansingWorker.TablePath(options, schema), options.OrphanGracePeriod);
            }
        }
    }

    /// <summary>
    /// A <c>process</c> span for the flush, linked to the <c>create</c> spans of the events that carry a
    /// traceparent: sampled ones first, round-robin over the partitions, at most <see cref="TraceLinks.MaxLinks"/>
    /// (<see cref="TraceLinks.Choose"/>). The journey sampler records the span when any link is sampled.
    /// </summary>
    private Activity? StartFlushSpan(IReadOnlyList<SealedBatch> batches)
    {
        if (!CleansingTelemetry.Source.HasListeners())
        {
            return null;
        }

        var links = TraceLinks.Choose(batches.Select(b => b.TraceContexts));

        var span = CleansingTelemetry.Source.StartActivity(ActivityKind.Consumer, links: links, name: $"process {log.Name}");
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag("messaging.operation.type", "process");
            span.SetTag("messaging.destination.name", log.Name);
            span.SetTag("messaging.consumer.group.name", options.ConsumerGroup);
            span.SetTag("messaging.batch.message_count", batches.Sum(b => b.Batch.Consumed));
            span.SetTag("baloyibank.partitions", string.Join(",", batches.Select(b => b.Batch.Partition)));
        }

        return span;
    }

    private void RecordFlush(IReadOnlyList<SealedBatch> batches, TimeSpan staging, TimeSpan writing, TimeSpan committing, TimeSpan total, Activity? span)
    {
        progress.Phases.AddStage(staging);
        progress.Phases.AddFiles(writing);
        progress.Phases.AddCommit(committing);
        progress.Phases.AddFlush(total);
        var visibleAt = time.GetUtcNow();
        var oldest = visibleAt.UtcTicks;
        foreach (var enqueued in batches.SelectMany(b => b.EnqueuedTicks))
        {
            progress.CommitLatency.Record(TimeSpan.FromTicks(visibleAt.UtcTicks - enqueued));
            oldest = Math.Min(oldest, enqueued);
        }

        span?.SetTag("baloyibank.silver.valid", batches.Sum(b => b.Batch.Valid));
        span?.SetTag("baloyibank.silver.quarantined", batches.Sum(b => b.Batch.Quarantined));
        span?.SetTag("baloyibank.silver.duplicates", batches.Sum(b => b.Batch.Duplicates));
        if (telemetry is null)
        {
            return;
        }

        foreach (var batch in batches.Select(b => b.Batch))
        {
            var partitionTag = new KeyValuePair<string, object?>("partition", batch.Partition);
            telemetry.Consumed.Add(batch.Consumed, partitionTag);
            telemetry.Valid.Add(batch.Valid, partitionTag);
            telemetry.Duplicates.Add(batch.Duplicates, partitionTag);
            foreach (var (reason, count) in batch.QuarantineByReason)
            {
                telemetry.Quarantined.Add(count, new KeyValuePair<string, object?>("reason", reason));
            }
        }

        telemetry.BatchRows.Record(batches.Sum(b => b.Batch.Consumed));
        telemetry.BatchBytes.Record(batches.Sum(b => b.Batch.PayloadBytes));
        telemetry.FlushDuration.Record(staging.TotalSeconds, new KeyValuePair<string, object?>("phase", "stage"));
        telemetry.FlushDuration.Record(writing.TotalSeconds, new KeyValuePair<string, object?>("phase", "files"));
        telemetry.FlushDuration.Record(committing.TotalSeconds, new KeyValuePair<string, object?>("phase", "commit"));
        telemetry.FlushDuration.Record(total.TotalSeconds, new KeyValuePair<string, object?>("phase", "total"));
        telemetry.CommitLatency.Record(TimeSpan.FromTicks(visibleAt.UtcTicks - oldest).TotalSeconds);
        if (telemetry.PipelineLatency.Enabled)
        {
            var stage = new KeyValuePair<string, object?>(PipelineLatency.StageTag, PipelineLatency.Silver);
            foreach (var enqueued in batches.SelectMany(b => b.EnqueuedTicks))
            {
                telemetry.PipelineLatency.Record(TimeSpan.FromTicks(visibleAt.UtcTicks - enqueued).TotalSeconds, stage);
            }
        }
    }

    /// <summary>
    /// Announces each committed table, one message per partition batch in the flush. After the commit, so a
    /// message never names an invisible batch; a crash between commit and publish loses the message, which is
    /// why consumers take the commit log, not the messages, as the truth (a message is a wake-up call).
    /// </summary>
    private async Task PublishAsync(IReadOnlyList<SealedBatch> batches, List<(TableSchema Schema, long Version)> committed, DateTimeOffset committedAt, CancellationToken cancellationToken)
    {
        if (publisher is null)
        {
            return;
        }

        foreach (var (schema, version) in committed.Where(c => SilverTables.All.Contains(c.Schema)))
        {
            foreach (var batch in batches.Select(b => b.Batch))
            {
                await publisher.Publish(new SilverBatchCommitted
                {
                    Table = CleansingWorker.TablePath(options, schema),
                    TableVersion = version,
                    Partition = batch.Partition,
                    FirstOffset = batch.FirstOffset,
                    LastOffset = batch.LastOffset,
                    ValidRows = batch.Valid,
                    QuarantinedRows = batch.Quarantined,
                    DuplicateRows = batch.Duplicates,
                    MinEventTime = batch.MinEventTime,
                    MaxEventTime = batch.MaxEventTime,
                    CommittedAt = committedAt,
                }, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The cleanser's memory of this partition as it was just before <paramref name="resumeAt"/>: the accounts
    /// opened, the transactions within the dedup horizon, and the watermark (the latest valid occurredAt), read from
    /// the silver tables' files with Parquet.Net (only the columns needed).
    /// </summary>
    private async Task<PartitionState> RebuildStateAsync(int partition, long resumeAt, CancellationToken cancellationToken)
    {
        var state = new PartitionState(partition, options);

        List<(long Offset, string Account, string Currency)> accounts = [];
        await foreach (var chunk in ReadAsync(SilverTables.Accounts, ["source_partition", "source_offset", "account_id", "currency"], cancellationToken).ConfigureAwait(false))
        {
            var (partitions, offsets) = (chunk.Ints("source_partition"), chunk.Longs("source_offset"));
            var (ids, currencies) = (chunk.Strings("account_id"), chunk.Strings("currency"));
            for (var r = 0; r < chunk.RowCount; r++)
            {
                if (partitions[r] == partition && offsets[r] < resumeAt)
                {
                    accounts.Add((offsets[r], ids[r]!, currencies[r]!));
                }
            }
        }

        foreach (var (_, account, currency) in accounts.OrderBy(a => a.Offset))
        {
            state.RememberAccount(account, currency);
        }

        // The watermark first, from every silver table: any valid event moves it, not only transactions.
        foreach (var schema in SilverTables.All.Where(s => !ReferenceEquals(s, SilverTables.Quarantine)))
        {
            (DateTime At, long Offset, DateTime Enqueued)? latest = null;
            await foreach (var chunk in ReadAsync(schema, ["source_partition", "source_offset", "occurred_at", "enqueued_at"], cancellationToken).ConfigureAwait(false))
            {
                var (partitions, offsets) = (chunk.Ints("source_partition"), chunk.Longs("source_offset"));
                var (occurred, enqueued) = (chunk.Timestamps("occurred_at"), chunk.Timestamps("enqueued_at"));
                for (var r = 0; r < chunk.RowCount; r++)
                {
                    // ORDER BY occurred_at DESC, source_offset: the latest instant, the first offset among equals.
                    if (partitions[r] == partition && offsets[r] < resumeAt
                        && (latest is not { } l || occurred[r] > l.At || (occurred[r] == l.At && offsets[r] < l.Offset)))
                    {
                        latest = (occurred[r], offsets[r], enqueued[r]);
                    }
                }
            }

            if (latest is { } found)
            {
                state.Observe(new DateTimeOffset(found.At), new DateTimeOffset(found.Enqueued));
            }
        }

        if (state.Watermark is { } watermark)
        {
            // The window keeps at most horizon + 1 h behind the watermark; older ids could never be admitted again.
            var since = DateTimeOffset.FromUnixTimeSeconds((watermark - options.DedupHorizon - TimeSpan.FromHours(1)).ToUnixTimeSeconds()).UtcDateTime;
            List<(DateTime At, long Offset, string Id, DateTime Enqueued)> recent = [];
            await foreach (var chunk in ReadAsync(SilverTables.Transactions, ["source_partition", "source_offset", "transaction_id", "occurred_at", "enqueued_at"], cancellationToken).ConfigureAwait(false))
            {
                var (partitions, offsets) = (chunk.Ints("source_partition"), chunk.Longs("source_offset"));
                var (occurred, enqueued) = (chunk.Timestamps("occurred_at"), chunk.Timestamps("enqueued_at"));
                var ids = chunk.Chars("transaction_id");
                for (var r = 0; r < chunk.RowCount; r++)
                {
                    if (partitions[r] == partition && offsets[r] < resumeAt && occurred[r] >= since)
                    {
                        recent.Add((occurred[r], offsets[r], ids[r]!.Value.ToString(), enqueued[r]));
                    }
                }
            }

            foreach (var (at, _, id, enqueuedAt) in recent.OrderBy(t => t.At).ThenBy(t => t.Offset))
            {
                state.RememberTransaction(id, new DateTimeOffset(at), new DateTimeOffset(enqueuedAt));
            }
        }

        return state;
    }

    private async IAsyncEnumerable<ColumnChunk> ReadAsync(TableSchema schema, IReadOnlyList<string> columns, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var handle = _tables[schema];
        var readSet = await handle.Table.GetReadSetAsync(handle.Snapshot, cancellationToken: cancellationToken).ConfigureAwait(false);
        await foreach (var chunk in ColumnChunk.ReadAsync(readSet, columns, cancellationToken).ConfigureAwait(false))
        {
            yield return chunk;
        }
    }

    private sealed record TableHandle(DeltaTable Table, DeltaSnapshot Snapshot);

    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "Cleansing partition {Partition} resumes at offset {Offset} (txn {AppId}; in-flight batch ends at {Boundary}); state: {Accounts} accounts, {Transactions} transactions")]
    private static partial void LogResumed(ILogger logger, int partition, long offset, string appId, long boundary, int accounts, int transactions);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug,
        Message = "Cleansing partition {Partition} committed offsets {First}-{Last}: {Consumed} consumed = {Valid} valid + {Quarantined} quarantined + {Duplicates} duplicates")]
    private static partial void LogFlushed(ILogger logger, int partition, long first, long last, long consumed, long valid, long quarantined, long duplicates);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information,
        Message = "Partition ownership changed: flushed the open batches of partitions [{Kept}], dropped those of [{Dropped}] uncommitted; resuming with the new set")]
    private static partial void LogOwnershipChanged(ILogger logger, string kept, string dropped);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning,
        Message = "Describing event log {Log} took longer than {Timeout}; the lag figures wait for the next description, cleansing goes on")]
    private static partial void LogEndSlow(ILogger logger, string log, TimeSpan timeout);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information,
        Message = "Deleted {Count} orphan data files of {Table} (written by a flush that never committed, older than {GracePeriod})")]
    private static partial void LogOrphansDeleted(ILogger logger, int count, string table, TimeSpan gracePeriod);
}
