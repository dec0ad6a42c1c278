using System.Diagnostics;
using System.Globalization;
using BaloyiBank.Cleansing;
using BaloyiBank.Delta;
using BaloyiBank.DuckDb;
using BaloyiBank.Lake;

namespace BaloyiBank.Aggregator;

/// <summary>Figures of one benchmark run (see <see cref="AggregatorBenchmark"/>).</summary>
public sealed record AggregatorBenchmarkResult
{
    public required long SilverRows { get; init; }
    public required int Accounts { get; init; }
    public required int SilverFiles { get; init; }
    /// <summary>
    /// Facts folded one by one in memory, per second (no I/O, no Parquet decoding): each fact's account id and daily key
    /// are looked up as strings (dictionary-encoded) and then folded.
    /// </summary>
    public required double FoldRowsPerSecond { get; init; }
    /// <summary>
    /// The fold's hot loop alone: the same transactions already dictionary-encoded (<see cref="EncodedTransaction"/>: slot
    /// integers, cents, microseconds) folded as one batch, per second (no I/O, no decoding, no string lookup).
    /// </summary>
    public required double EncodedFoldRowsPerSecond { get; init; }
    /// <summary>Process CPU time of the encoded fold.</summary>
    public required TimeSpan EncodedFoldCpu { get; init; }
    public double EncodedFoldRowsPerCpuSecond => FoldRows / EncodedFoldCpu.TotalSeconds;
    /// <summary>Process CPU time (user + system) spent folding; on a shared machine rows per CPU second is the steadier figure.</summary>
    public required TimeSpan FoldCpu { get; init; }
    public required long FoldRows { get; init; }
    public double FoldRowsPerCpuSecond => FoldRows / FoldCpu.TotalSeconds;
    /// <summary>Managed bytes per account held by a fold of one transaction per account.</summary>
    public required double BytesPerAccount { get; init; }
    /// <summary>Gold rebuilt from the silver Parquet files: read, fold, commit every gold table.</summary>
    public required TimeSpan Rebuild { get; init; }
    /// <summary>Process CPU time (all threads, DuckDB's included) of the rebuild.</summary>
    public required TimeSpan RebuildCpu { get; init; }
    /// <summary>DuckDB computing the same account balances with one GROUP BY over the same files.</summary>
    public required TimeSpan DuckDbGroupBy { get; init; }
    /// <summary>Process CPU time of DuckDB's GROUP BY.</summary>
    public required TimeSpan DuckDbGroupByCpu { get; init; }
    public double RebuildToDuckDbCpuRatio => RebuildCpu.TotalSeconds / DuckDbGroupByCpu.TotalSeconds;
    public double RebuildRowsPerSecond => SilverRows / Rebuild.TotalSeconds;
    public double RebuildToDuckDbRatio => Rebuild.TotalSeconds / DuckDbGroupBy.TotalSeconds;
    /// <summary>
    /// DuckDB computing every column account_balances derives from transactions (count, credits, debits, balance, first and
    /// last transaction time, partition, last offset) with one GROUP BY over the same files: the strict reading of "the same
    /// account balances" is the one-sum <see cref="DuckDbGroupBy"/>, this is the whole row gold holds.
    /// </summary>
    public required TimeSpan DuckDbAccountRows { get; init; }
    public required TimeSpan DuckDbAccountRowsCpu { get; init; }
    public double RebuildToDuckDbAccountRowsRatio => Rebuild.TotalSeconds / DuckDbAccountRows.TotalSeconds;
    public double RebuildToDuckDbAccountRowsCpuRatio => RebuildCpu.TotalSeconds / DuckDbAccountRowsCpu.TotalSeconds;
    /// <summary>A new aggregator starting on the rebuilt gold (what a restart after a crash costs before catch-up).</summary>
    public required TimeSpan Restart { get; init; }
    /// <summary>The first live round (<see cref="AggregatorBenchmark.LiveRoundRows"/> rows on an existing date) after the restart: it restores that date's pairs first.</summary>
    public required TimeSpan FirstRoundAfterRestart { get; init; }
    /// <summary>The next live round of as many rows on the same date (its pairs now in memory).</summary>
    public required TimeSpan SecondRoundAfterRestart { get; init; }
    /// <summary>Accounts whose rebuilt gold balance differs from DuckDB's (must be 0).</summary>
    public required long BalanceMismatches { get; init; }
}

