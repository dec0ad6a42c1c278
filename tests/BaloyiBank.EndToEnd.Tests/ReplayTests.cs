using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using BaloyiBank.Delta;
using BaloyiBank.EventLog;
using BaloyiBank.EventLog.Embedded;
using BaloyiBank.Lake;
using DuckDB.NET.Data;

namespace BaloyiBank.EndToEnd.Tests;

/// <summary>
/// <c>baloyi replay --layer silver</c> on a real embedded run: the rebuilt generation equals the live one row for row
/// (checked with DuckDB, not with the replay's own diff), from the log and from bronze alike; a changed rule gives
/// exactly the expected difference; a reader polling during the switch never sees a mix of generations.
/// </summary>
[Collection(ProcessHeavy.Name)]
public sealed class ReplayTests : IDisposable
{
    private static readonly string[] Tables = ["transactions", "customers", "accounts", "loans", "loan_payments", "quarantine"];

    private readonly string _root = Directory.CreateTempSubdirectory("baloyi-replay-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Data(string name) => Path.Combine(_root, name);

    [Fact]
    public async Task Replays_from_the_log_and_from_bronze_give_silver_equal_to_the_live_one_row_for_row()
    {
        var data = Data("equal");
        await BaloyiCli.RunWithSummaryAsync(data, "--events", "30000", "--seed", "21");
        var lake = new FolderLakeStore(Path.Combine(data, "lake"));

        var dry = await BaloyiCli.RunAsync(["replay", "--layer", "silver", "--source", "bronze", "--dry-run", "--data", data]);
        Assert.True(dry.ExitCode == 0, dry.All);
        Assert.Contains("No difference: every row of the rebuild equals the live one.", dry.StdOut, StringComparison.Ordinal);
        Assert.Equal(0, (await new LakeGenerations(lake).LiveAsync("silver")).Number);

        var fromLog = await BaloyiCli.RunAsync(["replay", "--layer", "silver", "--data", data]);
        Assert.True(fromLog.ExitCode == 0, fromLog.All);
        Assert.Equal("silver/g0001", (await new LakeGenerations(lake).LiveAsync("silver")).Root);
        foreach (var table in Tables)
        {
            Assert.Equal(0, await DifferingRowsAsync(lake, $"silver/{table}", $"silver/g0001/{table}"));
        }

        var fromBronze = await BaloyiCli.RunAsync(["replay", "--layer", "silver", "--source", "bronze", "--data", data]);
        Assert.True(fromBronze.ExitCode == 0, fromBronze.All);
        Assert.Equal("silver/g0002", (await new LakeGenerations(lake).LiveAsync("silver")).Root);
        foreach (var table in Tables)
        {
            Assert.Equal(0, await DifferingRowsAsync(lake, $"silver/g0001/{table}", $"silver/g0002/{table}"));
            Assert.True(await RowCountAsync(lake, $"silver/g0002/{table}") == await RowCountAsync(lake, $"silver/{table}"), table);
        }

        // The live group's progress was handed over: a cleansing resuming on the new generation starts after the replay's end.
        using var audit = new DeltaTable(lake, "silver/g0002/_cleansing_batches");
        var snapshot = await audit.LoadAsync();
        await using var log = EmbeddedEventLog.OpenExisting(Path.Combine(data, "log"));
        foreach (var partition in await log.DescribeAsync())
        {
            Assert.Equal(partition.NextOffset - 1, snapshot.TransactionVersion($"cleansing-p{partition.Partition}"));
        }
    }

    [Fact]
    public async Task A_changed_rule_gives_exactly_the_expected_difference_and_a_reader_polling_during_the_switch_never_sees_a_mix()
    {
        var data = Data("rule");
        await BaloyiCli.RunWithSummaryAsync(data, "--events", "20000", "--seed", "22");
        // The fixture: 25 valid transactions padded past 1 KiB (an unknown property, which the rules ignore), cleansed live.
        var padded = await AppendPaddedTransactionsAsync(Path.Combine(data, "log"), 25);
        var drained = await BaloyiCli.RunAsync(["run", "--no-generator", "--data", data]);
        Assert.True(drained.ExitCode == 0, drained.All);
        var lake = new FolderLakeStore(Path.Combine(data, "lake"));
        var before = (Transactions: await RowCountAsync(lake, "silver/transactions"), Quarantine: await RowCountAsync(lake, "silver/quarantine"));
        Assert.Equal(padded, await CountWhereAsync(lake, "silver/transactions", "reference = 'replay-fixture'"));

        // The rule change: at most 1,024 bytes per payload. A dry run prints exactly those rows moving and writes nothing visible.
        var listing = await lake.ListAsync("").Select(o => o.Path).ToListAsync();
        var dry = await BaloyiCli.RunAsync(["replay", "--layer", "silver", "--dry-run", "--set", "Cleansing:MaxPayloadBytes=1024", "--data", data]);
        Assert.True(dry.ExitCode == 0, dry.All);
        Assert.Equal(listing, await lake.ListAsync("").Select(o => o.Path).ToListAsync());
        var rows = Figures(dry.StdOut);
        Assert.Equal([before.Transactions, before.Transactions - padded, 0, padded, 0], rows["transactions"]);
        Assert.Equal([before.Quarantine, before.Quarantine + padded, padded, 0, 0], rows["quarantine"]);
        Assert.Equal([0, padded, padded], rows["payload_too_large"]);
        foreach (var table in new[] { "customers", "accounts", "loans", "loan_payments" })
        {
            Assert.Equal(0, rows[table][2] + rows[table][3] + rows[table][4]);
        }

        // The real rebuild, while a reader resolves the generation and counts both tables from that one root.
        var generations = new LakeGenerations(lake);
        var seen = new List<(int Generation, long Transactions, long Quarantine)>();
        using var stop = new CancellationTokenSource();
        var reader = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var live = await generations.LiveAsync("silver");
                seen.Add((live.Number, await RowCountAsync(lake, $"{live.Root}/transactions"), await RowCountAsync(lake, $"{live.Root}/quarantine")));
            }
        });
        var replay = await BaloyiCli.RunAsync(["replay", "--layer", "silver", "--set", "Cleansing:MaxPayloadBytes=1024", "--data", data]);
        await stop.CancelAsync();
        await reader;
        Assert.True(replay.ExitCode == 0, replay.All);
        Assert.Contains(seen, s => s.Generation == 0);
        Assert.Contains(seen, s => s.Generation == 1);
        Assert.All(seen, s => Assert.Equal(s.Generation == 0 ? before : (before.Transactions - padded, before.Quarantine + padded), (s.Transactions, s.Quarantine)));
        Assert.Equal(seen.Select(s => s.Generation).Order(), seen.Select(s => s.Generation));
        Assert.Equal(padded, await CountWhereAsync(lake, "silver/g0001/quarantine", "reason = 'payload_too_large'"));
    }

    [Fact]
    public async Task A_running_cleansing_follows_the_switch_and_the_new_generation_holds_every_event_exactly_once()
    {
        var data = Data("live");
        const int Events = 40000;
        using var run = System.Diagnostics.Process.Start(BaloyiCli.StartInfo(["run", "--data", data, "--events", $"{Events}", "--rate", "3000", "--seed", "24"],
            new Dictionary<string, string> { ["Cleansing__GenerationPollInterval"] = "00:00:00.500" }))!;
        var runOutput = run.StandardOutput.ReadToEndAsync();
        var runErrors = run.StandardError.ReadToEndAsync();
        try
        {
            await ReplayWhileRunningAsync(data, run, runOutput, runErrors, Events);
        }
        finally
        {
            if (!run.HasExited)
            {
                run.Kill(entireProcessTree: true);
            }
        }
    }

    private static async Task ReplayWhileRunningAsync(string data, System.Diagnostics.Process run, Task<string> runOutput, Task<string> runErrors, int events)
    {

        // Replay once the live pipeline has committed a good part of the stream, while the generator is still producing.
        var lake = new FolderLakeStore(Path.Combine(data, "lake"));
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (await CommittedAsync(lake, "silver") < events / 4)
        {
            Assert.True(DateTime.UtcNow < deadline && !run.HasExited, "the live run did not commit a quarter of the stream in time");
            await Task.Delay(200);
        }

        var replay = await BaloyiCli.RunAsync(["replay", "--layer", "silver", "--data", data]);
        Assert.True(replay.ExitCode == 0, replay.All);
        await run.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        Assert.True(run.ExitCode == 0, await runOutput + await runErrors);
        Assert.Equal("silver/g0001", (await new LakeGenerations(lake).LiveAsync("silver")).Root);

        // The new generation's audit (the replay's batches, then the live group's after the handover) tiles every partition's
        // offsets from 0 to the log's end with no gap and no overlap, and balances.
        var audit = await RelationAsync(lake, "silver/g0001/_cleansing_batches");
        Assert.Equal(events, await ScalarAsync($"SELECT sum(consumed) FROM {audit}"));
        Assert.Equal(events, await ScalarAsync($"SELECT sum(valid + quarantined + duplicates) FROM {audit}"));
        Assert.Equal(0, await ScalarAsync(
            $"SELECT count(*) FROM (SELECT first_offset, lag(last_offset, 1, -1) OVER (PARTITION BY source_partition ORDER BY first_offset) AS previous FROM {audit}) WHERE first_offset <> previous + 1"));
        Assert.Equal(2, await ScalarAsync($"SELECT count(DISTINCT consumer_group) FROM {audit}"));
        long silverRows = 0;
        foreach (var table in Tables.Where(t => t != "quarantine"))
        {
            silverRows += await RowCountAsync(lake, $"silver/g0001/{table}");
            var relation = await RelationAsync(lake, $"silver/g0001/{table}");
            Assert.Equal(0, await ScalarAsync($"SELECT count(*) - count(DISTINCT (source_partition, source_offset)) FROM {relation}"));
        }

        Assert.Equal(await ScalarAsync($"SELECT sum(valid) FROM {audit}"), silverRows);

        // And it is what a rebuild from the log gives now.
        var check = await BaloyiCli.RunAsync(["replay", "--layer", "silver", "--dry-run", "--data", data]);
        Assert.True(check.ExitCode == 0, check.All);
        Assert.Contains("No difference: every row of the rebuild equals the live one.", check.StdOut, StringComparison.Ordinal);
    }

    private static readonly string[] GoldTablesNames = ["account_balances", "customer_positions", "daily_transaction_summary", "loan_status"];

    [Fact]
    public async Task Replaying_gold_gives_gold_equal_to_the_live_one_row_for_row_and_the_warehouse_keeps_every_row()
    {
        var data = Data("gold-equal");
        await BaloyiCli.RunWithSummaryAsync(data, "--events", "20000", "--seed", "31");
        var lake = new FolderLakeStore(Path.Combine(data, "lake"));
        var warehouseBefore = WarehouseRows(data, "before");

        // A dry run writes nothing visible and finds no difference.
        var listing = await lake.ListAsync("").Select(o => o.Path).ToListAsync();
        var dry = await BaloyiCli.RunAsync(["replay", "--layer", "gold", "--dry-run", "--data", data]);
        Assert.True(dry.ExitCode == 0, dry.All);
        Assert.Contains("No difference: every row of the rebuild equals the live one.", dry.StdOut, StringComparison.Ordinal);
        Assert.Equal(listing, await lake.ListAsync("").Select(o => o.Path).ToListAsync());

        var replay = await BaloyiCli.RunAsync(["replay", "--layer", "gold", "--data", data]);
        Assert.True(replay.ExitCode == 0, replay.All);
        Assert.Contains("No difference: every row of the rebuild equals the live one.", replay.StdOut, StringComparison.Ordinal);
        Assert.Equal("gold/g0001", (await new LakeGenerations(lake).LiveAsync("gold")).Root);
        // The independent reader: each current-state table of the new generation equals the old one row for row (lineage aside).
        foreach (var table in GoldTablesNames)
        {
            Assert.Equal(0, GoldDifference(Path.Combine(data, "lake", "gold", table), Path.Combine(data, "lake", "gold", "g0001", table)));
        }

        // The pipeline again (no new events): the aggregator takes the new generation over, the sink reconciles once.
        var drained = await BaloyiCli.RunAsync(["run", "--no-generator", "--data", data]);
        Assert.True(drained.ExitCode == 0, drained.All);
        var verify = await BaloyiCli.RunAsync(["verify", "--data", data], timeout: TimeSpan.FromMinutes(10));
        Assert.True(verify.ExitCode == 0, verify.All);
        var warehouseAfter = WarehouseRows(data, "after");
        foreach (var table in GoldTablesNames)
        {
            Assert.Equal(0, ParquetDifference(warehouseBefore[table], warehouseAfter[table]));
        }

        Assert.Equal(1, WarehouseScalar(data, "SELECT watermark FROM baloyi._warehouse_watermarks WHERE table_name = 'source_generation'"));
    }

    [Fact]
    public async Task After_a_silver_replay_with_a_tighter_rule_gold_and_the_warehouse_follow_and_keys_only_the_dropped_events_made_are_gone()
    {
        var data = Data("gold-follow");
        await BaloyiCli.RunWithSummaryAsync(data, "--events", "20000", "--seed", "32");
        // The fixture: 25 valid transactions padded past 1 KiB, in a city of their own (new daily summary keys), cleansed live.
        var padded = await AppendPaddedTransactionsAsync(Path.Combine(data, "log"), 25, city: "Replay Fixture City");
        var drained = await BaloyiCli.RunAsync(["run", "--no-generator", "--data", data]);
        Assert.True(drained.ExitCode == 0, drained.All);
        const string FixtureRows = "SELECT count(*) FROM baloyi.daily_transaction_summary WHERE city = 'Replay Fixture City'";
        Assert.True(WarehouseScalar(data, FixtureRows) > 0, "the fixture's city should be in the warehouse");
        var transactions = WarehouseScalar(data, "SELECT sum(transaction_count) FROM baloyi.account_balances");

        // The tighter rule drops the fixture from silver; the aggregator (next run) rebuilds gold from it and the sink reconciles.
        var replay = await BaloyiCli.RunAsync(["replay", "--layer", "silver", "--set", "Cleansing:MaxPayloadBytes=1024", "--data", data]);
        Assert.True(replay.ExitCode == 0, replay.All);
        var lake = new FolderLakeStore(Path.Combine(data, "lake"));
        var after = await BaloyiCli.RunAsync(["run", "--no-generator", "--data", data]);
        Assert.True(after.ExitCode == 0, after.All);
        // The worker rebuilds as soon as it sees the switch; a rebuild the run's stop interrupted is redone after it (a later number).
        var gold = await new LakeGenerations(lake).LiveAsync("gold");
        Assert.True(gold.Number >= 1, after.All);
        Assert.Contains("\"silverRoot\":\"silver/g0001\"", File.ReadAllText(Path.Combine(data, "lake", gold.Root, "_source.json")), StringComparison.Ordinal);

        Assert.Equal(0, WarehouseScalar(data, FixtureRows));
        Assert.Equal(transactions - padded, WarehouseScalar(data, "SELECT sum(transaction_count) FROM baloyi.account_balances"));
        var verify = await BaloyiCli.RunAsync(["verify", "--data", data], timeout: TimeSpan.FromMinutes(10));
        Assert.True(verify.ExitCode == 0, verify.All);
    }

    /// <summary>Rows of two gold current-state tables that differ on any column but the lineage ones, both ways (GoldInspector, not the services' code).</summary>
    private static long GoldDifference(string left, string right)
    {
        using var connection = GoldInspector.Open();
        var (a, b) = (GoldInspector.From(left), GoldInspector.From(right));
        const string Exclude = "EXCLUDE (gold_version, updated_at)";
        return GoldInspector.Scalar(connection,
            $"SELECT count(*) FROM ((SELECT * {Exclude} FROM {a} EXCEPT ALL SELECT * {Exclude} FROM {b}) UNION ALL (SELECT * {Exclude} FROM {b} EXCEPT ALL SELECT * {Exclude} FROM {a}))");
    }

    /// <summary>Each warehouse table's rows without the lineage columns, copied to a Parquet file (the warehouse file is opened read-only).</summary>
    private static Dictionary<string, string> WarehouseRows(string data, string name)
    {
        var files = new Dictionary<string, string>();
        using var connection = GoldInspector.Open();
        using (var attach = connection.CreateCommand())
        {
            attach.CommandText = $"ATTACH '{Path.Combine(data, "warehouse.duckdb")}' AS w (READ_ONLY)";
            attach.ExecuteNonQuery();
        }

        foreach (var table in GoldTablesNames)
        {
            var file = Path.Combine(data, $"warehouse-{name}-{table}.parquet");
            using var copy = connection.CreateCommand();
            copy.CommandText = $"COPY (SELECT * EXCLUDE (gold_version, updated_at) FROM w.baloyi.{table}) TO '{file}' (FORMAT parquet)";
            copy.ExecuteNonQuery();
            files[table] = file;
        }

        return files;
    }

    private static long ParquetDifference(string left, string right)
    {
        using var connection = GoldInspector.Open();
        return GoldInspector.Scalar(connection,
            $"SELECT count(*) FROM ((SELECT * FROM '{left}' EXCEPT ALL SELECT * FROM '{right}') UNION ALL (SELECT * FROM '{right}' EXCEPT ALL SELECT * FROM '{left}'))");
    }

    private static long WarehouseScalar(string data, string sql)
    {
        using var connection = new DuckDBConnection($"Data Source={Path.Combine(data, "warehouse.duckdb")};ACCESS_MODE=READ_ONLY");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        var value = command.ExecuteScalar();
        return value is System.Numerics.BigInteger big ? (long)big : Convert.ToInt64(value, CultureInfo.InvariantCulture);
    }

    /// <summary>Events the live consumer group committed to the live generation so far (its audit's consumed).</summary>
    private static async Task<long> CommittedAsync(ILakeStore lake, string root)
    {
        using var table = new DeltaTable(lake, $"{root}/_cleansing_batches");
        if (await table.TryLoadAsync() is not { } snapshot || snapshot.Files.Count == 0)
        {
            return 0;
        }

        return await ScalarAsync($"SELECT coalesce(sum(consumed), 0) FROM {(await table.GetReadSetAsync(snapshot)).ToSql()}");
    }

    /// <summary>Appends copies of the log's last transaction of each partition with a new id, a marker reference and 1.2 KB of padding.</summary>
    private static async Task<int> AppendPaddedTransactionsAsync(string logFolder, int count, string? city = null)
    {
        await using var log = EmbeddedEventLog.OpenExisting(logFolder);
        var templates = new List<LogRecord>();
        foreach (var partition in await log.DescribeAsync())
        {
            await using var partitionReader = log.OpenReader(partition.Partition, StartPosition.AtOffset(Math.Max(partition.FirstOffset, partition.NextOffset - 500)));
            var records = await partitionReader.ReadAsync(500, TimeSpan.FromSeconds(1));
            templates.AddRange(records.Where(r => Encoding.UTF8.GetString(r.Value.Span).StartsWith("{\"type\":\"transaction.posted\"", StringComparison.Ordinal)).TakeLast(4));
        }

        List<OutgoingEvent> events = [];
        for (var i = 0; i < count; i++)
        {
            var template = templates[i % templates.Count];
            var payload = JsonNode.Parse(template.Value.Span)!.AsObject();
            payload["transactionId"] = $"replay-fixture-{i:D4}";
            payload["reference"] = "replay-fixture";
            payload["padding"] = new string('x', 1200);
            if (city is not null)
            {
                Assert.True(payload["location"] is JsonObject, "a transaction.posted payload should carry a location object");
                payload["location"]!["city"] = city;
            }

            events.Add(new OutgoingEvent(template.Key, Encoding.UTF8.GetBytes(payload.ToJsonString()), EventHeaders.Empty));
        }

        await using var producer = log.CreateProducer();
        await producer.AppendAsync(events);
        return count;
    }

    /// <summary>The replay's printed figures: table → before, after, added, removed, changed; reason → before, after, difference.</summary>
    private static Dictionary<string, long[]> Figures(string output)
    {
        var figures = new Dictionary<string, long[]>();
        foreach (var line in output.Split('\n').Select(l => l.Trim()))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length is 4 or 6 && parts.Skip(1).All(p => long.TryParse(p, NumberStyles.AllowThousands | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)))
            {
                figures[parts[0]] = [.. parts.Skip(1).Select(p => long.Parse(p, NumberStyles.AllowThousands | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture))];
            }
        }

        return figures;
    }

    private static async Task<long> RowCountAsync(ILakeStore lake, string path)
    {
        using var table = new DeltaTable(lake, path);
        return (await table.LoadAsync()).RecordCount;
    }

    private static async Task<long> CountWhereAsync(ILakeStore lake, string path, string condition)
    {
        var relation = await RelationAsync(lake, path);
        return await ScalarAsync($"SELECT count(*) FROM {relation} WHERE {condition}");
    }

    /// <summary>Rows in one table and not the other, both ways, over every column but the wall-clock ones (DuckDB, not the replay's code).</summary>
    private static async Task<long> DifferingRowsAsync(ILakeStore lake, string left, string right)
    {
        var (a, b) = (await RelationAsync(lake, left), await RelationAsync(lake, right));
        var exclude = left.EndsWith("quarantine", StringComparison.Ordinal) ? "EXCLUDE (ingested_at, ingest_date)" : "EXCLUDE (ingested_at)";
        return await ScalarAsync(
            $"SELECT count(*) FROM ((SELECT * {exclude} FROM {a} EXCEPT ALL SELECT * {exclude} FROM {b}) UNION ALL (SELECT * {exclude} FROM {b} EXCEPT ALL SELECT * {exclude} FROM {a}))");
    }

    private static async Task<string> RelationAsync(ILakeStore lake, string path)
    {
        using var table = new DeltaTable(lake, path);
        var snapshot = await table.LoadAsync();
        return (await table.GetReadSetAsync(snapshot)).ToSql();
    }

    private static Task<long> ScalarAsync(string sql)
    {
        using var connection = new DuckDBConnection(DuckDBConnectionStringBuilder.InMemoryConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        // sum() over BIGINT is a HUGEINT, which the driver returns as a BigInteger.
        var value = command.ExecuteScalar();
        return Task.FromResult(value is System.Numerics.BigInteger big ? (long)big : Convert.ToInt64(value, CultureInfo.InvariantCulture));
    }
}
