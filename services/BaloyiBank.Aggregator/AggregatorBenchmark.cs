using System.Diagnostics;
using System.Globalization;
using BaloyiBank.Delta;
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
    /// <summary>
    /// DuckDB computing the same four gold tables from the same files with the verifier's SQL (<see cref="GoldVerifier"/>)
    /// and writing each as a zstd Parquet file: the baseline that does the rebuild's work.
    /// </summary>
    public required TimeSpan DuckDbGoldTables { get; init; }
    public required TimeSpan DuckDbGoldTablesCpu { get; init; }
    public double RebuildToDuckDbGoldTablesRatio => Rebuild.TotalSeconds / DuckDbGoldTables.TotalSeconds;
    public double RebuildToDuckDbGoldTablesCpuRatio => RebuildCpu.TotalSeconds / DuckDbGoldTablesCpu.TotalSeconds;
    /// <summary>A new aggregator starting on the rebuilt gold (what a restart after a crash costs before catch-up).</summary>
    public required TimeSpan Restart { get; init; }
    /// <summary>The first live round (<see cref="AggregatorBenchmark.LiveRoundRows"/> rows on an existing date) after the restart: it restores that date's pairs first.</summary>
    public required TimeSpan FirstRoundAfterRestart { get; init; }
    /// <summary>The next live round of as many rows on the same date (its pairs now in memory).</summary>
    public required TimeSpan SecondRoundAfterRestart { get; init; }

    /// <summary>The current-state tables written at the end of the rebuild (every row of every table; part of <see cref="Rebuild"/>).</summary>
    public GoldRefreshResult? RebuildRefresh { get; init; }

    /// <summary>The current-state refresh after each live round (the buckets and dates its changed keys live in; part of the round's time).</summary>
    public IReadOnlyList<GoldRefreshResult?> LiveRefreshes { get; init; } = [];
    /// <summary>Accounts whose rebuilt gold balance differs from DuckDB's (must be 0).</summary>
    public required long BalanceMismatches { get; init; }
}

