using FsCheck;
using FsCheck.Fluent;

namespace BaloyiBank.Aggregator.Tests;

/// <summary>One silver row of any table, with its log position: what the fold consumes.</summary>
internal abstract record SilverItem
{
    public abstract void FoldInto(GoldFold fold);
}

internal sealed record TransactionItem(TransactionFact Fact) : SilverItem
{
    public override void FoldInto(GoldFold fold) => fold.Fold(Fact);
}

internal sealed record AccountItem(AccountFact Fact) : SilverItem
{
    public override void FoldInto(GoldFold fold) => fold.Fold(Fact);
}

internal sealed record CustomerItem(CustomerFact Fact) : SilverItem
{
    public override void FoldInto(GoldFold fold) => fold.Fold(Fact);
}

internal sealed record LoanItem(LoanFact Fact) : SilverItem
{
    public override void FoldInto(GoldFold fold) => fold.Fold(Fact);
}

internal sealed record PaymentItem(LoanPaymentFact Fact) : SilverItem
{
    public override void FoldInto(GoldFold fold) => fold.Fold(Fact);
}

/// <summary>
/// Generators of small, consistent silver streams: few ids so keys collide, two currencies, days that
/// straddle midnight, late rows, repeated reference rows. Each account keeps one currency, customer and
/// partition (as cleansing guarantees); every row's position is unique.
/// </summary>
internal static class SilverStreams
{
    public static readonly string[] Currencies = ["ZAR", "USD"];
    private static readonly string[] Categories = ["groceries", "fuel", "travel"];
    private static readonly string[] Types = ["deposit", "withdrawal", "card_purchase", "transfer_in", "fee"];
    private static readonly string[] Cities = ["Johannesburg", "Cape Town", "Durban"];
    public static readonly DateTimeOffset Start = new(2026, 1, 1, 20, 0, 0, TimeSpan.Zero);

    public static string Account(int i) => $"ACC-{i:D3}";
    public static string Customer(int i) => $"CUS-{i % 4:D3}";
    public static string CurrencyOf(int account) => Currencies[account % 2];
    public static int PartitionOf(int account) => account % 3;

    private static Gen<Func<long, SilverItem>> Transaction =>
        from account in Gen.Choose(0, 7)
        from type in Gen.Elements(Types)
        from cents in Gen.Choose(1, 500_000)
        from category in Gen.Elements(Categories)
        from city in Gen.Elements(Cities)
        from minutes in Gen.Choose(-3000, 3000)
        from latitude in Gen.Choose(-90_000_000, 90_000_000)
        from longitude in Gen.Choose(-180_000_000, 180_000_000)
        select (Func<long, SilverItem>)(offset => new TransactionItem(new TransactionFact(
            Account(account), type, type is "deposit" or "transfer_in", cents / 100m, CurrencyOf(account),
            type == "card_purchase" ? category : null, city, "ZA", Start.AddMinutes(minutes).AddTicks(offset * 10), PartitionOf(account), offset,
            latitude / 1e6, longitude / 1e6)));

    private static Gen<Func<long, SilverItem>> AccountOpening =>
        from account in Gen.Choose(0, 7)
        from opening in Gen.Choose(0, 100_000)
        from overdraft in Gen.Elements(0, 5_000, 20_000)
        from type in Gen.Elements("cheque", "savings")
        from minutes in Gen.Choose(-5000, 0)
        select (Func<long, SilverItem>)(offset => new AccountItem(new AccountFact(
            Account(account), Customer(account), type, CurrencyOf(account), opening / 100m, overdraft / 100m, Start.AddMinutes(minutes), PartitionOf(account), offset)));

    private static Gen<Func<long, SilverItem>> Registration =>
        from customer in Gen.Choose(0, 3)
        from segment in Gen.Elements("retail", "premier")
        select (Func<long, SilverItem>)(offset => new CustomerItem(new CustomerFact(
            Customer(customer), $"First{offset}", "Last", segment, "Pretoria", "ZA", Start.AddDays(-2), customer % 3, offset)));

    private static Gen<Func<long, SilverItem>> Disbursement =>
        from loan in Gen.Choose(0, 2)
        from principal in Gen.Choose(100_000, 1_000_000)
        from term in Gen.Choose(1, 6)
        select (Func<long, SilverItem>)(offset => new LoanItem(new LoanFact(
            $"LN-{loan}", Customer(loan), Account(loan), "personal", principal / 100m, CurrencyOf(loan), 0.1125m, term, principal / 100m / term,
            new DateOnly(2025, 11, 30), Start.AddDays(-1), PartitionOf(loan), offset)));

    private static Gen<Func<long, SilverItem>> Payment =>
        from loan in Gen.Choose(0, 2)
        from principal in Gen.Choose(1, 100_000)
        from interest in Gen.Choose(0, 10_000)
        from minutes in Gen.Choose(-2000, 2000)
        select (Func<long, SilverItem>)(offset => new PaymentItem(new LoanPaymentFact(
            $"LN-{loan}", (principal + interest) / 100m, principal / 100m, interest / 100m, Start.AddMinutes(minutes), PartitionOf(loan), offset)));

    /// <summary>A stream of up to ~60 rows, mostly transactions, each with a unique offset.</summary>
    public static Gen<SilverItem[]> Stream =>
        Gen.Frequency(
                (12, Transaction),
                (3, AccountOpening),
                (1, Registration),
                (1, Disbursement),
                (2, Payment))
            .ListOf()
            .Select(makers => OneOpeningPerAccount(makers.Select((make, i) => make(1000 + i))));

    /// <summary>
    /// Silver holds one opening per account (cleansing quarantines a second one as duplicate_account, and an
    /// account's events all sit on one partition), so later openings of the same account are dropped here.
    /// </summary>
    private static SilverItem[] OneOpeningPerAccount(IEnumerable<SilverItem> items)
    {
        var opened = new HashSet<string>(StringComparer.Ordinal);
        return [.. items.Where(item => item is not AccountItem account || opened.Add(account.Fact.AccountId))];
    }

    /// <summary>A stream and a random split of it into consecutive batches (cut points).</summary>
    public static Arbitrary<(SilverItem[] Items, int[] Cuts)> StreamAndCuts =>
        Stream.SelectMany(items => Gen.ListOf(Gen.Choose(0, Math.Max(0, items.Length)))
            .Select(cuts => (items, cuts.Distinct().Order().ToArray()))).ToArbitrary();

    /// <summary>A stream and a permutation of it.</summary>
    public static Arbitrary<(SilverItem[] Items, SilverItem[] Shuffled)> StreamAndShuffle =>
        Stream.SelectMany(items => Gen.Shuffle(items).Select(shuffled => (items, shuffled.ToArray()))).ToArbitrary();
}