/// <summary>
/// The aggregator's benchmark, for <c>baloyi bench</c>: synthetic silver transactions (DuckDB-generated, written as
/// a Delta table of zstd Parquet files), then in the same run (1) the in-memory fold's throughput, (2) a full gold
/// rebuild from those files, and (3) DuckDB's one GROUP BY of the same account balances over the same files.
/// </summary>
public static class AggregatorBenchmark
{
    /// <summary>Rows of each live round after the restart.</summary>
    public const int LiveRoundRows = 50_000;

    public static async Task<AggregatorBenchmarkResult> RunAsync(string workFolder, long rows = 10_000_000, int accounts = 1_000_000, int foldRows = 5_000_000, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(workFolder);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(accounts, 1);
        var lake = new FolderLakeStore(Path.Combine(workFolder, "lake"));
        using var database = DuckDbDatabase.Open(null);
        var files = await WriteSilverAsync(lake, database, rows, accounts, cancellationToken).ConfigureAwait(false);

        var (foldRate, foldCpu, encodedRate, encodedCpu, bytesPerAccount) = MeasureFold(Math.Max(1, foldRows), accounts);

        var options = new AggregatorOptions { GoldRoot = $"gold_{Guid.NewGuid():N}" };
        var cpu = CpuTime();
        var clock = Stopwatch.StartNew();
        using var aggregator = new GoldAggregator(lake, options, database);
        await aggregator.StartAsync(cancellationToken).ConfigureAwait(false);
        await aggregator.CatchUpAsync(cancellationToken).ConfigureAwait(false);
        var rebuild = clock.Elapsed;
        var rebuildCpu = CpuTime() - cpu;

        using var connection = database.Connect();
        // The baseline runs on DuckDB.NET, apart from the hot path's database that writes the synthetic silver.
        using var duck = DuckDbSql.Open();
        using var silver = new DeltaTable(lake, "silver/transactions", new DeltaTableOptions { Database = database });
        var from = (await silver.GetReadSetAsync(await silver.LoadAsync(cancellationToken).ConfigureAwait(false), cancellationToken: cancellationToken).ConfigureAwait(false)).ToSql();
        cpu = CpuTime();
        clock.Restart();
        duck.Execute($"CREATE OR REPLACE TEMP TABLE bench_duckdb AS SELECT account_id, sum(signed_amount) AS balance FROM {from} GROUP BY account_id");
        var duckDb = clock.Elapsed;
        var duckDbCpu = CpuTime() - cpu;
        cpu = CpuTime();
        clock.Restart();
        duck.Execute(
            "CREATE OR REPLACE TEMP TABLE bench_duckdb_rows AS SELECT account_id, count(*) AS transaction_count, " +
            "sum(CASE WHEN direction = 'credit' THEN amount ELSE 0 END) AS total_credits, sum(CASE WHEN direction = 'credit' THEN 0 ELSE amount END) AS total_debits, " +
            "sum(signed_amount) AS balance, min(occurred_at) AS first_transaction_at, max(occurred_at) AS last_transaction_at, " +
            $"min(source_partition) AS source_partition, max(source_offset) AS last_source_offset FROM {from} GROUP BY account_id");
        var duckDbRows = clock.Elapsed;
        var duckDbRowsCpu = CpuTime() - cpu;
        duck.Execute("DROP TABLE bench_duckdb_rows");

        clock.Restart();
        using var restarted = new GoldAggregator(lake, options, database);
        await restarted.StartAsync(cancellationToken).ConfigureAwait(false);
        var restart = clock.Elapsed;

        // What the restart deferred: the first live round after it restores the (bucket, account) pairs of the date it adds
        // to; a second round on the same date does not. Both add LiveRoundRows more rows to the last date.
        var liveRounds = new TimeSpan[2];
        using (var table = new DeltaTable(lake, "silver/transactions", new DeltaTableOptions { Database = database }))
        {
            var snapshot = await table.LoadAsync(cancellationToken).ConfigureAwait(false);
            for (var round = 0; round < liveRounds.Length; round++)
            {
                var first = rows + (round * LiveRoundRows);
                (_, snapshot) = await AppendSilverAsync(table, snapshot, connection, first, first + LiveRoundRows - 1, rows, LiveRoundRows * (round + 1), accounts, cancellationToken).ConfigureAwait(false);
                clock.Restart();
                _ = await restarted.RunRoundAsync(cancellationToken).ConfigureAwait(false) ?? throw new InvalidOperationException("The live round after the restart folded nothing.");
                liveRounds[round] = clock.Elapsed;
            }
        }

        // The two answers must agree, or the timing compares different work.
        duck.Execute(
            "CREATE OR REPLACE TEMP TABLE bench_gold (account_id VARCHAR, balance DECIMAL(18,2))");
        using (var appender = duck.CreateAppender("bench_gold"))
        {
            foreach (var row in aggregator.Fold.AccountBalances())
            {
                appender.CreateRow().AppendValue(row.AccountId).AppendValue(row.Balance).EndRow();
            }
        }

        var mismatches = duck.Scalar<long>(
            "SELECT count(*) FROM bench_duckdb d FULL OUTER JOIN bench_gold g USING (account_id) WHERE d.balance IS DISTINCT FROM g.balance");
        duck.Execute("DROP TABLE bench_duckdb");
        duck.Execute("DROP TABLE bench_gold");
        return new AggregatorBenchmarkResult
        {
            SilverRows = rows,
            Accounts = accounts,
            SilverFiles = files,
            FoldRowsPerSecond = foldRate,
            FoldCpu = foldCpu,
            EncodedFoldRowsPerSecond = encodedRate,
            EncodedFoldCpu = encodedCpu,
            FoldRows = Math.Max(1, foldRows),
            RebuildCpu = rebuildCpu,
            DuckDbGroupByCpu = duckDbCpu,
            BytesPerAccount = bytesPerAccount,
            Rebuild = rebuild,
            DuckDbGroupBy = duckDb,
            DuckDbAccountRows = duckDbRows,
            DuckDbAccountRowsCpu = duckDbRowsCpu,
            Restart = restart,
            FirstRoundAfterRestart = liveRounds[0],
            SecondRoundAfterRestart = liveRounds[1],
            BalanceMismatches = mismatches,
        };
    }

