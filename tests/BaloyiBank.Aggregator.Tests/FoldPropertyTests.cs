using FsCheck;
using FsCheck.Fluent;

namespace BaloyiBank.Aggregator.Tests;

/// <summary>The fold's laws, checked over random consistent silver streams (FsCheck 3, from facts).</summary>
public sealed class FoldPropertyTests
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(300);

    [Fact]
    public void Any_split_of_the_same_ordered_stream_into_batches_gives_the_same_state()
    {
        Check.One(Runs, Prop.ForAll(SilverStreams.StreamAndCuts, sample =>
        {
            var whole = FoldAll(sample.Items);
            var batched = new GoldFold();
            var from = 0;
            var version = 0;
            foreach (var cut in sample.Cuts.Append(sample.Items.Length))
            {
                foreach (var item in sample.Items[from..cut])
                {
                    item.FoldInto(batched);
                }

                batched.TakeChanges(++version, DateTimeOffset.UnixEpoch);
                from = cut;
            }

            Assert.Equal(Describe(whole), Describe(batched));
        }));
    }

    [Fact]
    public void Transactions_dictionary_encoded_once_and_folded_as_integer_batches_give_the_state_of_the_facts_folded_one_by_one()
    {
        Check.One(Runs, Prop.ForAll(SilverStreams.StreamAndCuts, sample =>
        {
            var encoded = new GoldFold();
            var from = 0;
            var version = 0;
            foreach (var cut in sample.Cuts.Append(sample.Items.Length))
            {
                List<EncodedTransaction> batch = [];
                foreach (var item in sample.Items[from..cut])
                {
                    if (item is TransactionItem { Fact: var t })
                    {
                        batch.Add(new EncodedTransaction(encoded.EncodeAccount(t.AccountId, t.Currency),
                            encoded.EncodeBucket(new DailyKey(t.EventDate, t.Category, t.Country, t.City, t.Currency)),
                            Units.Cents(t.Amount), t.IsCredit, Units.Micros(t.OccurredAt), t.SourcePartition, t.SourceOffset,
                            Units.MicroDegrees(t.Latitude), Units.MicroDegrees(t.Longitude)));
                    }
                    else
                    {
                        item.FoldInto(encoded);
                    }
                }

                encoded.Fold(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(batch));
                encoded.TakeChanges(++version, DateTimeOffset.UnixEpoch);
                from = cut;
            }

            var reference = FoldAll(sample.Items);
            Assert.Equal(Describe(reference), Describe(encoded));
            Assert.Equal(reference.DailyAccountCount, encoded.DailyAccountCount);
        }));
    }

    [Fact]
    public void An_encoded_transaction_with_a_slot_the_fold_did_not_give_is_refused()
    {
        var fold = new GoldFold();
        var account = fold.EncodeAccount("ACC-1", "ZAR");
        Assert.Throws<ArgumentOutOfRangeException>(() => fold.Fold(new EncodedTransaction(account, 0, 100, true, 0, 0, 1, 0, 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => fold.Fold(new EncodedTransaction(account + 1, 0, 100, true, 0, 0, 1, 0, 0)));
        Assert.False(fold.HasChanges);
    }

    [Fact]
    public void Folding_is_insensitive_to_order_so_late_and_out_of_order_rows_land_where_they_belong()
    {
        Check.One(Runs, Prop.ForAll(SilverStreams.StreamAndShuffle, sample =>
            Assert.Equal(Describe(FoldAll(sample.Items)), Describe(FoldAll(sample.Shuffled)))));
    }

    [Fact]
    public void The_latest_image_of_every_key_across_all_change_sets_is_the_current_table()
    {
        Check.One(Runs, Prop.ForAll(SilverStreams.StreamAndCuts, sample =>
        {
            var fold = new GoldFold();
            List<GoldChangeSet> changes = [];
            var from = 0;
            foreach (var cut in sample.Cuts.Append(sample.Items.Length))
            {
                foreach (var item in sample.Items[from..cut])
                {
                    item.FoldInto(fold);
                }

                changes.Add(fold.TakeChanges(changes.Count + 1, DateTimeOffset.UnixEpoch));
                from = cut;
            }

            // Nothing is left to take, and the change sets replayed by key and version are the tables.
            Assert.False(fold.HasChanges);
            Assert.Equal(Lines(fold.AccountBalances()), Lines(Latest(changes.SelectMany(c => c.Accounts), a => a.AccountId, a => a.GoldVersion)));
            Assert.Equal(Lines(fold.CustomerPositions()), Lines(Latest(changes.SelectMany(c => c.Customers), c => (c.CustomerId, c.Currency), c => c.GoldVersion)));
            Assert.Equal(Lines(fold.DailySummaries()), Lines(Latest(changes.SelectMany(c => c.Daily), d => d.Key, d => d.GoldVersion)));
            Assert.Equal(Lines(fold.LoanStatuses()), Lines(Latest(changes.SelectMany(c => c.Loans), l => l.LoanId, l => l.GoldVersion)));

            // A fold restored from those rows continues exactly like the original.
            var restored = GoldFold.Restore(
                fold.AccountBalances(),
                sample.Items.OfType<CustomerItem>().Select(c => c.Fact),
                fold.LoanStatuses(),
                fold.DailySummaries());

            // The daily-account memory is not in gold: it comes back from silver's transactions (duplicates and all).
            foreach (var t in sample.Items.OfType<TransactionItem>().Select(t => t.Fact))
            {
                restored.RestoreDailyAccount(new DailyKey(t.EventDate, t.Category, t.Country, t.City, t.Currency), t.AccountId);
            }

            Assert.Null(restored.CheckDailyAccounts());
            Assert.Equal(fold.DailyAccountCount, restored.DailyAccountCount);
            Assert.False(restored.HasChanges);
            Assert.Equal(Describe(fold), Describe(restored));
            foreach (var item in sample.Items.Take(10))
            {
                item.FoldInto(fold);
                item.FoldInto(restored);
            }

            Assert.Equal(Describe(fold), Describe(restored));
            Assert.Equal(Describe(fold.TakeChanges(99, default)), Describe(restored.TakeChanges(99, default)));
        }));
    }

    [Fact]
    public void Balance_is_opening_plus_credits_minus_debits_per_account_in_its_own_currency()
    {
        Check.One(Runs, Prop.ForAll(SilverStreams.Stream.ToArbitrary(), items =>
        {
            var fold = FoldAll(items);
            var transactions = items.OfType<TransactionItem>().Select(t => t.Fact).ToList();
            var openings = items.OfType<AccountItem>().Select(a => a.Fact).GroupBy(a => a.AccountId)
                .ToDictionary(g => g.Key, g => g.MinBy(a => (a.SourcePartition, a.SourceOffset))!);
            foreach (var row in fold.AccountBalances())
            {
                var mine = transactions.Where(t => t.AccountId == row.AccountId).ToList();
                var credits = mine.Where(t => t.IsCredit).Sum(t => t.Amount);
                var debits = mine.Where(t => !t.IsCredit).Sum(t => t.Amount);
                var opening = openings.GetValueOrDefault(row.AccountId);
                Assert.Equal(credits, row.TotalCredits);
                Assert.Equal(debits, row.TotalDebits);
                Assert.Equal(mine.Count, row.TransactionCount);
                Assert.Equal((opening?.OpeningBalance ?? 0) + credits - debits, row.Balance);
                Assert.Equal(row.Balance + (opening?.OverdraftLimit ?? 0), row.AvailableBalance);
                Assert.Equal(opening?.OpeningBalance, row.OpeningBalance);
                Assert.Equal(opening?.CustomerId, row.CustomerId);
                Assert.All(mine, t => Assert.Equal(row.Currency, t.Currency));
            }

            // Customer deposits are their accounts' balances, per currency: never a cross-currency sum.
            foreach (var position in fold.CustomerPositions())
            {
                var accounts = fold.AccountBalances().Where(a => a.CustomerId == position.CustomerId && a.Currency == position.Currency).ToList();
                Assert.Equal(accounts.Count, position.Accounts);
                Assert.Equal(accounts.Sum(a => a.Balance), position.Deposits);
                Assert.Equal(position.Deposits - position.LoansOutstanding, position.NetPosition);
            }
        }));
    }

    [Fact]
    public void Daily_summary_count_sum_min_max_avg_and_distinct_accounts_agree_with_the_rows_of_each_day()
    {
        Check.One(Runs, Prop.ForAll(SilverStreams.Stream.ToArbitrary(), items =>
        {
            var fold = FoldAll(items);
            var groups = items.OfType<TransactionItem>().Select(t => t.Fact)
                .GroupBy(t => new DailyKey(t.EventDate, t.Category, t.Country, t.City, t.Currency)).ToDictionary(g => g.Key);
            var rows = fold.DailySummaries();
            Assert.Equal(groups.Count, rows.Count);
            foreach (var row in rows)
            {
                var group = groups[row.Key];
                Assert.Equal(group.Count(), row.TransactionCount);
                Assert.Equal(group.Sum(t => t.Amount), row.TotalAmount);
                Assert.Equal(group.Sum(t => t.IsCredit ? t.Amount : -t.Amount), row.NetAmount);
                Assert.Equal(group.Min(t => t.Amount), row.MinAmount);
                Assert.Equal(group.Max(t => t.Amount), row.MaxAmount);
                Assert.Equal(Math.Round(row.TotalAmount / row.TransactionCount, 2, MidpointRounding.AwayFromZero), row.AvgAmount);
                Assert.InRange(row.AvgAmount, row.MinAmount, row.MaxAmount);
                Assert.Equal(group.Select(t => t.AccountId).Distinct().Count(), row.DistinctAccounts);
                Assert.Equal(group.Sum(t => (long)Math.Round(t.Latitude * 1e6, MidpointRounding.AwayFromZero)), row.LatitudeMicroSum);
                Assert.Equal(group.Sum(t => (long)Math.Round(t.Longitude * 1e6, MidpointRounding.AwayFromZero)), row.LongitudeMicroSum);
            }
        }));
    }

    [Fact]
    public void Partial_aggregates_merged_in_any_grouping_equal_the_row_by_row_fold()
    {
        Check.One(Runs, Prop.ForAll(SilverStreams.StreamAndCuts, sample =>
        {
            var rows = FoldAll(sample.Items);
            var merged = new GoldFold();
            foreach (var item in sample.Items.Where(i => i is not (TransactionItem or PaymentItem)))
            {
                item.FoldInto(merged);
            }

            // Each batch pre-aggregated (what the DuckDB reader does), batches merged in reverse.
            var from = 0;
            List<SilverItem[]> batches = [];
            foreach (var cut in sample.Cuts.Append(sample.Items.Length))
            {
                batches.Add(sample.Items[from..cut]);
                from = cut;
            }

            foreach (var batch in Enumerable.Reverse(batches))
            {
                MergeAsPartials(merged, batch);
            }

            Assert.Equal(Describe(rows), Describe(merged));
        }));
    }

    [Fact]
    public void A_late_transaction_changes_only_its_own_day_and_account()
    {
        var fold = new GoldFold();
        var today = new TransactionFact("ACC-1", "deposit", true, 10m, "ZAR", null, "Durban", "ZA", SilverStreams.Start.AddDays(3), 0, 1);
        var other = today with { AccountId = "ACC-2", SourceOffset = 2 };
        fold.Fold(today);
        fold.Fold(other);
        fold.TakeChanges(1, default);

        var late = today with { OccurredAt = SilverStreams.Start, Amount = 4m, SourceOffset = 3 };
        fold.Fold(late);
        var changes = fold.TakeChanges(2, default);
        var day = Assert.Single(changes.Daily);
        Assert.Equal(DateOnly.FromDateTime(SilverStreams.Start.UtcDateTime), day.EventDate);
        Assert.Equal(1, day.TransactionCount);
        Assert.Equal(4m, day.TotalAmount);
        var account = Assert.Single(changes.Accounts);
        Assert.Equal("ACC-1", account.AccountId);
        Assert.Equal(14m, account.Balance);
        Assert.Equal(SilverStreams.Start, account.FirstTransactionAt);
        Assert.Equal(2, account.GoldVersion);
        Assert.Equal(1, fold.DailySummaries().Single(d => d.EventDate != day.EventDate).GoldVersion);
    }

    [Fact]
    public void Loans_owe_principal_minus_principal_repaid_and_are_late_against_the_data_s_own_date()
    {
        var fold = new GoldFold();
        var start = new DateTimeOffset(2026, 3, 10, 9, 0, 0, TimeSpan.Zero);
        fold.Fold(new LoanFact("LN-1", "CUS-1", "ACC-1", "personal", 1200m, "ZAR", 0.12m, 12, 106.62m, new DateOnly(2026, 1, 31), start.AddMonths(-2), 0, 1));
        fold.Fold(new LoanPaymentFact("LN-1", 106.62m, 94.62m, 12m, start.AddMonths(-1), 0, 2));
        Assert.Equal(0, fold.LoanStatuses().Single().DaysPastDue);

        // Any later fact moves the data's clock: the instalment due 28 Feb is then 10 days late.
        fold.Fold(new TransactionFact("ACC-9", "deposit", true, 1m, "ZAR", null, "Durban", "ZA", start, 1, 3));
        var loan = fold.LoanStatuses().Single();
        Assert.Equal(1200m - 94.62m, loan.Outstanding);
        Assert.Equal(1, loan.InstalmentsPaid);
        Assert.Equal(new DateOnly(2026, 2, 28), loan.NextDueDate);
        Assert.Equal(new DateOnly(2026, 3, 10), loan.AsOfDate);
        Assert.Equal(10, loan.DaysPastDue);
        Assert.Equal(1200m - 94.62m, fold.CustomerPositions().Single().LoansOutstanding);
        Assert.Equal(12m, fold.CustomerPositions().Single().LoanInterestPaid);
    }

    internal static GoldFold FoldAll(IEnumerable<SilverItem> items)
    {
        var fold = new GoldFold();
        foreach (var item in items)
        {
            item.FoldInto(fold);
        }

        return fold;
    }

    private static void MergeAsPartials(GoldFold fold, SilverItem[] batch)
    {
        var transactions = batch.OfType<TransactionItem>().Select(t => t.Fact).ToList();
        var slots = new Dictionary<string, int>();
        foreach (var g in transactions.GroupBy(t => t.AccountId))
        {
            slots[g.Key] = fold.MergeAccountActivity(g.Key, g.First().Currency, g.Count(),
                g.Where(t => t.IsCredit).Sum(t => (long)(t.Amount * 100)), g.Where(t => !t.IsCredit).Sum(t => (long)(t.Amount * 100)),
                g.Min(t => Units.Micros(t.OccurredAt)), g.Max(t => Units.Micros(t.OccurredAt)), g.Min(t => t.SourcePartition), g.Max(t => t.SourceOffset));
        }

        foreach (var g in transactions.GroupBy(t => new DailyKey(t.EventDate, t.Category, t.Country, t.City, t.Currency)))
        {
            var bucket = fold.MergeDaily(g.Key, g.Count(), g.Sum(t => (long)(t.Amount * 100)), g.Sum(t => (long)(t.Amount * 100) * (t.IsCredit ? 1 : -1)),
                g.Min(t => (long)(t.Amount * 100)), g.Max(t => (long)(t.Amount * 100)),
                g.Sum(t => (long)Units.MicroDegrees(t.Latitude)), g.Sum(t => (long)Units.MicroDegrees(t.Longitude)));
            foreach (var account in g.Select(t => t.AccountId).Distinct())
            {
                fold.AddDailyAccount(bucket, slots[account]);
            }
        }

        foreach (var t in transactions)
        {
            fold.Observe(Units.Micros(t.OccurredAt));
        }

        foreach (var g in batch.OfType<PaymentItem>().Select(p => p.Fact).GroupBy(p => p.LoanId))
        {
            fold.MergeLoanPayments(g.Key, g.Count(), g.Sum(p => (long)(p.Amount * 100)), g.Sum(p => (long)(p.PrincipalPortion * 100)), g.Sum(p => (long)(p.InterestPortion * 100)),
                g.Max(p => Units.Micros(p.OccurredAt)), g.Min(p => p.SourcePartition), g.Max(p => p.SourceOffset));
            fold.Observe(g.Max(p => Units.Micros(p.OccurredAt)));
        }
    }

    private static IEnumerable<T> Latest<T, TKey>(IEnumerable<T> images, Func<T, TKey> key, Func<T, long> version) where TKey : notnull =>
        images.GroupBy(key).Select(g => g.MaxBy(version)!);

    /// <summary>The business content of every table, lineage cleared, one line per row in key order.</summary>
    internal static string Describe(GoldFold fold) =>
        string.Join("\n", Lines(fold.AccountBalances()).Concat(Lines(fold.CustomerPositions())).Concat(Lines(fold.DailySummaries())).Concat(Lines(fold.LoanStatuses())))
        + $"\nwatermark {fold.Watermark:O}";

    private static string Describe(GoldChangeSet changes) =>
        string.Join("\n", Lines(changes.Accounts).Concat(Lines(changes.Customers)).Concat(Lines(changes.Daily)).Concat(Lines(changes.Loans)));

    private static List<string> Lines(IEnumerable<AccountBalance> rows) => [.. rows.Select(r => (r with { GoldVersion = 0, UpdatedAt = default }).ToString()).Order(StringComparer.Ordinal)];
    private static List<string> Lines(IEnumerable<CustomerPosition> rows) => [.. rows.Select(r => (r with { GoldVersion = 0, UpdatedAt = default }).ToString()).Order(StringComparer.Ordinal)];
    private static List<string> Lines(IEnumerable<DailySummary> rows) => [.. rows.Select(r => (r with { GoldVersion = 0, UpdatedAt = default }).ToString()).Order(StringComparer.Ordinal)];
    private static List<string> Lines(IEnumerable<LoanStatusRow> rows) => [.. rows.Select(r => (r with { GoldVersion = 0, UpdatedAt = default }).ToString()).Order(StringComparer.Ordinal)];
}
