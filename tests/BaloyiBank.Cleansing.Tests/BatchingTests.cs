using FsCheck;
using FsCheck.Fluent;

namespace BaloyiBank.Cleansing.Tests;

public sealed class BatchingTests
{
    private static readonly DateTimeOffset Opened = new(2026, 3, 1, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_flush_policy_fires_at_the_first_limit_reached()
    {
        var policy = FlushPolicy.From(new CleansingOptions());
        Assert.False(policy.ShouldFlush(199_999, 128L * 1024 * 1024 - 1, TimeSpan.FromMilliseconds(1999)));
        Assert.True(policy.ShouldFlush(200_000, 0, TimeSpan.Zero));
        Assert.True(policy.ShouldFlush(0, 128L * 1024 * 1024, TimeSpan.Zero));
        Assert.True(policy.ShouldFlush(0, 0, TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public void The_flush_policy_is_monotone()
    {
        Prop.ForAll(
            Arb.From(Triple(200, 5_000, 3_000)),
            Arb.From(Triple(100, 2_000, 1_000)),
            (start, growth) =>
            {
                var (rows, bytes, ageMs) = start;
                var (moreRows, moreBytes, moreMs) = growth;
                var policy = new FlushPolicy(100, 2_500, TimeSpan.FromMilliseconds(1_500));
                var before = policy.ShouldFlush(rows, bytes, TimeSpan.FromMilliseconds(ageMs));
                var after = policy.ShouldFlush(rows + moreRows, bytes + moreBytes, TimeSpan.FromMilliseconds(ageMs + moreMs));
                return !before || after;
            }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void The_age_limit_comes_forward_by_the_expected_flush_time_but_never_by_more_than_half()
    {
        var policy = new FlushPolicy(1_000, 1_000_000, TimeSpan.FromSeconds(2));

        Assert.False(policy.ShouldFlush(10, 10, TimeSpan.FromMilliseconds(1_400), TimeSpan.FromMilliseconds(500)));
        Assert.True(policy.ShouldFlush(10, 10, TimeSpan.FromMilliseconds(1_500), TimeSpan.FromMilliseconds(500)));
        // A slow flush (5 s) counts as 1 s only: a batch is at least half the age limit old.
        Assert.False(policy.ShouldFlush(10, 10, TimeSpan.FromMilliseconds(999), TimeSpan.FromSeconds(5)));
        Assert.True(policy.ShouldFlush(10, 10, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5)));
        Assert.Equal(TimeSpan.Zero, policy.EffectiveLead(TimeSpan.FromSeconds(-1)));
    }

    [Fact]
    public void The_flush_policy_is_monotone_in_the_lead_too()
    {
        Prop.ForAll(
            Arb.From(Triple(200, 5_000, 3_000)),
            Arb.From(Gen.Zip(Gen.Choose(-500, 4_000), Gen.Choose(0, 4_000))),
            (start, leads) =>
            {
                var (rows, bytes, ageMs) = start;
                var (leadMs, moreLeadMs) = leads;
                var policy = new FlushPolicy(100, 2_500, TimeSpan.FromMilliseconds(1_500));
                var before = policy.ShouldFlush(rows, bytes, TimeSpan.FromMilliseconds(ageMs), TimeSpan.FromMilliseconds(leadMs));
                var after = policy.ShouldFlush(rows, bytes, TimeSpan.FromMilliseconds(ageMs), TimeSpan.FromMilliseconds(leadMs + moreLeadMs));
                var lead = policy.EffectiveLead(TimeSpan.FromMilliseconds(leadMs));
                return (!before || after) && lead >= TimeSpan.Zero && lead <= policy.MaxAge / 2;
            }).QuickCheckThrowOnFailure();
    }

    private static Gen<(int, int, int)> Triple(int a, int b, int c) =>
        Gen.Zip(Gen.Choose(0, a), Gen.Zip(Gen.Choose(0, b), Gen.Choose(0, c)), (x, yz) => (x, yz.Item1, yz.Item2));

    [Fact]
    public void A_batch_knows_its_range_counts_event_times_and_file_stem()
    {
        var cleanser = new RawEventCleanser();
        var state = Wire.NewState(partition: 3);
        var batch = new MicroBatch(3, Opened, cleanser.Options.MaxPayloadBytes);
        Assert.True(batch.IsEmpty);
        Assert.False(batch.ShouldFlush(new FlushPolicy(1, 1, TimeSpan.Zero), Opened.AddHours(1)));

        byte[][] payloads =
        [
            Wire.Bytes(Wire.Transaction),
            Wire.Bytes(Wire.Transaction),
            Wire.Bytes("{"),
            Wire.Bytes(Wire.Edit(Wire.Transaction, o => { o["transactionId"] = "TXN-2"; o["occurredAt"] = "2026-03-01T09:59:00Z"; })),
            Wire.Bytes(Wire.Edit(Wire.Transaction, o => o["currency"] = "QQQ")),
        ];
        var offset = 1_000L;
        foreach (var payload in payloads)
        {
            var raw = new RawEvent(3, offset, Wire.EnqueuedAt, Wire.IngestedAt, payload);
            batch.Add(raw, cleanser.Process(raw, state));
            offset += 2; // offsets need not be dense, only growing
        }

        Assert.Equal("part-p0003-o000000001000-000000001008", batch.FileStem);
        Assert.Equal(5, batch.Consumed);
        Assert.Equal(2, batch.Valid);
        Assert.Equal(2, batch.Quarantined);
        Assert.Equal(1, batch.Duplicates);
        Assert.Equal(2, batch.Transactions.Count);
        Assert.Equal(1, batch.QuarantineByReason[QuarantineReasons.MalformedJson]);
        Assert.Equal(1, batch.QuarantineByReason[QuarantineReasons.UnknownCurrency]);
        Assert.Equal(2, batch.QuarantineRows.Count);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 9, 59, 0, TimeSpan.Zero), batch.MinEventTime);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 10, 0, 0, 123, TimeSpan.Zero), batch.MaxEventTime);
        Assert.Equal(payloads.Sum(p => (long)p.Length), batch.PayloadBytes);
        Assert.True(batch.ShouldFlush(new FlushPolicy(5, long.MaxValue, TimeSpan.MaxValue), Opened));
        Assert.False(batch.ShouldFlush(new FlushPolicy(6, long.MaxValue, TimeSpan.FromSeconds(2)), Opened.AddSeconds(1)));
        Assert.True(batch.ShouldFlush(new FlushPolicy(6, long.MaxValue, TimeSpan.FromSeconds(2)), Opened.AddSeconds(2)));

        Assert.Throws<ArgumentException>(() => batch.Add(new RawEvent(3, 1_008, Wire.EnqueuedAt, Wire.IngestedAt, payloads[0]), CleansingOutcome.Duplicate("TXN-000000001")));
        Assert.Throws<ArgumentException>(() => batch.Add(new RawEvent(4, 2_000, Wire.EnqueuedAt, Wire.IngestedAt, payloads[0]), CleansingOutcome.Duplicate("TXN-000000001")));
    }

    [Fact]
    public void Batch_counts_add_up_for_any_mix_of_outcomes()
    {
        var kinds = Gen.ListOf(Gen.Choose(0, 5));
        Prop.ForAll(Arb.From(kinds), choices =>
        {
            var cleanser = new RawEventCleanser();
            var state = Wire.NewState();
            var batch = new MicroBatch(0, Opened, cleanser.Options.MaxPayloadBytes);
            var offset = 0L;
            foreach (var choice in choices)
            {
                var payload = choice switch
                {
                    0 => Wire.Bytes(Wire.Edit(Wire.Transaction, o => o["transactionId"] = $"TXN-{offset}")),
                    1 => Wire.Bytes(Wire.Transaction), // repeats after its first time
                    2 => Wire.Bytes("[]"),
                    3 => Wire.Bytes(Wire.Edit(Wire.Transaction, o => o.Remove("amount"))),
                    4 => Wire.Bytes(Wire.Customer),
                    _ => [0xFF],
                };
                var raw = new RawEvent(0, offset++, Wire.EnqueuedAt, Wire.IngestedAt, payload);
                batch.Add(raw, cleanser.Process(raw, state));
            }

            Assert.Equal(choices.Count, batch.Consumed);
            Assert.Equal(batch.Consumed, batch.Valid + batch.Quarantined + batch.Duplicates);
            Assert.Equal(batch.Quarantined, batch.QuarantineByReason.Values.Sum());
            Assert.Equal(batch.Quarantined, batch.QuarantineRows.Count);
            Assert.Equal(batch.Valid, batch.Transactions.Count + batch.Customers.Count);
            Assert.Equal(Math.Max(0, choices.Count(c => c == 1) - 1), batch.Duplicates);
        }).QuickCheckThrowOnFailure();
    }
}

public sealed class WireValueTests
{
    [Fact]
    public void The_coordinate_fast_path_agrees_with_the_full_double_parser()
    {
        Prop.ForAll(Arb.From(Gen.Choose(-180_000_000, 180_000_000)), Arb.From(Gen.Choose(0, 9)), (micro, digits) =>
        {
            var text = (micro / 1e6).ToString("F" + digits, System.Globalization.CultureInfo.InvariantCulture);
            var utf8 = System.Text.Encoding.ASCII.GetBytes(text);
            Assert.True(WireValues.TryReadShortDecimal(utf8, out var fast));
            Assert.Equal(double.Parse(text, System.Globalization.CultureInfo.InvariantCulture), fast);
            Assert.Equal(double.IsNegative(double.Parse(text, System.Globalization.CultureInfo.InvariantCulture)), double.IsNegative(fast));
        }).QuickCheckThrowOnFailure();
        Assert.False(WireValues.TryReadShortDecimal("1e5"u8, out _));
        Assert.False(WireValues.TryReadShortDecimal("1234567890.1234567"u8, out _));
    }
}

/// <summary>Flushes over several partitions: deterministic names, counts without retained rows.</summary>
public sealed class FlushTests
{
    [Fact]
    public void A_flush_stem_depends_only_on_the_partitions_offset_ranges()
    {
        static MicroBatch Batch(int partition, long first, long last)
        {
            var batch = new MicroBatch(partition, Wire.EnqueuedAt, 1024, retainRows: false);
            var state = Wire.NewState(partition);
            var cleanser = new RawEventCleanser();
            foreach (var offset in new[] { first, last })
            {
                var raw = new RawEvent(partition, offset, Wire.EnqueuedAt, Wire.IngestedAt, Wire.Bytes(Wire.Transaction));
                batch.Add(raw, cleanser.Process(raw, state));
            }

            return batch;
        }

        var single = Batch(3, 1000, 1999);
        Assert.Equal(single.FileStem, CleansingPipeline.FlushStem([single]));

        var a = CleansingPipeline.FlushStem([Batch(0, 0, 99), Batch(5, 10, 20)]);
        var again = CleansingPipeline.FlushStem([Batch(5, 10, 20), Batch(0, 0, 99)]);
        var other = CleansingPipeline.FlushStem([Batch(0, 0, 99), Batch(5, 10, 21)]);
        Assert.Matches("^part-m02-[0-9a-f]{16}$", a);
        Assert.Equal(a, again);
        Assert.NotEqual(a, other);
    }

    [Fact]
    public void A_batch_that_does_not_retain_rows_still_counts_them_per_table()
    {
        var batch = new MicroBatch(1, Wire.EnqueuedAt, 1024, retainRows: false);
        var state = Wire.NewState(1);
        var cleanser = new RawEventCleanser();
        var raw = new RawEvent(1, 7, Wire.EnqueuedAt, Wire.IngestedAt, Wire.Bytes(Wire.Transaction));
        batch.Add(raw, cleanser.Process(raw, state));
        Assert.Equal(1, batch.Consumed);
        Assert.Equal(1, batch.TransactionCount);
        Assert.Equal(batch.Valid, batch.TransactionCount + batch.CustomerCount + batch.AccountCount + batch.LoanCount + batch.LoanPaymentCount);
        Assert.Empty(batch.Transactions);
    }
}
