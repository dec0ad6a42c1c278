using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using BaloyiBank.Bus;
using BaloyiBank.Contracts.Control;
using BaloyiBank.Delta;
using BaloyiBank.EventLog;
using BaloyiBank.Lake;
using DuckDB.NET.Data;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace BaloyiBank.Cleansing.Tests.Worker;

/// <summary>
/// The silver table the worker writes, checked against the Delta protocol from the raw bytes of its log, read
/// back through its snapshot with DuckDB, and announced on the control bus commit by commit.
/// </summary>
public sealed class SilverConformanceTests
{
    private const int Events = 80_000;

    [Fact]
    public async Task The_silver_log_follows_the_protocol_and_its_snapshot_reads_back_exactly_the_cleansed_rows_and_each_commit_is_announced()
    {
        await using var rig = await CleansingRig.CreateAsync(Events);
        var announced = new ConcurrentQueue<SilverBatchCommitted>();
        // Small flushes: well over ten commits, so the table has a checkpoint.
        var progress = await rig.RunToEndAsync("lake", 500, configure: services =>
        {
            services.AddSingleton(announced);
            services.AddControlBus(new ConfigurationBuilder().Build(), bus => bus.AddConsumer<Announcements>());
        });
        Assert.Equal(Events, progress.Consumed);

        var lakeRoot = rig.LakeRoot("lake");
        var log = Path.Combine(lakeRoot, "silver/transactions/_delta_log");
        var commits = Directory.GetFiles(log, "*.json").Order(StringComparer.Ordinal).ToList();
        Assert.True(commits.Count > 10, $"only {commits.Count} commits");
        var partitionsSeen = new HashSet<int>();
        for (var version = 0; version < commits.Count; version++)
        {
            Assert.Equal($"{version:D20}.json", Path.GetFileName(commits[version]));
            var actions = File.ReadAllLines(commits[version]).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            var kinds = actions.Select(a => a.EnumerateObject().Single().Name).ToList();
            Assert.Equal("commitInfo", kinds[0]);
            if (version == 0)
            {
                Assert.Equal(["commitInfo", "protocol", "metaData"], kinds);
                var protocol = actions[1].GetProperty("protocol");
                Assert.Equal(1, protocol.GetProperty("minReaderVersion").GetInt32());
                Assert.Equal(2, protocol.GetProperty("minWriterVersion").GetInt32());
                var metadata = actions[2].GetProperty("metaData");
                Assert.Equal(["event_date"], metadata.GetProperty("partitionColumns").EnumerateArray().Select(c => c.GetString()));
                Assert.Equal(SilverTables.Transactions.Columns, DeltaSchema.Parse(metadata.GetProperty("schemaString").GetString()!, "transactions", ["event_date"]).Columns);
                continue;
            }

            Assert.All(kinds, k => Assert.Contains(k, new[] { "commitInfo", "txn", "add" }));
            // One txn per partition in the flush, each naming the partition's last offset.
            foreach (var txn in actions.Where(a => a.TryGetProperty("txn", out _)).Select(a => a.GetProperty("txn")))
            {
                var appId = txn.GetProperty("appId").GetString()!;
                Assert.Matches("^cleansing-p[0-9]+$", appId);
                partitionsSeen.Add(int.Parse(appId["cleansing-p".Length..], CultureInfo.InvariantCulture));
                Assert.True(txn.GetProperty("version").GetInt64() >= 0);
                Assert.Equal(JsonValueKind.Number, txn.GetProperty("lastUpdated").ValueKind);
            }

            Assert.Contains("txn", kinds);
            foreach (var add in actions.Where(a => a.TryGetProperty("add", out _)).Select(a => a.GetProperty("add")))
            {
                var path = add.GetProperty("path").GetString()!;
                Assert.Matches(@"^event_date=\d{4}-\d{2}-\d{2}/part-(p\d{4}-o\d{12}-\d{12}|m\d{2}-[0-9a-f]{16})\.zstd\.parquet$", path);
                Assert.StartsWith($"event_date={add.GetProperty("partitionValues").GetProperty("event_date").GetString()}/", path, StringComparison.Ordinal);
                Assert.True(add.GetProperty("size").GetInt64() > 0);
                Assert.Equal(JsonValueKind.True, add.GetProperty("dataChange").ValueKind);
                using var stats = JsonDocument.Parse(add.GetProperty("stats").GetString()!);
                var records = stats.RootElement.GetProperty("numRecords").GetInt64();
                Assert.True(records > 0);
                var nulls = stats.RootElement.GetProperty("nullCount");
                Assert.Equal(SilverTables.Transactions.Columns.Count - 1, nulls.EnumerateObject().Count());
                Assert.Equal(0, nulls.GetProperty("amount").GetInt64());
                Assert.True(stats.RootElement.GetProperty("minValues").GetProperty("amount").GetDecimal()
                    <= stats.RootElement.GetProperty("maxValues").GetProperty("amount").GetDecimal());
            }
        }

        Assert.Equal(Enumerable.Range(0, CleansingRig.Partitions), partitionsSeen.Order());

        // The checkpoint: Parquet with the required columns, as _last_checkpoint says.
        using var last = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(log, "_last_checkpoint")));
        var checkpointVersion = last.RootElement.GetProperty("version").GetInt64();
        var checkpoint = Path.Combine(log, $"{checkpointVersion:D20}.checkpoint.parquet");
        // DuckDB.NET reads what cleansing wrote: independent of the DuckDB that wrote it.
        using var connection = new DuckDBConnection(DuckDBConnectionStringBuilder.InMemoryConnectionString);
        connection.Open();
        Assert.Equal(["add", "metaData", "protocol", "remove", "txn"],
            Rows(connection, $"SELECT name FROM parquet_schema('{checkpoint}') WHERE name IN ('txn','add','remove','metaData','protocol') ORDER BY name", r => r.GetString(0)));
        Assert.Equal(last.RootElement.GetProperty("size").GetInt64(), Rows(connection, $"SELECT count(*) FROM read_parquet('{checkpoint}')", r => r.GetInt64(0)).Single());

        // Read-back: DuckDB over the files the current snapshot names returns exactly the rows the cleanser
        // makes of the log, partition by partition in offset order (the same rules run without batching).
        var expected = new List<string>();
        await foreach (var (_, row) in ReadLogAsync(rig.Log))
        {
            expected.Add(row);
        }

        var lake = new FolderLakeStore(lakeRoot);
        using var table = new DeltaTable(lake, "silver/transactions");
        var snapshot = await table.LoadAsync();
        var readSet = await table.GetReadSetAsync(snapshot);
        var actual = Rows(connection,
                $"SELECT transaction_id, account_id, amount::VARCHAR, currency, occurred_at, source_partition, source_offset FROM {readSet.ToSql()}",
                r => string.Join('|', r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3),
                    r.GetFieldValue<DateTimeOffset>(4).ToString("O", CultureInfo.InvariantCulture), r.GetInt32(5), r.GetInt64(6)))
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected.Count, snapshot.RecordCount);
        Assert.Equal(expected.Order(StringComparer.Ordinal), actual);

        // Announcements: one per partition batch and committed silver table, naming real versions and ranges.
        var messages = announced.Where(m => m.Table == "silver/transactions").ToList();
        Assert.NotEmpty(messages);
        Assert.All(messages, m => Assert.InRange(m.TableVersion, 1, snapshot.Version));
        Assert.All(messages, m => Assert.True(m.FirstOffset <= m.LastOffset));
        // Each names a batch the audit table holds (the last messages may still be on the bus when the host stops).
        var batches = (await CleansingRig.QueryAsync(lakeRoot, "SELECT source_partition, first_offset, last_offset FROM {_cleansing_batches}", "_cleansing_batches"))
            .Select(r => (Convert.ToInt32(r[0], CultureInfo.InvariantCulture), (long)r[1]!, (long)r[2]!)).ToHashSet();
        Assert.All(messages, m => Assert.Contains((m.Partition, m.FirstOffset, m.LastOffset), batches));
        Assert.All(messages, m => Assert.True(m.LastOffset <= snapshot.TransactionVersion($"cleansing-p{m.Partition}")));
    }

    /// <summary>Every valid transaction the cleanser makes of the log, replayed per partition without batching.</summary>
    private static List<T> Rows<T>(DuckDBConnection connection, string sql, Func<DuckDBDataReader, T> read)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        List<T> rows = [];
        while (reader.Read())
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    private static async IAsyncEnumerable<(int Partition, string Row)> ReadLogAsync(EventLog.Embedded.EmbeddedEventLog log)
    {
        var cleanser = new RawEventCleanser();
        for (var partition = 0; partition < log.PartitionCount; partition++)
        {
            var state = new PartitionState(partition);
            await using var reader = log.OpenReader(partition, StartPosition.Earliest);
            while (true)
            {
                var records = await reader.ReadAsync(10_000, TimeSpan.Zero);
                if (records.Count == 0)
                {
                    break;
                }

                foreach (var record in records)
                {
                    var outcome = cleanser.Process(new RawEvent(partition, record.Offset, record.EnqueuedAt, record.EnqueuedAt, record.Value.Span), state);
                    if (outcome.Row is TransactionRow t)
                    {
                        yield return (partition, string.Join('|', t.TransactionId, t.AccountId, t.Amount.ToString("0.00", CultureInfo.InvariantCulture), t.Currency,
                            t.OccurredAt.ToString("O", CultureInfo.InvariantCulture), partition, record.Offset));
                    }
                }
            }
        }
    }

    public sealed class Announcements(ConcurrentQueue<SilverBatchCommitted> sink) : IConsumer<SilverBatchCommitted>
    {
        public Task Consume(ConsumeContext<SilverBatchCommitted> context)
        {
            sink.Enqueue(context.Message);
            return Task.CompletedTask;
        }
    }
}
