using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace BaloyiBank.Generator.Tests;

/// <summary>Invariants of the generated stream for random seeds, checked by an independent reader of the payloads.</summary>
public sealed class StreamPropertyTests
{
    private const int Partitions = 8;

    [Fact]
    public void Clean_data_keeps_its_promises_and_every_kind_is_what_the_bytes_say_for_random_seeds()
    {
        var property = Prop.ForAll(
            Arb.From(ArbMap.Default.GeneratorFor<long>()),
            Arb.From(Gen.Choose(5, 120)),
            (seed, customers) =>
            {
                // Shares ten times the defaults so that every kind shows up in a short stream.
                var options = new GeneratorOptions
                {
                    Seed = seed,
                    InitialCustomers = customers,
                    EventsPerSimulatedDay = 20_000,
                    Defects = new DefectShares
                    {
                        Late = 0.05, Duplicate = 0.03, MalformedJson = 0.02, MissingField = 0.02,
                        UnknownCurrency = 0.02, NonPositiveAmount = 0.02, UnknownAccount = 0.02, FutureTimestamp = 0.02,
                    },
                };
                var audit = new StreamAudit(Partitions);
                var mismatches = new List<string>();
                var produced = new long[EventKinds.All.Count];
                foreach (var record in GeneratedEvents.Records(options).Take(12_000))
                {
                    produced[(int)record.Kind]++;
                    var seen = audit.Classify(record.Sequence, record.Key, record.Payload);
                    if (seen != record.Kind && mismatches.Count < 5)
                    {
                        mismatches.Add($"seq {record.Sequence}: generated {record.Kind}, payload reads as {seen}");
                    }
                }

                Assert.Empty(audit.Violations);
                Assert.Empty(mismatches);
                foreach (var kind in EventKinds.All)
                {
                    Assert.Equal(produced[(int)kind], audit.Count(kind));
                }
            });

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(12), property);
    }

    [Fact]
    public void Instalments_follow_the_amortisation_formula_and_pay_the_loan_off()
    {
        Prop.ForAll(
            Arb.From(Gen.Choose(1_000, 5_000_000)),
            Arb.From(Gen.Choose(0, 2_800)),
            Arb.From(Gen.Elements(6, 12, 24, 60, 72, 240, 360)),
            (rand, basisPoints, term) =>
            {
                var principalCents = rand * 100L;
                var monthlyRate = basisPoints / 10_000m / 12m;
                var instalment = Loan.Instalment(principalCents, monthlyRate, term);

                var r = (double)monthlyRate;
                var expected = r == 0 ? principalCents / (double)term : principalCents * r / (1 - Math.Pow(1 + r, -term));
                Assert.InRange(instalment - expected, -1.0, 1.0);

                // Paying the schedule: the last instalment settles what is left. Each month the instalment and the
                // interest are rounded to the cent (at most half a cent each), and every such cent keeps earning
                // interest, so the last instalment may differ from the others by at most the compounded sum of
                // those cents: sum over k < term of (1 + r)^k, plus one cent.
                var outstanding = principalCents;
                for (var n = 1; n < term; n++)
                {
                    outstanding -= instalment - Money.ToCents(Money.FromCents(outstanding) * monthlyRate);
                }

                var last = outstanding + Money.ToCents(Money.FromCents(outstanding) * monthlyRate);
                var bound = (long)Math.Ceiling(r == 0 ? term : (Math.Pow(1 + r, term) - 1) / r) + 1;
                Assert.InRange(last - instalment, -bound, bound);
            }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Cents_become_decimals_with_exactly_two_places()
    {
        Prop.ForAll(Arb.From(ArbMap.Default.GeneratorFor<long>().Where(c => c > long.MinValue)), cents =>
        {
            var amount = Money.FromCents(cents);
            Assert.Equal(2, amount.Scale);
            Assert.Equal(cents, Money.ToCents(amount));
        }).QuickCheckThrowOnFailure();
    }
}
