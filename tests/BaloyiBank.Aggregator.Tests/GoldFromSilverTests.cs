using BaloyiBank.Cleansing;
using BaloyiBank.Delta;
using BaloyiBank.Lake;
using Xunit.Abstractions;

namespace BaloyiBank.Aggregator.Tests;

/// <summary>Gold from real silver: equal to the independent SQL recomputation, resumable, exactly once.</summary>
public sealed class GoldFromSilverTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Gold_folded_round_by_round_from_real_silver_equals_the_SQL_recomputation_and_the_row_by_row_fold()
    {
        await using var rig = await SilverRig.CreateAsync(20_000);
        await rig.CleanseAsync();
        using var aggregator = new GoldAggregator(rig.Lake, SilverRig.Options());
        Assert.Null(await aggregator.StartAsync());
        var first = Assert.Single(await aggregator.CatchUpAsync());
        Assert.Equal(1, first.Round);

        // More events, more silver commits: a second round folds only those.
        await rig.AppendAsync(15_000);
        await rig.CleanseAsync();
        var second = Assert.Single(await aggregator.CatchUpAsync());
        Assert.Equal(2, second.Round);
        Assert.Null(await aggregator.RunRoundAsync());
        output.WriteLine($"round 1 folded {first.RowsFolded.Values.Sum():N0} rows, changed {first.Changes.TotalRows:N0}; round 2 folded {second.RowsFolded.Values.Sum():N0}, changed {second.Changes.TotalRows:N0}");
        Assert.True(second.Changes.Accounts.Count < aggregator.Fold.AccountCount, "round 2 rewrote every account");

        var report = await GoldVerifier.VerifyAsync(rig.Lake, SilverRig.Options());
        foreach (var table in report.Tables)
        {
            output.WriteLine($"{table.Table}: gold {table.GoldRows:N0}, expected {table.ExpectedRows:N0}, differences {table.MissingOrDifferent + table.Unexpected}");
            foreach (var example in table.Examples)
            {
                output.WriteLine("  " + example);
            }
        }

        Assert.True(report.Matches, $"{report.Differences} differences");
        Assert.Equal(2, report.Round);
        Assert.Equal(0, report.SilverCommitsAhead);
        Assert.All(report.Tables, t => Assert.True(t.GoldRows > 0, $"{t.Table} is empty"));
        Assert.Equal(aggregator.Fold.AccountCount, report.Tables[0].GoldRows);

        // The source's fold of real silver and the fact-by-fact reference fold agree on every row.
        var rowByRow = await FoldRowByRowAsync(rig.Lake);
        Assert.Equal(FoldPropertyTests.Describe(rowByRow), FoldPropertyTests.Describe(aggregator.Fold));
    }

    [Fact]
    public async Task A_rebuild_in_one_round_rounds_and_a_restart_give_exactly_the_reference_fold_over_silver_with_late_events_duplicates_currencies_and_loans()
    {
        // Few customers and a fast simulated clock: many days, many transactions per account, late and duplicate events.
        var generator = new Generator.GeneratorOptions
        {
            // In the past, so the fast clock never runs ahead of the log's own time.
            Start = new DateTimeOffset(DateTime.UtcNow.Date.AddDays(-40), TimeSpan.Zero),
            InitialCustomers = 300,
            EventsPerSimulatedDay = 3_000,
            Defects = new Generator.DefectShares { Late = 0.05, Duplicate = 0.03 },
        };
        await using var rig = await SilverRig.CreateAsync(18_000, generator, watermarkTolerance: TimeSpan.FromDays(1));
        await rig.CleanseAsync();
        using var rounds = new GoldAggregator(rig.Lake, SilverRig.Options());
        await rounds.StartAsync();
        await rounds.CatchUpAsync();

        // The same rounds keeping the pairs of the newest event date only: older dates' pairs are dropped after each
        // round, and a late transaction for one of them has that date's pairs read back from silver first.
        var keepOneDate = SilverRig.Options("gold_forgetful");
        keepOneDate.PairsKeptDays = 0;
        using var forgetful = new GoldAggregator(rig.Lake, keepOneDate);
        await forgetful.StartAsync();
        await forgetful.CatchUpAsync();
        var forgottenDates = forgetful.Fold.DatesWithoutPairs;
        Assert.True(forgottenDates >= 2, $"{forgottenDates} dates forgotten");
        Assert.InRange(forgetful.Fold.DailyAccountCount, 1, rounds.Fold.DailyAccountCount - 1);

        // The same rounds with every transaction batch folded as a bulk batch: the first round counts every date's
        // distinct accounts with a transient set per date and keeps no pairs; the second must restore the dates it adds
        // to (late rows) from silver first.
        var bulk = new GoldAggregator(rig.Lake, SilverRig.Options("gold_bulk")) { RowByRowLimit = 0 };
        await bulk.StartAsync();
        await bulk.CatchUpAsync();
        Assert.Equal(0, bulk.Fold.DailyAccountCount);
        var bulkDates = bulk.Fold.DatesWithoutPairs;
        Assert.True(bulkDates >= 2, $"{bulkDates} dates");

        await rig.AppendAsync(14_000);
        await rig.CleanseAsync();
        await rounds.CatchUpAsync();
        await bulk.CatchUpAsync();
        await forgetful.CatchUpAsync();
        Assert.True(bulk.Fold.DailyAccountCount > 0, "no date was restored before the second bulk round added to it");

        // The silver the test is about: several days, late rows, more than one currency, loans and their payments.
        using (var connection = DuckDbSql.Open())
        {
            var transactions = await FromAsync(rig.Lake, SilverTables.Transactions);
            var days = connection.Scalar<long>($"SELECT count(DISTINCT event_date) FROM {transactions}");
            var currencies = connection.Scalar<long>($"SELECT count(DISTINCT currency) FROM {transactions}");
            output.WriteLine($"{connection.Scalar<long>($"SELECT count(*) FROM {transactions}"):N0} transactions over {days} days in {currencies} currencies");
            using (var q = connection.Query($"SELECT reason, count(*) FROM {await FromAsync(rig.Lake, SilverTables.Quarantine)} GROUP BY ALL"))
            {
                while (q.Read())
                {
                    output.WriteLine($"quarantined {q.GetString(0)}: {q.GetInt64(1)}");
                }
            }

            Assert.True(days >= 3, $"{days} days");
            Assert.True(currencies >= 2, $"{currencies} currencies");
            Assert.True(connection.Scalar<long>(
                $"SELECT count(*) FROM (SELECT event_date, max(event_date) OVER (PARTITION BY source_partition ORDER BY source_offset ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS seen FROM {transactions}) WHERE event_date < seen") > 0,
                "no late transaction landed on an earlier day");
            Assert.True(connection.Scalar<long>($"SELECT count(*) FROM {await FromAsync(rig.Lake, SilverTables.LoanPayments)}") > 0);
        }

        var reference = await FoldRowByRowAsync(rig.Lake);

        // Both ways the source folds a transaction batch give the reference: as a bulk batch counting new dates' distinct
        // accounts without keeping pairs (a rebuild, a batch over SilverSource.RowByRowLimit) and keeping every pair (a live round).
        foreach (var rowByRowLimit in new[] { 0L, long.MaxValue })
        {
            var fold = new GoldFold();
            foreach (var schema in SilverSource.Tables)
            {
                await SilverSource.FoldAsync(await ReadSetAsync(rig.Lake, schema), fold, rowByRowLimit, CancellationToken.None);
            }

            Assert.Equal(FoldPropertyTests.Describe(reference), FoldPropertyTests.Describe(fold));
            Assert.Equal(rowByRowLimit == 0 ? 0 : reference.DailyAccountCount, fold.DailyAccountCount);
        }

        Assert.Equal(FoldPropertyTests.Describe(reference), FoldPropertyTests.Describe(bulk.Fold));
        Assert.Equal(FoldPropertyTests.Describe(reference), FoldPropertyTests.Describe(forgetful.Fold));
        Assert.True((await GoldVerifier.VerifyAsync(rig.Lake, SilverRig.Options("gold_forgetful"))).Matches);

        using var rebuilt = new GoldAggregator(rig.Lake, SilverRig.Options("gold_rebuilt"));
        await rebuilt.StartAsync();
        Assert.Single(await rebuilt.CatchUpAsync());
        Assert.Equal(FoldPropertyTests.Describe(reference), FoldPropertyTests.Describe(rebuilt.Fold));
        Assert.Equal(FoldPropertyTests.Describe(reference), FoldPropertyTests.Describe(rounds.Fold));
        // Row by row, a fold holds the pairs of the dates it keeps (Aggregator:PairsKeptDays, 7 by default, before the
        // newest date) and no others: the ~11 simulated days here leave older dates without their pairs.
        foreach (var fold in new[] { rebuilt.Fold, rounds.Fold })
        {
            var known = fold.Dates.Where(d => fold.PairsOf(d) == DailyPairs.Known).ToList();
            Assert.Equal(fold.DistinctAccountsOf(known), fold.DailyAccountCount);
            Assert.All(known, d => Assert.True(d >= fold.AsOfDate!.Value.AddDays(-7), $"{d} kept"));
            Assert.True(fold.DatesWithoutPairs > 0, "no date was dropped");
        }

        // A restart restores balances from gold, no (bucket, account) pairs: those of a date come from silver when a round
        // first adds to it. Then it goes on like the others; so does a row-by-row restart of the bulk-folded gold.
        using var restarted = new GoldAggregator(rig.Lake, SilverRig.Options());
        Assert.Null(await restarted.StartAsync());
        Assert.Equal(FoldPropertyTests.Describe(reference), FoldPropertyTests.Describe(restarted.Fold));
        Assert.Equal(0, restarted.Fold.DailyAccountCount);
        var dates = restarted.Fold.DatesWithoutPairs;
        bulk.Dispose();
        using var bulkRestarted = new GoldAggregator(rig.Lake, SilverRig.Options("gold_bulk"));
        Assert.Null(await bulkRestarted.StartAsync());
        await rig.AppendAsync(6_000);
        await rig.CleanseAsync();
        await restarted.CatchUpAsync();
        await rebuilt.CatchUpAsync();
        await bulkRestarted.CatchUpAsync();
        Assert.InRange(restarted.Fold.DatesWithoutPairs, 0, dates - 1);
        Assert.True(restarted.Fold.DailyAccountCount > 0);
        var after = await FoldRowByRowAsync(rig.Lake);
        Assert.Equal(FoldPropertyTests.Describe(after), FoldPropertyTests.Describe(restarted.Fold));
        Assert.Equal(FoldPropertyTests.Describe(after), FoldPropertyTests.Describe(rebuilt.Fold));
        Assert.Equal(FoldPropertyTests.Describe(after), FoldPropertyTests.Describe(bulkRestarted.Fold));
        Assert.True((await GoldVerifier.VerifyAsync(rig.Lake, SilverRig.Options())).Matches);
        Assert.True((await GoldVerifier.VerifyAsync(rig.Lake, SilverRig.Options("gold_rebuilt"))).Matches);
        Assert.True((await GoldVerifier.VerifyAsync(rig.Lake, SilverRig.Options("gold_bulk"))).Matches);
    }

    [Fact]
    public async Task Gold_resumes_and_verifies_over_silver_whose_files_were_compacted_and_vacuumed()
    {
        await using var rig = await SilverRig.CreateAsync(16_000);
        await rig.CleanseAsync(flushRows: 1_000);
        using (var first = new GoldAggregator(rig.Lake, SilverRig.Options()))
        {
            await first.StartAsync();
            await first.CatchUpAsync();
        }

        // Cleansing compacts silver while gold is idle, and two hours later vacuums what it replaced.
        var clock = new ShiftedTime();
        var compactor = new SilverCompactor(rig.Lake, new CleansingOptions { CompactionMinFiles = 2 }, TimeSpan.FromHours(1), clock, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var compacted = await compactor.RunOnceAsync(CancellationToken.None);
        clock.Offset = TimeSpan.FromHours(2);
        var vacuumed = await compactor.RunOnceAsync(CancellationToken.None);
        output.WriteLine($"compacted {compacted.Compacted} partitions ({compacted.FilesReplaced} files); vacuumed {vacuumed.Vacuumed} files");
        Assert.True(compacted.FilesReplaced > 0 && vacuumed.Vacuumed >= compacted.FilesReplaced);

        // A restart reads silver from the start (customers) as of the version gold applied: its files are gone, the
        // compacted ones hold the same rows.
        using var resumed = new GoldAggregator(rig.Lake, SilverRig.Options());
        Assert.Null(await resumed.StartAsync());
        await resumed.CatchUpAsync(); // the compaction commits bring no rows
        Assert.True((await GoldVerifier.VerifyAsync(rig.Lake, SilverRig.Options())).Matches);

        // New silver after the compaction folds as usual, and a rebuild from scratch over the compacted silver agrees.
        await rig.AppendAsync(8_000);
        await rig.CleanseAsync(flushRows: 1_000);
        Assert.NotEmpty(await resumed.CatchUpAsync());
        using var scratch = new GoldAggregator(rig.Lake, SilverRig.Options("gold_scratch"));
        await scratch.StartAsync();
        await scratch.CatchUpAsync();
        Assert.Equal(FoldPropertyTests.Describe(scratch.Fold), FoldPropertyTests.Describe(resumed.Fold));
        Assert.True((await GoldVerifier.VerifyAsync(rig.Lake, SilverRig.Options())).Matches);
    }

    /// <summary>The system clock moved by <see cref="Offset"/>: ages tombstones without waiting.</summary>
    private sealed class ShiftedTime : TimeProvider
    {
        public TimeSpan Offset { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
    }

    [Fact]
    public async Task A_new_aggregator_on_the_same_lake_resumes_without_applying_anything_twice()
    {
        await using var rig = await SilverRig.CreateAsync(16_000);
        await rig.CleanseAsync();
        using (var first = new GoldAggregator(rig.Lake, SilverRig.Options()))
        {
            await first.StartAsync();
            await first.CatchUpAsync();
        }

        await rig.AppendAsync(12_000);
        await rig.CleanseAsync();
        using var resumed = new GoldAggregator(rig.Lake, SilverRig.Options());
        Assert.Null(await resumed.StartAsync());
        Assert.Equal(1, resumed.Round);
        var round = Assert.Single(await resumed.CatchUpAsync());
        Assert.Equal(2, round.Round);

        // The same silver folded from scratch into another gold root gives the same rows.
        using var scratch = new GoldAggregator(rig.Lake, SilverRig.Options("gold_scratch"));
        await scratch.StartAsync();
        await scratch.CatchUpAsync();
        Assert.Equal(FoldPropertyTests.Describe(scratch.Fold), FoldPropertyTests.Describe(resumed.Fold));
        Assert.True((await GoldVerifier.VerifyAsync(rig.Lake, SilverRig.Options())).Matches);

        // And a third start restores exactly that state from the gold tables.
        using var restored = new GoldAggregator(rig.Lake, SilverRig.Options());
        await restored.StartAsync();
        Assert.Equal(FoldPropertyTests.Describe(resumed.Fold), FoldPropertyTests.Describe(restored.Fold));
        Assert.Null(await restored.RunRoundAsync());
    }

    [Fact]
    public async Task A_simulated_crash_between_gold_data_files_and_commits_leaves_orphans_that_are_never_read_and_the_round_is_redone_exactly()
    {
        await using var rig = await SilverRig.CreateAsync(16_000);
        await rig.CleanseAsync();
        using (var before = new GoldAggregator(rig.Lake, SilverRig.Options()))
        {
            await before.StartAsync();
            await before.CatchUpAsync();
        }

        await rig.AppendAsync(12_000);
        await rig.CleanseAsync();

        // Round 2 dies on its third gold commit: two tables hold round 2, the third has its data file uploaded but no commit.
        var crashing = new CrashingLakeStore(rig.Lake, failOnCommitNumber: 3, pathContains: "gold/");
        using (var crashed = new GoldAggregator(crashing, SilverRig.Options()))
        {
            await crashed.StartAsync();
            await Assert.ThrowsAsync<IOException>(() => crashed.RunRoundAsync());
        }

        var rounds = await GoldRoundsAsync(rig.Lake);
        Assert.Equal([2L, 2L, 1L, 1L], rounds.Values);
        var daily = new DeltaTable(rig.Lake, "gold/changes/daily_transaction_summary");
        var snapshot = await daily.LoadAsync();
        var orphans = await daily.FindOrphansAsync(DateTimeOffset.UtcNow.AddMinutes(1));
        var orphan = Assert.Single(orphans);
        Assert.Contains("changes-r000000000002", orphan.Path, StringComparison.Ordinal);
        Assert.DoesNotContain(snapshot.Files.Values, f => orphan.Path.EndsWith(f.DataPath, StringComparison.Ordinal));

        // The next start redoes round 2 up to the silver versions it recorded; nothing is applied twice.
        using var restarted = new GoldAggregator(rig.Lake, SilverRig.Options());
        var redone = await restarted.StartAsync();
        Assert.NotNull(redone);
        Assert.Equal(2, redone.Round);
        Assert.Equal([daily.Path, "gold/changes/loan_status"], redone.CommittedTables);
        Assert.Equal([2L, 2L, 2L, 2L], (await GoldRoundsAsync(rig.Lake)).Values);
        Assert.All(restarted.Gold.CurrentRounds().Values, r => Assert.Equal(2L, r));
        var report = await GoldVerifier.VerifyAsync(rig.Lake, SilverRig.Options());
        Assert.True(report.Matches, string.Join("\n", report.Tables.SelectMany(t => t.Examples).Concat(report.CurrentStateProblems)));

        using var clean = new GoldAggregator(rig.Lake, SilverRig.Options("gold_clean"));
        await clean.StartAsync();
        await clean.CatchUpAsync();
        Assert.Equal(FoldPropertyTests.Describe(clean.Fold), FoldPropertyTests.Describe(restarted.Fold));
    }

    [Fact]
    public async Task A_crash_part_way_through_a_current_state_refresh_leaves_each_table_at_one_round_and_the_restart_completes_it()
    {
        await using var rig = await SilverRig.CreateAsync(16_000);
        await rig.CleanseAsync();
        using (var before = new GoldAggregator(rig.Lake, SilverRig.Options()))
        {
            await before.StartAsync();
            await before.CatchUpAsync();
            Assert.All(before.Gold.CurrentRounds().Values, r => Assert.Equal(1L, r));
        }

        await rig.AppendAsync(12_000);
        await rig.CleanseAsync();

        // Round 2: four change-table commits, then the refresh dies on its second current-state commit.
        var crashing = new CrashingLakeStore(rig.Lake, failOnCommitNumber: 6, pathContains: "gold/");
        using (var crashed = new GoldAggregator(crashing, SilverRig.Options()))
        {
            await crashed.StartAsync();
            await Assert.ThrowsAsync<IOException>(() => crashed.RunRoundAsync());
        }

        Assert.Equal([2L, 2L, 2L, 2L], (await GoldRoundsAsync(rig.Lake)).Values);
        using (var torn = new GoldStore(rig.Lake, "gold", "aggregator"))
        {
            await torn.OpenAsync(CancellationToken.None);
            Assert.Equal([2L, 1L, 1L, 1L], GoldTables.All.Select(t => torn.CurrentRounds()[t.Name]));

            // Even torn, every current-state table is whole: one row per key as of the round it records.
            Assert.Empty(await torn.VerifyCurrentAsync(CancellationToken.None));
        }

        using var restarted = new GoldAggregator(rig.Lake, SilverRig.Options());
        Assert.Null(await restarted.StartAsync());
        Assert.All(restarted.Gold.CurrentRounds().Values, r => Assert.Equal(2L, r));
        var report = await GoldVerifier.VerifyAsync(rig.Lake, SilverRig.Options());
        Assert.True(report.Matches, string.Join("\n", report.Tables.SelectMany(t => t.Examples).Concat(report.CurrentStateProblems)));
    }

    [Fact]
    public async Task Each_current_state_table_holds_one_row_per_key_and_a_refresh_rewrites_only_the_slices_of_changed_keys()
    {
        await using var rig = await SilverRig.CreateAsync(16_000);
        await rig.CleanseAsync();
        using var aggregator = new GoldAggregator(rig.Lake, SilverRig.Options());
        await aggregator.StartAsync();
        var first = Assert.Single(await aggregator.CatchUpAsync());
        Assert.NotNull(first.Refresh);
        var accounts = aggregator.Gold.CurrentSnapshot(GoldTables.AccountBalances);
        Assert.Equal(GoldTables.BucketCount, accounts.Files.Count);
        Assert.Equal(aggregator.Fold.AccountCount, accounts.RecordCount);
        var daily = aggregator.Gold.CurrentSnapshot(GoldTables.DailyTransactionSummary);
        Assert.Equal(["event_date"], daily.Schema.PartitionColumns);
        Assert.Equal(aggregator.Fold.DailyBucketCount, daily.RecordCount);

        // One changed account: a round rewrites its bucket's file only, in a commit that removes the old one.
        var account = aggregator.Fold.AccountBalances()[0];
        var before = accounts.Files.Keys.ToHashSet();
        var changes = new GoldChangeSet(2, [account], [], [], []);
        Dictionary<string, HashSet<string>?> slices = [];
        GoldStore.AddSlices(changes, slices);
        var refresh = await aggregator.Gold.RefreshAsync(aggregator.Fold, 2, slices, CancellationToken.None);
        Assert.Equal(1, refresh.FilesReplaced[GoldTables.AccountBalances.Name]);
        var after = aggregator.Gold.CurrentSnapshot(GoldTables.AccountBalances);
        Assert.Equal(GoldTables.BucketCount - 1, after.Files.Keys.Count(before.Contains));
        var replaced = Assert.Single(after.Files.Values, f => !before.Contains(f.Path));
        Assert.StartsWith(GoldStore.BucketSlice(account.AccountId) + "-", replaced.DataPath, StringComparison.Ordinal);
        Assert.Equal(accounts.RecordCount, after.RecordCount);
        Assert.Equal(0, refresh.FilesReplaced[GoldTables.DailyTransactionSummary.Name]);
        Assert.Equal(2, after.TransactionVersion(aggregator.Gold.CurrentAppId));

        // Time travel: the version before the refresh still reads as round 1.
        var old = await aggregator.Gold.CurrentTable(GoldTables.AccountBalances).LoadAsync(accounts.Version);
        Assert.Equal(1, old.TransactionVersion(aggregator.Gold.CurrentAppId));
        Assert.Equal(accounts.Files.Keys.Order(), old.Files.Keys.Order());
    }

    [Fact]
    public async Task After_a_replay_switches_silver_the_aggregator_reports_that_gold_no_longer_follows_it()
    {
        await using var rig = await SilverRig.CreateAsync(4_000);
        await rig.CleanseAsync();
        using var aggregator = new GoldAggregator(rig.Lake, SilverRig.Options());
        await aggregator.StartAsync();
        await aggregator.CatchUpAsync();
        Assert.Null(aggregator.SilverSwitchedTo);

        // A replay's switch: generation 1 becomes silver's live generation; this gold folds generation 0.
        var generations = new BaloyiBank.Lake.LakeGenerations(rig.Lake);
        var claimed = await generations.ClaimAsync("silver", "test");
        await generations.SwitchAsync(await generations.LiveAsync("silver"), claimed.Number, "test");
        Assert.Null(await aggregator.RunRoundAsync());
        Assert.Equal("silver/g0001", aggregator.SilverSwitchedTo?.Root);

        var progress = new AggregatorProgress();
        progress.Update(aggregator, null);
        var health = await new AggregatorHealthCheck(progress).CheckHealthAsync(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext());
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Degraded, health.Status);
        Assert.Contains("silver/g0001", health.Description, StringComparison.Ordinal);

        // Gold built from the live generation (its own gold root) is following it.
        var options = SilverRig.Options("gold_g1");
        options.SilverRoot = claimed.Root;
        using var rebuilt = new GoldAggregator(rig.Lake, options);
        await rebuilt.StartAsync();
        Assert.Null(await rebuilt.RunRoundAsync());
        Assert.Null(rebuilt.SilverSwitchedTo);
    }

    [Fact]
    public async Task A_gold_folder_in_the_old_change_log_layout_is_refused_with_how_to_rebuild()
    {
        await using var rig = await SilverRig.CreateAsync(2_000);
        using (var old = new DeltaTable(rig.Lake, "gold/account_balances"))
        {
            await old.CreateAsync(GoldTables.AccountBalances);
        }

        using var aggregator = new GoldAggregator(rig.Lake, SilverRig.Options());
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => aggregator.StartAsync());
        Assert.Contains("gold/account_balances", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Rebuild gold", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gold_daily_summary_without_the_place_sums_is_refused_with_how_to_rebuild()
    {
        await using var rig = await SilverRig.CreateAsync(2_000);
        var sums = new[] { GoldTables.LatitudeMicroSumColumn, GoldTables.LongitudeMicroSumColumn };
        using (var old = new DeltaTable(rig.Lake, GoldStore.ChangeTablePath("gold", GoldTables.DailyTransactionSummary)))
        {
            await old.CreateAsync(GoldTables.DailyTransactionSummary with { Columns = [.. GoldTables.DailyTransactionSummary.Columns.Where(c => !sums.Contains(c.Name))] });
        }

        using var aggregator = new GoldAggregator(rig.Lake, SilverRig.Options());
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => aggregator.StartAsync());
        Assert.Contains("gold/changes/daily_transaction_summary", refused.Message, StringComparison.Ordinal);
        Assert.Contains("latitude_micro_sum, longitude_micro_sum", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Rebuild gold", refused.Message, StringComparison.Ordinal);
    }

    private static async Task<SortedDictionary<string, long>> GoldRoundsAsync(ILakeStore lake)
    {
        SortedDictionary<string, long> rounds = new(Comparer<string>.Create((a, b) =>
            GoldTables.All.ToList().FindIndex(t => a.EndsWith("/" + t.Name, StringComparison.Ordinal))
                .CompareTo(GoldTables.All.ToList().FindIndex(t => b.EndsWith("/" + t.Name, StringComparison.Ordinal)))));
        foreach (var schema in GoldTables.All)
        {
            using var table = new DeltaTable(lake, GoldStore.ChangeTablePath("gold", schema));
            rounds[table.Path] = (await table.LoadAsync()).TransactionVersion("aggregator") ?? 0;
        }

        return rounds;
    }

    private static async Task<DeltaReadSet> ReadSetAsync(ILakeStore lake, TableSchema schema)
    {
        using var table = new DeltaTable(lake, $"silver/{schema.Name}");
        return await table.GetReadSetAsync(await table.LoadAsync());
    }

    private static async Task<string> FromAsync(ILakeStore lake, TableSchema schema) => (await ReadSetAsync(lake, schema)).ToSql();

    /// <summary>Every silver row read into facts and folded one at a time: the reference for the source's batch folds.</summary>
    private static async Task<GoldFold> FoldRowByRowAsync(ILakeStore lake)
    {
        var fold = new GoldFold();
        Task<string> From(TableSchema schema) => FromAsync(lake, schema);
        foreach (var table in new[] { SilverTables.Customers, SilverTables.Accounts, SilverTables.Loans })
        {
            await SilverSource.FoldAsync(await ReadSetAsync(lake, table), fold);
        }

        // The reference reads silver on DuckDB.NET, independent of the source's reading code.
        using var reader = DuckDbSql.Open();
        using (var r = reader.Query(
            "SELECT account_id, transaction_type, direction, amount, currency, merchant_category, city, country, occurred_at, source_partition, source_offset, latitude, longitude FROM " +
            await From(SilverTables.Transactions)))
        {
            while (r.Read())
            {
                fold.Fold(new TransactionFact(r.GetString(0), r.GetString(1), r.GetString(2) == "credit", r.GetDecimal(3), r.GetString(4),
                    r.IsDBNull(5) ? null : r.GetString(5), r.GetString(6), r.GetString(7), r.GetFieldValue<DateTimeOffset>(8), r.GetInt32(9), r.GetInt64(10),
                    r.GetDouble(11), r.GetDouble(12)));
            }
        }

        using (var r = reader.Query(
            "SELECT loan_id, amount, principal_portion, interest_portion, occurred_at, source_partition, source_offset FROM " + await From(SilverTables.LoanPayments)))
        {
            while (r.Read())
            {
                fold.Fold(new LoanPaymentFact(r.GetString(0), r.GetDecimal(1), r.GetDecimal(2), r.GetDecimal(3), r.GetFieldValue<DateTimeOffset>(4), r.GetInt32(5), r.GetInt64(6)));
            }
        }

        return fold;
    }
}