    /// <summary>Silver transactions over 30 days: uniform accounts, five types, three currencies by account, 40 cities.</summary>
    private static async Task<int> WriteSilverAsync(ILakeStore lake, DuckDbDatabase database, long rows, int accounts, CancellationToken cancellationToken)
    {
        using var table = new DeltaTable(lake, "silver/transactions", new DeltaTableOptions { Database = database });
        var snapshot = await table.CreateAsync(SilverTables.Transactions, cancellationToken: cancellationToken).ConfigureAwait(false);
        using var connection = database.Connect();
        const long chunk = 2_000_000;
        var files = 0;
        for (long first = 0; first < rows; first += chunk)
        {
            (var added, snapshot) = await AppendSilverAsync(table, snapshot, connection, first, Math.Min(rows, first + chunk) - 1, rows, 0, accounts, cancellationToken).ConfigureAwait(false);
            files += added;
        }

        return files;
    }

    /// <summary>
    /// Silver rows <paramref name="first"/>..<paramref name="last"/> (offsets and ids), timed as row i − <paramref name="shift"/>
    /// of <paramref name="rows"/> spread over 30 days, committed as one silver version.
    /// </summary>
    private static async Task<(int Files, DeltaSnapshot Snapshot)> AppendSilverAsync(
        DeltaTable table, DeltaSnapshot snapshot, DuckDbConnection connection, long first, long last, long rows, long shift, int accounts, CancellationToken cancellationToken)
    {
        connection.Execute(string.Create(CultureInfo.InvariantCulture, $"""
            CREATE OR REPLACE TEMP TABLE bench_silver AS
            SELECT 'TXN-' || i AS transaction_id, 'EVT-' || i AS event_id, 'ACC-' || lpad(CAST(a AS VARCHAR), 8, '0') AS account_id,
                   'CUS-' || CAST(a // 2 AS VARCHAR) AS customer_id, tt AS transaction_type,
                   CASE WHEN tt IN ('deposit', 'transfer_in') THEN 'credit' ELSE 'debit' END AS direction,
                   CAST(amt AS DECIMAL(18,2)) AS amount,
                   CAST(CASE WHEN tt IN ('deposit', 'transfer_in') THEN amt ELSE -amt END AS DECIMAL(18,2)) AS signed_amount,
                   ['ZAR', 'USD', 'EUR'][1 + a % 3] AS currency, 'card' AS channel,
                   CASE WHEN tt = 'card_purchase' THEN ['groceries', 'fuel', 'travel', 'health'][1 + CAST(hash(i, 1) % 4 AS INTEGER)] END AS merchant_category,
                   NULL::VARCHAR AS merchant_name, NULL::VARCHAR AS counterparty, NULL::VARCHAR AS reference,
                   'City' || CAST(hash(i, 2) % 40 AS VARCHAR) AS city, 'ZA' AS country, -26.2 AS latitude, 28.0 AS longitude,
                   ts AS occurred_at, CAST(ts AS DATE) AS event_date,
                   CAST(a % 8 AS INTEGER) AS source_partition, i AS source_offset, ts AS enqueued_at, ts AS ingested_at, 1 AS schema_version
            FROM (SELECT i, CAST(hash(i, 0) % {accounts} AS BIGINT) AS a,
                         ['deposit', 'withdrawal', 'card_purchase', 'transfer_in', 'fee'][1 + CAST(hash(i, 3) % 5 AS INTEGER)] AS tt,
                         (1 + hash(i, 4) % 200000) / 100.0 AS amt,
                         TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_microseconds((i - {shift}) * {Math.Max(1, 2_592_000_000_000 / rows)}) AS ts
                  FROM range({first}, {last + 1}) r(i))
            """));
        try
        {
            var adds = await new DeltaFileWriter(table, SilverTables.Transactions)
                .WriteAsync(connection, "bench_silver", string.Create(CultureInfo.InvariantCulture, $"part-p0000-o{first:D12}-{last:D12}"), cancellationToken).ConfigureAwait(false);
            var result = await table.CommitAsync(snapshot, new DeltaCommit { Adds = adds, Transaction = new("benchmark", last), Operation = "WRITE" }, cancellationToken).ConfigureAwait(false);
            return (adds.Count, result.Snapshot);
        }
        finally
        {
            connection.Execute("DROP TABLE IF EXISTS bench_silver");
        }
    }

