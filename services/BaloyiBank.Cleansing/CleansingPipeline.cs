using System.Globalization;
using BaloyiBank.Contracts.Control;
using BaloyiBank.Delta;
using BaloyiBank.DuckDb;
using BaloyiBank.EventLog;
using BaloyiBank.Lake;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.Cleansing;

/// <summary>
/// The owner of one log partition: resumes from the commit log, cleans records into micro-batches and
/// commits each batch to every table it touches with <c>txn({group}-p{partition}, lastOffset)</c>.
/// </summary>
/// <remarks>
/// <para><b>The commit rule.</b> A flush commits, in <see cref="CleansingWorker.Tables"/> order, every table that
/// has rows in the batch, then always the audit table <c>_cleansing_batches</c> (one row per batch), all with
/// the same txn version = the batch's last offset. Tables without rows get no commit: an empty commit per
/// table and batch would only lengthen every commit log.</para>
/// <para><b>Resume.</b> The audit table is committed last and on every flush, so its txn version is the lowest
/// of any table's: resume at audit txn + 1. A crash inside a flush leaves some tables one batch ahead; the
/// batch in flight is exactly (audit txn, highest txn of any table], so the first batch after a restart is
/// cut at that highest txn (no flush by size or age before it) and re-cleaned: tables that hold it answer
/// <see cref="DeltaSnapshot.IsCommitted"/> and are skipped, the others get it, the file names repeat
/// (<see cref="MicroBatch.FileStem"/>) so an uncommitted attempt's files are overwritten, not duplicated.</para>
/// <para><b>State.</b> The <see cref="PartitionState"/> is rebuilt from silver rows with source_offset below the resume
/// point only, so the re-cleaned batch meets the state it met the first time and gets the same outcomes.</para>
/// </remarks>
internal sealed partial class PartitionCleanser(
    int partition,
    IEventLog log,
    ILakeStore lake,
    DuckDbDatabase database,
    CleansingOptions options,
    CleansingProgress progress,
    IPublishEndpoint? publisher,
    TimeProvider time,
    ILogger logger)
{
    private readonly string _appId = string.Create(CultureInfo.InvariantCulture, $"{options.ConsumerGroup}-p{partition}");
    private readonly RawEventCleanser _cleanser = new(options);
    private readonly FlushPolicy _policy = FlushPolicy.From(options);
    private readonly Dictionary<TableSchema, TableHandle> _tables = [];

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var connection = database.Connect();
        try
        {
            foreach (var schema in CleansingWorker.Tables)
            {
                var table = new DeltaTable(lake, CleansingWorker.TablePath(options, schema), new DeltaTableOptions { Database = database, TimeProvider = time });
                _tables[schema] = new TableHandle(table, await table.CreateAsync(schema, cancellationToken: cancellationToken).ConfigureAwait(false));
            }

            var audited = _tables[CleansingBatchesTable.Schema].Snapshot.TransactionVersion(_appId) ?? -1;
            var ahead = _tables.Values.Max(t => t.Snapshot.TransactionVersion(_appId) ?? -1);
            long? boundary = ahead > audited ? ahead : null;
            var resumeAt = audited + 1;
            var state = await RebuildStateAsync(connection, resumeAt, cancellationToken).ConfigureAwait(false);
            var end = await LogEndAsync(cancellationToken).ConfigureAwait(false);
            progress.Resumed(partition, audited, end);
            LogResumed(logger, partition, resumeAt, _appId, boundary ?? -1, state.AccountCount, state.Transactions.Count);

            await using var reader = log.OpenReader(partition, StartPosition.AtOffset(resumeAt));
            MicroBatch? batch = null;
            // The batch's records as read, for bronze; copied, since a reader may reuse its buffers.
            List<LogRecord> raws = [];
            while (!cancellationToken.IsCancellationRequested)
            {
                var records = await reader.ReadAsync(options.ReadBatchRecords, options.ReadWait, cancellationToken).ConfigureAwait(false);
                var ingestedAt = time.GetUtcNow();
                foreach (var record in records)
                {
                    if (boundary is { } cut && record.Offset > cut)
                    {
                        // The tables ahead hold a batch ending exactly at `cut`, a real offset of this partition.
                        throw new InvalidOperationException(
                            $"Partition {partition}: record {record.Offset} passed the in-flight batch's end {cut} without meeting it; the log and the lake disagree.");
                    }

                    batch ??= new MicroBatch(partition, time.GetUtcNow(), options.MaxPayloadBytes);
                    var raw = new RawEvent(partition, record.Offset, record.EnqueuedAt, ingestedAt, record.Value.Span);
                    var outcome = _cleanser.Process(raw, state);
                    batch.Add(raw, outcome);
                    raws.Add(new LogRecord(record.Partition, record.Offset, record.EnqueuedAt, record.Key, record.Value.ToArray(), record.Headers));
                    if (boundary == record.Offset || (boundary is null && batch.ShouldFlush(_policy, time.GetUtcNow())))
                    {
                        boundary = null;
                        await FlushAsync(connection, batch, raws, cancellationToken).ConfigureAwait(false);
                        batch = null;
                        raws = [];
                    }
                }

                if (batch is not null && boundary is null && batch.ShouldFlush(_policy, time.GetUtcNow()))
                {
                    await FlushAsync(connection, batch, raws, cancellationToken).ConfigureAwait(false);
                    batch = null;
                    raws = [];
                }

                if (records.Count == 0)
                {
                    progress.LogEnd(partition, await LogEndAsync(cancellationToken).ConfigureAwait(false));
                }
            }

            // A batch still open is dropped on purpose: its records were never committed, so the next owner
            // re-reads them from the log (the commit log is the only checkpoint).
        }
        finally
        {
            foreach (var handle in _tables.Values)
            {
                handle.Table.Dispose();
            }
        }
    }

    private async Task<long> LogEndAsync(CancellationToken cancellationToken)
    {
        var partitions = await log.DescribeAsync(cancellationToken).ConfigureAwait(false);
        return partitions.First(p => p.Partition == partition).NextOffset;
    }

    private async Task FlushAsync(DuckDbConnection connection, MicroBatch batch, List<LogRecord> records, CancellationToken cancellationToken)
    {
        var committedAt = time.GetUtcNow();
        var stem = batch.FileStem;
        List<(TableSchema Schema, long Version)> committed = [];
        foreach (var schema in CleansingWorker.Tables)
        {
            var handle = _tables[schema];
            if (handle.Snapshot.IsCommitted(_appId, batch.LastOffset) || SilverStaging.RowCount(schema, batch, records) == 0)
            {
                continue;
            }

            SilverStaging.Stage(connection, schema, batch, records, options.ConsumerGroup, committedAt);
            var adds = await new DeltaFileWriter(handle.Table, schema)
                .WriteAsync(connection, SilverStaging.StagingName(schema), stem, cancellationToken).ConfigureAwait(false);
            connection.Execute($"DROP TABLE IF EXISTS {SilverStaging.StagingName(schema)}");
            var result = await handle.Table.CommitAsync(handle.Snapshot, new DeltaCommit
            {
                Adds = adds,
                Transaction = new DeltaTransaction(_appId, batch.LastOffset),
                Operation = "STREAMING UPDATE",
                OperationParameters = new Dictionary<string, string>
                {
                    ["outputMode"] = "Append",
                    ["queryId"] = _appId,
                    ["epochId"] = batch.LastOffset.ToString(CultureInfo.InvariantCulture),
                },
            }, cancellationToken).ConfigureAwait(false);
            _tables[schema] = handle with { Snapshot = result.Snapshot };
            if (result.Status == DeltaCommitStatus.Committed)
            {
                committed.Add((schema, result.Version));
            }
        }

        progress.BatchCommitted(batch);
        progress.LogEnd(partition, await LogEndAsync(cancellationToken).ConfigureAwait(false));
        LogFlushed(logger, partition, batch.FirstOffset, batch.LastOffset, batch.Consumed, batch.Valid, batch.Quarantined, batch.Duplicates);
        await PublishAsync(batch, committed, committedAt, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Announces each committed table. After the commit, so a message never names an invisible batch; a crash
    /// between commit and publish loses the message, which is why consumers take the commit log, not the
    /// messages, as the truth (a message is a wake-up call).
    /// </summary>
    private async Task PublishAsync(MicroBatch batch, List<(TableSchema Schema, long Version)> committed, DateTimeOffset committedAt, CancellationToken cancellationToken)
    {
        if (publisher is null)
        {
            return;
        }

        foreach (var (schema, version) in committed.Where(c => SilverTables.All.Contains(c.Schema)))
        {
            await publisher.Publish(new SilverBatchCommitted
            {
                Table = CleansingWorker.TablePath(options, schema),
                TableVersion = version,
                Partition = partition,
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

    /// <summary>
    /// The cleanser's memory of this partition as it was just before <paramref name="resumeAt"/>: the accounts
    /// opened, the transactions within the dedup horizon, and the watermark (the latest valid occurredAt).
    /// </summary>
    private async Task<PartitionState> RebuildStateAsync(DuckDbConnection connection, long resumeAt, CancellationToken cancellationToken)
    {
        var state = new PartitionState(partition, options);
        var filter = string.Create(CultureInfo.InvariantCulture, $"source_partition = {partition} AND source_offset < {resumeAt}");

        var accounts = await ReadSetSqlAsync(SilverTables.Accounts, cancellationToken).ConfigureAwait(false);
        using (var result = connection.Query($"SELECT account_id, currency FROM {accounts} WHERE {filter} ORDER BY source_offset"))
        {
            while (result.Read())
            {
                state.RememberAccount(result.GetString(0), result.GetString(1));
            }
        }

        // The watermark first, from every silver table: any valid event moves it, not only transactions.
        foreach (var schema in SilverTables.All.Where(s => !ReferenceEquals(s, SilverTables.Quarantine)))
        {
            var from = await ReadSetSqlAsync(schema, cancellationToken).ConfigureAwait(false);
            using var result = connection.Query($"SELECT occurred_at, enqueued_at FROM {from} WHERE {filter} ORDER BY occurred_at DESC, source_offset LIMIT 1");
            if (result.Read())
            {
                state.Observe(result.GetTimestamp(0), result.GetTimestamp(1));
            }
        }

        if (state.Watermark is { } watermark)
        {
            // The window keeps at most horizon + 1 h behind the watermark; older ids could never be admitted again.
            var since = watermark - options.DedupHorizon - TimeSpan.FromHours(1);
            var transactions = await ReadSetSqlAsync(SilverTables.Transactions, cancellationToken).ConfigureAwait(false);
            using var result = connection.Query(string.Create(CultureInfo.InvariantCulture,
                $"SELECT transaction_id, occurred_at, enqueued_at FROM {transactions} WHERE {filter} AND occurred_at >= to_timestamp({since.ToUnixTimeSeconds()}) ORDER BY occurred_at, source_offset"));
            while (result.Read())
            {
                state.RememberTransaction(result.GetString(0), result.GetTimestamp(1), result.GetTimestamp(2));
            }
        }

        return state;
    }

    private async Task<string> ReadSetSqlAsync(TableSchema schema, CancellationToken cancellationToken)
    {
        var handle = _tables[schema];
        var readSet = await handle.Table.GetReadSetAsync(handle.Snapshot, cancellationToken: cancellationToken).ConfigureAwait(false);
        return readSet.ToSql();
    }

    private sealed record TableHandle(DeltaTable Table, DeltaSnapshot Snapshot);

    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "Cleansing partition {Partition} resumes at offset {Offset} (txn {AppId}; in-flight batch ends at {Boundary}); state: {Accounts} accounts, {Transactions} transactions")]
    private static partial void LogResumed(ILogger logger, int partition, long offset, string appId, long boundary, int accounts, int transactions);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug,
        Message = "Cleansing partition {Partition} committed offsets {First}-{Last}: {Consumed} consumed = {Valid} valid + {Quarantined} quarantined + {Duplicates} duplicates")]
    private static partial void LogFlushed(ILogger logger, int partition, long first, long last, long consumed, long valid, long quarantined, long duplicates);
}
