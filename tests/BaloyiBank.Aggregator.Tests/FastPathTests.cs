using FsCheck;
using FsCheck.Fluent;

namespace BaloyiBank.Aggregator.Tests;

/// <summary>The fold's faster building blocks agree exactly with the plain .NET ones they replace.</summary>
public sealed class FastPathTests
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(500);

    [Fact]
    public void The_pair_set_answers_like_a_HashSet_for_any_sequence_of_adds_including_repeats_and_growth()
    {
        // Few distinct high parts and a small range of low parts, so repeats are common; long runs force resizes.
        var pair = Gen.Choose(0, 40).SelectMany(b => Gen.Choose(0, 5_000).Select(a => ((long)b << 32) | (uint)a));
        Check.One(Runs, Prop.ForAll(pair.ArrayOf().ToArbitrary(), values =>
        {
            var set = new PairSet();
            HashSet<long> reference = [];
            foreach (var value in values)
            {
                Assert.Equal(reference.Add(value), set.Add(value));
            }

            Assert.Equal(reference.Count, set.Count);
            Assert.All(values, v => Assert.True(set.Contains(v)));
            Assert.False(set.Contains(((long)41 << 32) | 7));
        }));
    }

    [Fact]
    public void Removing_the_pairs_of_some_buckets_leaves_exactly_the_others_and_the_set_still_answers_like_a_HashSet()
    {
        var pair = Gen.Choose(0, 40).SelectMany(b => Gen.Choose(0, 5_000).Select(a => ((long)b << 32) | (uint)a));
        var buckets = Gen.Choose(0, 40).ArrayOf();
        Check.One(Runs, Prop.ForAll(pair.ArrayOf().ToArbitrary(), buckets.ToArbitrary(), pair.ArrayOf().ToArbitrary(), (values, removed, later) =>
        {
            var set = new PairSet();
            HashSet<long> reference = [.. values];
            foreach (var value in values)
            {
                set.Add(value);
            }

            var gone = removed.ToHashSet();
            Assert.Equal(reference.RemoveWhere(v => gone.Contains((int)(v >> 32))), set.RemoveWhere(v => gone.Contains((int)(v >> 32))));
            Assert.Equal(reference.Count, set.Count);
            Assert.All(values, v => Assert.Equal(reference.Contains(v), set.Contains(v)));
            foreach (var value in later)
            {
                Assert.Equal(reference.Add(value), set.Add(value));
            }

            Assert.Equal(reference.Count, set.Count);
        }));
    }

    [Fact]
    public void The_pair_set_keeps_every_value_across_a_reservation_and_many_resizes()
    {
        var set = new PairSet();
        set.EnsureCapacity(1_000);
        for (long i = 0; i < 200_000; i++)
        {
            Assert.True(set.Add((i % 300 << 32) | (uint)(i * 7)));
        }

        Assert.Equal(200_000, set.Count);
        for (long i = 0; i < 200_000; i++)
        {
            Assert.False(set.Add((i % 300 << 32) | (uint)(i * 7)));
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => set.Add(-1));
    }

    [Fact]
    public void Cents_of_any_amount_with_at_most_two_places_equal_decimal_arithmetic()
    {
        var amounts = Gen.Choose(0, 2).SelectMany(scale => ArbMap.Default.GeneratorFor<long>().Select(m => new decimal(m) / (scale == 0 ? 1m : scale == 1 ? 10m : 100m)));
        Check.One(Runs, Prop.ForAll(amounts.ToArbitrary(), amount =>
        {
            var expected = decimal.ToInt64(amount * 100m);
            Assert.Equal(expected, Units.Cents(amount));
            Assert.Equal(amount, Units.Money(expected));
        }));
    }

    [Fact]
    public void Cents_accept_trailing_zero_places_and_refuse_fractions_of_a_cent_and_overflow()
    {
        Assert.Equal(150, Units.Cents(1.500m));
        Assert.Equal(-150, Units.Cents(-1.5m));
        Assert.Equal(0, Units.Cents(0.000m));
        Assert.Equal(long.MaxValue, Units.Cents(long.MaxValue / 100m));
        Assert.Throws<ArgumentException>(() => Units.Cents(1.005m));
        Assert.Throws<OverflowException>(() => Units.Cents(long.MaxValue / 10m));
        Assert.Throws<OverflowException>(() => Units.Cents(decimal.MaxValue));
    }

    [Fact]
    public void Money_has_two_places_and_the_value_of_the_cents_at_the_extremes()
    {
        foreach (var cents in new[] { 0L, 1, -1, 99, -100, 12_345, long.MaxValue, long.MinValue })
        {
            var money = Units.Money(cents);
            Assert.Equal(new decimal(cents) / 100m, money);
            Assert.Equal(2, money.Scale);
        }
    }

    [Fact]
    public void Dates_of_instants_in_microseconds_are_their_UTC_dates_before_and_after_1970()
    {
        Check.One(Runs, Prop.ForAll(ArbMap.Default.GeneratorFor<long>().Select(x => x % 60_000_000_000_000_000L).ToArbitrary(), micros =>
            Assert.Equal(DateOnly.FromDateTime(Units.Instant(micros).UtcDateTime), Units.Date(micros))));
    }
}
