using Xunit;

namespace BaloyiBank.Generator.Tests;

public sealed class DefectShareTests
{
    private static readonly GeneratorOptions Defaults = new() { InitialCustomers = 2_000 };

    [Fact]
    public void Each_kind_appears_in_its_configured_share_of_transactions()
    {
        const int events = 200_000;
        var tally = GeneratedEvents.Tally(Defaults, events);
        var transactions = tally.ByType["transaction.posted"];
        Assert.True(transactions > events * 0.9);
        foreach (var kind in EventKinds.All)
        {
            var expected = Defaults.Defects.ShareOf(kind);
            var observed = tally.ByKind[kind] / (double)transactions;
            // Five standard deviations of a binomial share, and never tighter than 15 % of the share.
            var tolerance = Math.Max(0.15 * expected, 5 * Math.Sqrt(expected * (1 - expected) / transactions));
            Assert.True(Math.Abs(observed - expected) <= tolerance,
                $"{kind}: observed {observed:P3} of {transactions} transactions, configured {expected:P3} (± {tolerance:P3})");
        }

        Assert.Equal(events, tally.ByKind.Values.Sum());
    }

    [Fact]
    public void A_default_200k_event_stream_holds_every_event_type_loan_payments_included()
    {
        // export-csv writes a 200k-event bank as five files: each must have rows.
        var tally = GeneratedEvents.Tally(new GeneratorOptions(), 200_000);
        foreach (var type in BaloyiBank.Contracts.EventTypes.All)
        {
            Assert.True(tally.ByType[type] > 0, $"{type}: none in the first 200,000 events of the default stream");
        }

        Assert.True(tally.ByType["loan.payment_made"] >= 20, $"only {tally.ByType["loan.payment_made"]} loan payments in 200,000 events");
    }

    [Fact]
    public void A_share_of_zero_produces_none_of_that_kind()
    {
        var options = new GeneratorOptions
        {
            InitialCustomers = 500,
            Defects = new DefectShares { Duplicate = 0, MalformedJson = 0.05, MissingField = 0, Late = 0, FutureTimestamp = 0.05, UnknownAccount = 0, UnknownCurrency = 0, NonPositiveAmount = 0 },
        };
        var tally = GeneratedEvents.Tally(options, 60_000);
        Assert.Equal(0, tally.ByKind[EventKind.Duplicate]);
        Assert.Equal(0, tally.ByKind[EventKind.MissingField]);
        Assert.Equal(0, tally.ByKind[EventKind.Late]);
        Assert.Equal(0, tally.ByKind[EventKind.UnknownAccount]);
        Assert.True(tally.ByKind[EventKind.MalformedJson] > 1_000);
        Assert.True(tally.ByKind[EventKind.FutureTimestamp] > 1_000);

        var clean = new GeneratorOptions { InitialCustomers = 500, Defects = new DefectShares { Late = 0, Duplicate = 0, MalformedJson = 0, MissingField = 0, UnknownCurrency = 0, NonPositiveAmount = 0, UnknownAccount = 0, FutureTimestamp = 0 } };
        Assert.Equal(60_000, GeneratedEvents.Tally(clean, 60_000).ByKind[EventKind.Clean]);
    }

    [Fact]
    public void Reference_events_are_always_clean()
    {
        var dirty = new GeneratorOptions { InitialCustomers = 300, Defects = new DefectShares { MalformedJson = 0.2, MissingField = 0.2 } };
        foreach (var record in GeneratedEvents.Records(dirty).Take(20_000))
        {
            if (record.EventType != "transaction.posted")
            {
                Assert.Equal(EventKind.Clean, record.Kind);
            }
        }
    }
}