/// <summary>
/// The aggregator's benchmark, for <c>baloyi bench</c>: synthetic silver transactions (written through the silver
/// writer's own path, <see cref="ColumnBuffer"/> and <see cref="DeltaFileWriter"/>, as a Delta table of zstd Parquet
/// files), then in the same run (1) the in-memory fold's throughput, (2) a full gold rebuild from those files, and (3)
/// DuckDB over the same files: one GROUP BY of the balances, the whole account row, and the four gold tables.
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
        var files = await WriteSilverAsync(lake, rows, accounts, cancellationToken).ConfigureAwait(false);

        var (foldRate, foldCpu, encodedRate, encodedCpu, bytesPerAccount) = MeasureFold(Math.Max(1, foldRows), accounts);

        var options = new AggregatorOptions { GoldRoot = $"gold_{Guid.NewGuid():N}" };
        var cpu = CpuTime();
        var clock = Stopwatch.StartNew();
        using var aggregator = new GoldAggregator(lake, options);
        await aggregator.StartAsync(cancellationToken).ConfigureAwait(false);
        var rebuildRounds = await aggregator.CatchUpAsync(cancellationToken).ConfigureAwait(false);
        var rebuild = clock.Elapsed;
        var rebuildCpu = CpuTime() - cpu;

        using var duck = DuckDbSql.Open();
        Dictionary<string, string> silverSql = new(StringComparer.Ordinal);
        foreach (var schema in SilverSource.Tables)
        {
            using var table = new DeltaTable(lake, $"silver/{schema.Name}");
            silverSql[schema.Name] = await table.TryLoadAsync(cancellationToken).ConfigureAwait(false) is { } loaded
                ? (await table.GetReadSetAsync(loaded, cancellationToken: cancellationToken).ConfigureAwait(false)).ToSql()
                : new DeltaReadSet(schema, -1, []).ToSql();
        }

        var from = silverSql["transactions"];
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

        // The baseline that does the rebuild's work: every gold table from the same silver with the verifier's SQL, written as Parquet.
        var goldFolder = Directory.CreateDirectory(Path.Combine(workFolder, "duckdb-gold")).FullName;
        cpu = CpuTime();
        clock.Restart();
        foreach (var schema in GoldTables.Business)
        {
            var target = Path.Combine(goldFolder, schema.Name + ".parquet").Replace("'", "''", StringComparison.Ordinal);
            duck.Execute($"COPY ({GoldVerifier.ExpectedSql(schema, silverSql)}) TO '{target}' (FORMAT parquet, COMPRESSION zstd)");
        }

        var duckDbGold = clock.Elapsed;
        var duckDbGoldCpu = CpuTime() - cpu;

        clock.Restart();
        using var restarted = new GoldAggregator(lake, options);
        await restarted.StartAsync(cancellationToken).ConfigureAwait(false);
        var restart = clock.Elapsed;

        // What the restart deferred: the first live round after it restores the (bucket, account) pairs of the date it adds
        // to; a second round on the same date does not. Both add LiveRoundRows more rows to the last date.
        var liveRounds = new TimeSpan[2];
        var liveRefreshes = new GoldRefreshResult?[2];
        using (var table = new DeltaTable(lake, "silver/transactions"))
        {
            var snapshot = await table.LoadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = new ColumnBuffer(SilverTables.Transactions);
            for (var round = 0; round < liveRounds.Length; round++)
            {
                var first = rows + (round * LiveRoundRows);
                (_, snapshot) = await AppendSilverAsync(table, snapshot, buffer, first, first + LiveRoundRows - 1, rows, LiveRoundRows * (round + 1), accounts, cancellationToken).ConfigureAwait(false);
                clock.Restart();
                var live = await restarted.RunRoundAsync(cancellationToken).ConfigureAwait(false) ?? throw new InvalidOperationException("The live round after the restart folded nothing.");
                liveRounds[round] = clock.Elapsed;
                liveRefreshes[round] = live.Refresh;
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
            DuckDbGoldTables = duckDbGold,
            DuckDbGoldTablesCpu = duckDbGoldCpu,
            Restart = restart,
            FirstRoundAfterRestart = liveRounds[0],
            SecondRoundAfterRestart = liveRounds[1],
            RebuildRefresh = rebuildRounds.Count > 0 ? rebuildRounds[^1].Refresh : null,
            LiveRefreshes = liveRefreshes,
            BalanceMismatches = mismatches,
        };
    }

    /// <summary>Silver transactions over 30 days: uniform accounts, five types, three currencies by account, 40 cities.</summary>
    private static async Task<int> WriteSilverAsync(ILakeStore lake, long rows, int accounts, CancellationToken cancellationToken)
    {
        using var table = new DeltaTable(lake, "silver/transactions");
        var snapshot = await table.CreateAsync(SilverTables.Transactions, cancellationToken: cancellationToken).ConfigureAwait(false);
        const long chunk = 1_000_000;
        var buffer = new ColumnBuffer(SilverTables.Transactions);
        var files = 0;
        for (long first = 0; first < rows; first += chunk)
        {
            (var added, snapshot) = await AppendSilverAsync(table, snapshot, buffer, first, Math.Min(rows, first + chunk) - 1, rows, 0, accounts, cancellationToken).ConfigureAwait(false);
            files += added;
        }

        return files;
    }

    private static readonly string[] Types = ["deposit", "withdrawal", "card_purchase", "transfer_in", "fee"];
    private static readonly string[] Categories = ["groceries", "fuel", "travel", "health"];
    private static readonly string[] Currencies = ["ZAR", "USD", "EUR"];
    private static readonly string[] Cities = [.. Enumerable.Range(0, 40).Select(c => string.Create(CultureInfo.InvariantCulture, $"City{c}"))];

    /// <summary>
    /// Silver rows <paramref name="first"/>..<paramref name="last"/> (offsets and ids), timed as row i − <paramref name="shift"/>
    /// of <paramref name="rows"/> spread over 30 days, committed as one silver version. Values come from a hash of the row
    /// number, so every run writes the same silver.
    /// </summary>
    private static async Task<(int Files, DeltaSnapshot Snapshot)> AppendSilverAsync(
        DeltaTable table, DeltaSnapshot snapshot, ColumnBuffer buffer, long first, long last, long rows, long shift, int accounts, CancellationToken cancellationToken)
    {
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var step = Math.Max(1, 2_592_000_000_000 / rows);
        Span<char> text = stackalloc char[32];
        buffer.Reset();
        for (var i = first; i <= last; i++)
        {
            var a = (long)(Hash(i, 0) % (ulong)accounts);
            var type = Types[Hash(i, 3) % 5];
            var credit = type is "deposit" or "transfer_in";
            var cents = 1 + (long)(Hash(i, 4) % 200_000);
            var at = start.AddTicks((i - shift) * step * 10);
            buffer.Append(Format(text, "TXN-", i)).Append(Format(text, "EVT-", i));
            buffer.Append(string.Create(CultureInfo.InvariantCulture, $"ACC-{a:D8}")).Append(Format(text, "CUS-", a / 2));
            buffer.Append(type).Append(credit ? "credit" : "debit").Append(Units.Money(cents)).Append(Units.Money(credit ? cents : -cents));
            buffer.Append(Currencies[a % 3]).Append("card").Append(type == "card_purchase" ? Categories[Hash(i, 1) % 4] : null);
            buffer.AppendNull().AppendNull().AppendNull().Append(Cities[Hash(i, 2) % 40]).Append("ZA").Append(-26.2).Append(28.0);
            buffer.Append(at).Append(DateOnly.FromDateTime(at.UtcDateTime)).Append((int)(a % 8)).Append(i).Append(at).Append(at).Append(1);
            buffer.EndRow();
        }

        buffer.Seal();
        var adds = await new DeltaFileWriter(table, SilverTables.Transactions)
            .WriteAsync([buffer], string.Create(CultureInfo.InvariantCulture, $"part-p0000-o{first:D12}-{last:D12}"), cancellationToken).ConfigureAwait(false);
        var result = await table.CommitAsync(snapshot, new DeltaCommit { Adds = adds, Transaction = new("benchmark", last), Operation = "WRITE" }, cancellationToken).ConfigureAwait(false);
        return (adds.Count, result.Snapshot);
    }

    private static ReadOnlySpan<char> Format(Span<char> destination, string prefix, long value)
    {
        prefix.CopyTo(destination);
        value.TryFormat(destination[prefix.Length..], out var written, default, CultureInfo.InvariantCulture);
        return destination[..(prefix.Length + written)];
    }

    /// <summary>SplitMix64 of (row, stream): a deterministic stand-in for DuckDB's <c>hash(i, k)</c>.</summary>
    private static ulong Hash(long row, int stream)
    {
        var z = (ulong)row * 0x9E3779B97F4A7C15 + ((ulong)stream + 1) * 0xD1B54A32D192ED03;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
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
                Units.Cents(f.Amount), f.IsCredit, Units.Micros(f.OccurredAt), f.SourcePartition, f.SourceOffset,
                Units.MicroDegrees(f.Latitude), Units.MicroDegrees(f.Longitude));
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
