using System.Diagnostics;
using System.Text;
using BaloyiBank.Delta;
using BaloyiBank.EventLog;
using BaloyiBank.Generator;
using BaloyiBank.Lake;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace BaloyiBank.Cleansing.Tests.Worker;

/// <summary>
/// The worker end to end: generated stream in a real embedded log, real folder lake, real DuckDB. The lake
/// alone must account for every event (invariant 5), and a stop or a crash must not change silver (2–4).
/// </summary>
public sealed class CleansingWorkerTests(ITestOutputHelper output)
{
    private const int Events = 60_000;
    private const int FlushRows = 4_000;

    [Fact]
    public async Task Every_event_ends_in_exactly_one_place_and_the_lake_proves_it()
    {
        await using var rig = await CleansingRig.CreateAsync(Events);
        var clock = Stopwatch.StartNew();
        var progress = await rig.RunToEndAsync("lake", FlushRows);
        output.WriteLine($"cleansed {progress.Consumed:N0} events in {clock.Elapsed.TotalSeconds:F1} s ({progress.Consumed / clock.Elapsed.TotalSeconds:N0}/s), {progress.BatchesCommitted} batches");
        var lakeRoot = rig.LakeRoot("lake");

        // Per partition, from the audit alone: consumed = valid + quarantined + duplicates, and the batches tile the log.
        var ends = await rig.Log.DescribeAsync();
        var audit = await CleansingRig.QueryAsync(lakeRoot,
            "SELECT source_partition, sum(consumed)::BIGINT, sum(valid)::BIGINT, sum(quarantined)::BIGINT, sum(duplicates)::BIGINT, min(first_offset), max(last_offset), count(*), " +
            "bool_and(consumed = valid + quarantined + duplicates), bool_and(consumed = last_offset - first_offset + 1) " +
            "FROM {_cleansing_batches} GROUP BY source_partition ORDER BY source_partition", "_cleansing_batches");
        Assert.Equal(CleansingRig.Partitions, audit.Count);
        foreach (var row in audit)
        {
            var partition = Convert.ToInt32(row[0]);
            Assert.Equal(ends[partition].NextOffset, (long)row[1]!);
            Assert.Equal((long)row[1]!, (long)row[2]! + (long)row[3]! + (long)row[4]!);
            Assert.Equal(0L, (long)row[5]!);
            Assert.Equal(ends[partition].NextOffset - 1, (long)row[6]!);
            Assert.True((bool)row[8]! && (bool)row[9]!, $"partition {partition}: a batch does not balance or has gaps");
        }

        var overlaps = await CleansingRig.QueryAsync(lakeRoot,
            "SELECT count(*) FROM {_cleansing_batches} a JOIN {_cleansing_batches} b ON a.source_partition = b.source_partition " +
            "AND a.first_offset < b.first_offset AND a.last_offset >= b.first_offset", "_cleansing_batches");
        Assert.Equal(0L, (long)overlaps[0][0]!);

        // In total, against the generator's own tally by kind.
        var expected = Expected(rig.Records);
        var totals = audit.Aggregate((Valid: 0L, Quarantined: 0L, Duplicates: 0L), (t, r) => (t.Valid + (long)r[2]!, t.Quarantined + (long)r[3]!, t.Duplicates + (long)r[4]!));
        Assert.Equal(Events, audit.Sum(r => (long)r[1]!));
        Assert.Equal(expected.Valid, totals.Valid);
        Assert.Equal(expected.Duplicates, totals.Duplicates);

        // Silver and quarantine hold exactly what the audit says.
        var silver = await CleansingRig.QueryAsync(lakeRoot,
            "SELECT (SELECT count(*) FROM {transactions}) + (SELECT count(*) FROM {customers}) + (SELECT count(*) FROM {accounts}) + " +
            "(SELECT count(*) FROM {loans}) + (SELECT count(*) FROM {loan_payments}), (SELECT count(*) FROM {quarantine})",
            "transactions", "customers", "accounts", "loans", "loan_payments", "quarantine");
        Assert.Equal(totals.Valid, (long)silver[0][0]!);
        Assert.Equal(totals.Quarantined, (long)silver[0][1]!);

        // Quarantine reasons match the generator's kinds (malformed_json may be either of its two reasons).
        var reasons = (await CleansingRig.QueryAsync(lakeRoot, "SELECT reason, count(*) FROM {quarantine} GROUP BY reason", "quarantine"))
            .ToDictionary(r => (string)r[0]!, r => (long)r[1]!);
        output.WriteLine("reasons: " + string.Join(", ", reasons.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key} {r.Value}")));
        foreach (var (reasonSet, count) in expected.Quarantined)
        {
            Assert.True(count == reasonSet.Sum(reasons.GetValueOrDefault), $"{string.Join("|", reasonSet)}: expected {count}, lake has {reasonSet.Sum(reasons.GetValueOrDefault)}");
        }

        Assert.Equal(expected.Quarantined.Sum(q => q.Value), reasons.Values.Sum());

        // Bronze holds every record once, byte for byte as the log does.
        var payloads = await ReadLogAsync(rig.Log);
        var bronze = await CleansingRig.QueryAsync(lakeRoot, "SELECT source_partition, source_offset, payload FROM {bronze/bank_events}", "bronze/bank_events");
        Assert.Equal(Events, bronze.Count);
        Assert.Equal(Events, bronze.Select(b => (Convert.ToInt32(b[0]), (long)b[1]!)).Distinct().Count());
        foreach (var row in bronze)
        {
            Assert.Equal(payloads[new LogPosition(Convert.ToInt32(row[0]), (long)row[1]!)], Encoding.UTF8.GetString((byte[])row[2]!));
        }

        // No transaction twice, and every row points at a real log record carrying its id.
        var transactions = await CleansingRig.QueryAsync(lakeRoot,
            "SELECT transaction_id, source_partition, source_offset FROM {transactions}", "transactions");
        Assert.Equal(transactions.Count, transactions.Select(t => (string)t[0]!).Distinct(StringComparer.Ordinal).Count());
        foreach (var row in transactions)
        {
            var position = new LogPosition(Convert.ToInt32(row[1]), (long)row[2]!);
            Assert.True(payloads.TryGetValue(position, out var payload), $"{row[0]} points at {position}, which is not in the log");
            Assert.Contains($"\"{row[0]}\"", payload, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_worker_stopped_mid_stream_and_restarted_writes_the_same_silver_as_one_uninterrupted_run()
    {
        await using var rig = await CleansingRig.CreateAsync(Events);
        await rig.RunToEndAsync("uninterrupted", FlushRows);

        // Stop after a few batches, several times, then let a last worker finish.
        for (var stop = 0; stop < 3; stop++)
        {
            using var host = rig.BuildHost("restarted", FlushRows);
            await host.StartAsync();
            var progress = host.Services.GetRequiredService<CleansingProgress>();
            var target = 2 + (stop * 3);
            while (progress.BatchesCommitted < target && !progress.IsCaughtUp)
            {
                Assert.Null(progress.Failure);
                await Task.Delay(5);
            }

            await host.StopAsync();
            output.WriteLine($"stop {stop}: {progress.BatchesCommitted} batches, lag {progress.Lag}");
        }

        await rig.RunToEndAsync("restarted", FlushRows);
        await AssertSameSilverAsync(rig.LakeRoot("uninterrupted"), rig.LakeRoot("restarted"));
    }

    [Fact]
    public async Task Files_written_without_a_commit_are_never_read_and_a_restart_still_ends_correct()
    {
        await using var rig = await CleansingRig.CreateAsync(Events / 2);
        await rig.RunToEndAsync("reference", FlushRows);

        // A worker that stops early, then "crashes" while flushing: the next batch's files land, no commit does.
        using (var host = rig.BuildHost("crashed", FlushRows))
        {
            await host.StartAsync();
            var progress = host.Services.GetRequiredService<CleansingProgress>();
            while (progress.BatchesCommitted < 2 && !progress.IsCaughtUp)
            {
                await Task.Delay(5);
            }

            await host.StopAsync();
        }

        var lake = new FolderLakeStore(rig.LakeRoot("crashed"));
        using (var table = new DeltaTable(lake, "silver/transactions"))
        {
            await table.LoadAsync();
            // Rows that would be wrong if anyone read them: copies of committed rows under new ids.
            var copies = await CleansingRig.QueryAsync(rig.LakeRoot("crashed"),
                "SELECT * REPLACE ('ORPHAN-' || transaction_id AS transaction_id) FROM {transactions} LIMIT 100", "transactions");
            var rows = new ColumnBuffer(SilverTables.Transactions);
            foreach (var copy in copies)
            {
                for (var c = 0; c < copy.Length; c++)
                {
                    AppendValue(rows, SilverTables.Transactions.Columns[c], copy[c]);
                }

                rows.EndRow();
            }

            rows.Seal();
            var adds = await new DeltaFileWriter(table, SilverTables.Transactions).WriteAsync([rows], "part-p0000-o000000099000-000000099999");
            Assert.NotEmpty(adds);
        }

        await rig.RunToEndAsync("crashed", FlushRows);
        await AssertSameSilverAsync(rig.LakeRoot("reference"), rig.LakeRoot("crashed"));
        var orphans = await CleansingRig.QueryAsync(rig.LakeRoot("crashed"), "SELECT count(*) FROM {transactions} WHERE transaction_id LIKE 'ORPHAN-%'", "transactions");
        Assert.Equal(0L, (long)orphans[0][0]!);
        using var reopened = new DeltaTable(lake, "silver/transactions");
        var found = await reopened.FindOrphansAsync(DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Contains(found, o => o.Path.Contains("part-p0000-o000000099000-000000099999", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_crash_after_the_silver_commits_but_before_the_audit_commit_replays_exactly_that_batch()
    {
        await using var rig = await CleansingRig.CreateAsync(Events / 2);
        await rig.RunToEndAsync("partial", FlushRows);

        // Take back the audit's last commit: its batch is now in silver (txn there) but not in the audit,
        // exactly what a crash between the two commits leaves. The checkpoint pointer goes too, so the
        // table loads from the JSON commits that remain.
        var log = Path.Combine(rig.LakeRoot("partial"), "silver", "_cleansing_batches", "_delta_log");
        var last = Directory.GetFiles(log, "*.json").Max(StringComparer.Ordinal)!;
        var version = Path.GetFileNameWithoutExtension(last);
        File.Delete(last);
        File.Delete(Path.Combine(log, "_last_checkpoint"));
        File.Delete(Path.Combine(log, $"{version}.checkpoint.parquet"));
        var before = await CleansingRig.QueryAsync(rig.LakeRoot("partial"), "SELECT sum(consumed)::BIGINT FROM {_cleansing_batches}", "_cleansing_batches");
        Assert.True((long)before[0][0]! < Events / 2, "the audit lost a batch");

        // More records arrive meanwhile: the replayed batch must still end where the first attempt ended,
        // or the tables that hold it would take its rows a second time under a larger txn.
        await rig.AppendAsync(Events / 4);
        await rig.RunToEndAsync("partial", FlushRows);
        await rig.RunToEndAsync("reference", FlushRows);
        await AssertSameSilverAsync(rig.LakeRoot("reference"), rig.LakeRoot("partial"));
    }

    [Fact]
    public async Task Cleansing_starts_consuming_while_a_producer_appends_without_pause()
    {
        // The log's end is found while events keep arriving (issue 21: on RabbitMQ the start-up's describe waited for a quiet moment
        // that never came). The RabbitMQ event-log tests cover that backend's describe and reader start under the same load.
        await using var rig = await CleansingRig.CreateAsync(0);
        using var stop = new CancellationTokenSource();
        long appended = 0;
        var producing = Task.Run(async () =>
        {
            await using var producer = rig.Log.CreateProducer();
            foreach (var chunk in GeneratedEvents.Records(new GeneratorOptions()).Take(2_000_000).Chunk(200))
            {
                if (stop.IsCancellationRequested)
                {
                    return;
                }

                await producer.AppendAsync([.. chunk.Select(r => new OutgoingEvent(r.Key, r.Payload, EventHeaders.Empty))]);
                Interlocked.Add(ref appended, chunk.Length);
            }
        });

        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
            while (Interlocked.Read(ref appended) < 2_000)
            {
                Assert.True(DateTime.UtcNow < deadline && !producing.IsCompleted, "The producer did not get 2,000 events out.");
                await Task.Delay(10);
            }

            using var host = rig.BuildHost("steady", FlushRows);
            await host.StartAsync();
            var progress = host.Services.GetRequiredService<CleansingProgress>();
            // A generous guard, not a speed limit: the condition is that cleansing starts at all while the producer runs.
            while (!(progress.IsStarted && progress.Consumed > 0))
            {
                Assert.Null(progress.Failure);
                Assert.True(DateTime.UtcNow < deadline, $"Cleansing did not start consuming while the producer appended ({Interlocked.Read(ref appended):N0} events so far).");
                await Task.Delay(20);
            }

            Assert.False(producing.IsCompleted, "The producer stopped before cleansing started: the test did not test a never-pausing stream.");
            output.WriteLine($"cleansing consumed {progress.Consumed:N0} while {Interlocked.Read(ref appended):N0} events were appended");
            await host.StopAsync();
        }
        finally
        {
            await stop.CancelAsync();
            await producing;
        }
    }

    internal static async Task AssertSameSilverAsync(string expectedLake, string actualLake)
    {
        // ingested_at is the worker's wall clock and legitimately differs between runs; every other column must not.
        string[] tables = ["transactions", "customers", "accounts", "loans", "loan_payments", "quarantine", "bronze/bank_events"];
        foreach (var table in tables)
        {
            var exclude = table switch
            {
                "bronze/bank_events" => "",
                "quarantine" => " EXCLUDE (ingested_at, ingest_date)",
                _ => " EXCLUDE (ingested_at)",
            };
            var sql = $"SELECT *{exclude} FROM {{{table}}} ORDER BY source_partition, source_offset";
            var expected = await CleansingRig.QueryAsync(expectedLake, sql, table);
            var actual = await CleansingRig.QueryAsync(actualLake, sql, table);
            Assert.True(expected.Count == actual.Count, $"{table}: {expected.Count} rows uninterrupted, {actual.Count} after restarts");
            for (var i = 0; i < expected.Count; i++)
            {
                Assert.Equal(expected[i], actual[i]);
            }
        }

        const string totals = "SELECT sum(consumed)::BIGINT, sum(valid)::BIGINT, sum(quarantined)::BIGINT, sum(duplicates)::BIGINT FROM {_cleansing_batches}";
        Assert.Equal((await CleansingRig.QueryAsync(expectedLake, totals, "_cleansing_batches"))[0], (await CleansingRig.QueryAsync(actualLake, totals, "_cleansing_batches"))[0]);
    }

    private static async Task<Dictionary<LogPosition, string>> ReadLogAsync(BaloyiBank.EventLog.Embedded.EmbeddedEventLog log)
    {
        var payloads = new Dictionary<LogPosition, string>();
        foreach (var partition in await log.DescribeAsync())
        {
            await using var reader = log.OpenReader(partition.Partition, StartPosition.AtOffset(0));
            while (payloads.Count(p => p.Key.Partition == partition.Partition) < partition.NextOffset)
            {
                foreach (var record in await reader.ReadAsync(10_000, TimeSpan.FromSeconds(1)))
                {
                    payloads[record.Position] = Encoding.UTF8.GetString(record.Value.Span);
                }
            }
        }

        return payloads;
    }

    private static (long Valid, long Duplicates, Dictionary<IReadOnlySet<string>, long> Quarantined) Expected(IEnumerable<GeneratedRecord> records)
    {
        long valid = 0, duplicates = 0;
        var quarantined = new Dictionary<IReadOnlySet<string>, long>(ReferenceEqualityComparer.Instance);
        var byKind = new Dictionary<EventKind, ExpectedOutcome>();
        foreach (var record in records)
        {
            if (!byKind.TryGetValue(record.Kind, out var outcome))
            {
                byKind[record.Kind] = outcome = QuarantineReasons.ForGeneratorKind(EventKinds.Name(record.Kind));
            }

            switch (outcome.Kind)
            {
                case OutcomeKind.Valid: valid++; break;
                case OutcomeKind.Duplicate: duplicates++; break;
                default: quarantined[outcome.Reasons] = quarantined.GetValueOrDefault(outcome.Reasons) + 1; break;
            }
        }

        return (valid, duplicates, quarantined);
    }

    /// <summary>A value as DuckDB.NET read it, appended to a column buffer of the column's type.</summary>
    private static void AppendValue(ColumnBuffer rows, ColumnSchema column, object? value)
    {
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        _ = value is null ? rows.AppendNull() : column.Type switch
        {
            ColumnType.String => rows.Append((string)value),
            ColumnType.Money or ColumnType.Rate => rows.Append(Convert.ToDecimal(value, invariant)),
            ColumnType.Integer => rows.Append(Convert.ToInt32(value, invariant)),
            ColumnType.Long => rows.Append(Convert.ToInt64(value, invariant)),
            ColumnType.Double => rows.Append(Convert.ToDouble(value, invariant)),
            ColumnType.Boolean => rows.Append((bool)value),
            ColumnType.Timestamp => rows.Append(value is DateTimeOffset instant ? instant : new DateTimeOffset(DateTime.SpecifyKind((DateTime)value, DateTimeKind.Utc))),
            ColumnType.Date => rows.Append(value switch
            {
                DateOnly date => date,
                DateTimeOffset instant => DateOnly.FromDateTime(instant.UtcDateTime),
                _ => DateOnly.FromDateTime((DateTime)value),
            }),
            ColumnType.Binary => rows.Append((byte[])value),
            var other => throw new NotSupportedException($"Column {column.Name} has type {other}."),
        };
    }
}