    private static TimeSpan CpuTime()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    private static (double RowsPerSecond, TimeSpan Cpu, double EncodedRowsPerSecond, TimeSpan EncodedCpu, double BytesPerAccount) MeasureFold(int rows, int accounts)
    {
        string[] types = ["deposit", "withdrawal", "card_purchase", "transfer_in", "fee"];
        string[] cities = [.. Enumerable.Range(0, 40).Select(c => $"City{c}")];
        string[] ids = [.. Enumerable.Range(0, accounts).Select(a => $"ACC-{a:D8}")];
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var facts = new TransactionFact[rows];
        var random = new Random(7);
        for (var i = 0; i < rows; i++)
        {
            var account = random.Next(accounts);
            var type = types[random.Next(types.Length)];
            facts[i] = new TransactionFact(ids[account], type, type is "deposit" or "transfer_in", random.Next(1, 200_000) / 100m, account % 2 == 0 ? "ZAR" : "USD",
                type == "card_purchase" ? "groceries" : null, cities[random.Next(cities.Length)], "ZA", start.AddSeconds(i * 0.5), account % 8, i);
        }

        var fold = new GoldFold();
        var cpu = CpuTime();
        var clock = Stopwatch.StartNew();
        foreach (ref readonly var fact in facts.AsSpan())
        {
            fold.Fold(in fact);
        }

        var rate = rows / clock.Elapsed.TotalSeconds;
        cpu = CpuTime() - cpu;

        // The hot loop alone: the same facts encoded once (as a reader does per distinct id), then folded as integers.
        var encodedFold = new GoldFold();
        var encoded = new EncodedTransaction[rows];
        for (var i = 0; i < rows; i++)
        {
            ref readonly var f = ref facts[i];
            encoded[i] = new EncodedTransaction(encodedFold.EncodeAccount(f.AccountId, f.Currency),
                encodedFold.EncodeBucket(new DailyKey(f.EventDate, f.Category, f.Country, f.City, f.Currency)),
                Units.Cents(f.Amount), f.IsCredit, Units.Micros(f.OccurredAt), f.SourcePartition, f.SourceOffset);
        }

        var encodedCpu = CpuTime();
        clock.Restart();
        encodedFold.Fold(encoded);
        var encodedRate = rows / clock.Elapsed.TotalSeconds;
        encodedCpu = CpuTime() - encodedCpu;
        if (encodedFold.AccountCount != fold.AccountCount || encodedFold.DailyAccountCount != fold.DailyAccountCount)
        {
            throw new InvalidOperationException("The encoded fold and the fact fold disagree.");
        }

        // Memory: one transaction per account, measured as the managed heap's growth (the ids are already allocated).
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var sized = new GoldFold();
        for (var a = 0; a < accounts; a++)
        {
            sized.Fold(new TransactionFact(ids[a], "deposit", true, 1m, "ZAR", null, "City0", "ZA", start, 0, a));
        }

        var after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(sized);
        GC.KeepAlive(fold);
        GC.KeepAlive(encodedFold);
        return (rate, cpu, encodedRate, encodedCpu, (after - before) / (double)accounts);
    }
}
