using FsCheck;
using FsCheck.Fluent;

namespace BaloyiBank.Cleansing.Tests;

/// <summary>Deduplication, the partition state's restore hooks, and the future-timestamp rule.</summary>
public sealed class DedupAndStateTests
{
    private static readonly DateTimeOffset Base = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

    private static byte[] Transaction(string id, DateTimeOffset occurredAt, string currency = "ZAR") => Wire.Bytes(Wire.Transaction
        .Replace("TXN-000000001", id, StringComparison.Ordinal)
        .Replace("2026-03-01T10:00:00.123Z", occurredAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("\"ZAR\"", $"\"{currency}\"", StringComparison.Ordinal));

    private static CleansingOutcome Run(RawEventCleanser cleanser, PartitionState state, byte[] payload, DateTimeOffset enqueuedAt, long offset = 1) =>
        cleanser.Process(new RawEvent(state.Partition, offset, enqueuedAt, enqueuedAt, payload), state);

    [Fact]
    public void A_repeat_within_the_horizon_is_a_duplicate_and_beyond_it_is_valid_again()
    {
        var cleanser = new RawEventCleanser();
        var state = Wire.NewState();
        var log = Base.AddDays(30);

        Assert.Equal(OutcomeKind.Valid, Run(cleanser, state, Transaction("TXN-A", Base), log).Kind);
        var repeat = Run(cleanser, state, Transaction("TXN-A", Base.AddMinutes(5)), log);
        Assert.Equal(OutcomeKind.Duplicate, repeat.Kind);
        Assert.Equal("TXN-A", repeat.TransactionId);

        // The watermark walks 25 hours on in half-hour steps; TXN-A's hour falls out of the 24-hour window.
        for (var i = 1; i <= 50; i++)
        {
            Assert.Equal(OutcomeKind.Valid, Run(cleanser, state, Transaction($"TXN-{i}", Base.AddMinutes(30 * i)), log).Kind);
        }

        Assert.False(state.Transactions.Contains("TXN-A"));
        Assert.True(state.Transactions.Contains("TXN-50"));
        Assert.True(state.Transactions.Count < 51);
        Assert.Equal(OutcomeKind.Valid, Run(cleanser, state, Transaction("TXN-A", Base.AddHours(25)), log).Kind);
    }

    [Fact]
    public void A_quarantined_record_never_makes_a_later_valid_one_a_duplicate()
    {
        var cleanser = new RawEventCleanser();
        var state = Wire.NewState();
        Assert.Equal(QuarantineReasons.UnknownCurrency, Run(cleanser, state, Transaction("TXN-B", Base, "ZZZ"), Base.AddDays(1)).Reason);
        Assert.Equal(OutcomeKind.Valid, Run(cleanser, state, Transaction("TXN-B", Base), Base.AddDays(1)).Kind);
    }

    [Fact]
    public void The_future_rule_follows_the_watermark_and_the_log_clock()
    {
        var cleanser = new RawEventCleanser();
        var state = Wire.NewState();
        // A simulated stream: event time months behind the log's clock, so only the watermark can catch the future.
        var log = new DateTimeOffset(2026, 11, 20, 8, 0, 0, TimeSpan.Zero);
        Assert.Equal(OutcomeKind.Valid, Run(cleanser, state, Transaction("T1", Base), log).Kind);
        Assert.Equal(OutcomeKind.Valid, Run(cleanser, state, Transaction("T2", Base.AddMinutes(59)), log.AddMilliseconds(1)).Kind);
        var ahead = Run(cleanser, state, Transaction("T3", Base.AddDays(1)), log.AddMilliseconds(2));
        Assert.Equal(QuarantineReasons.FutureTimestamp, ahead.Reason);
        Assert.Contains("watermark", ahead.Detail, StringComparison.Ordinal);
        // Late events are never future.
        Assert.Equal(OutcomeKind.Valid, Run(cleanser, state, Transaction("T4", Base.AddHours(-23)), log.AddMilliseconds(3)).Kind);
        // A partition idle for three hours of log time may move three hours on (live traffic after a quiet night).
        Assert.Equal(OutcomeKind.Valid, Run(cleanser, state, Transaction("T5", Base.AddHours(3).AddMinutes(30)), log.AddHours(3)).Kind);
    }

    [Fact]
    public void After_a_restore_without_enqueue_times_the_first_live_event_re_anchors_the_watermark()
    {
        var cleanser = new RawEventCleanser();
        var state = Wire.NewState();
        state.RememberTransaction("T0", Base);
        Assert.Equal(Base, state.Watermark);
        Assert.Null(state.WatermarkEnqueuedAt);
        var log = Base.AddHours(6);

        // Six hours of downtime: with no anchor the watermark rule stands aside and only the log clock applies.
        Assert.Equal(OutcomeKind.Valid, Run(cleanser, state, Transaction("T1", Base.AddHours(6)), log).Kind);
        Assert.Equal(log, state.WatermarkEnqueuedAt);
        Assert.Equal(QuarantineReasons.FutureTimestamp, Run(cleanser, state, Transaction("T2", Base.AddHours(6).AddMinutes(6)), log).Reason);
        Assert.Equal(OutcomeKind.Duplicate, Run(cleanser, state, Transaction("T0", Base), log).Kind);
    }

    [Fact]
    public void A_snapshot_restores_accounts_transactions_and_watermark()
    {
        var cleanser = new RawEventCleanser();
        var state = Wire.NewState(partition: 5);
        var log = Base.AddDays(1);
        Run(cleanser, state, Transaction("T1", Base), log);
        Run(cleanser, state, Transaction("T2", Base.AddMinutes(10)), log);

        var restored = PartitionState.Restore(state.Snapshot());

        Assert.Equal(5, restored.Partition);
        Assert.Equal(state.Watermark, restored.Watermark);
        Assert.Equal(state.WatermarkEnqueuedAt, restored.WatermarkEnqueuedAt);
        Assert.Equal(1, restored.AccountCount);
        Assert.Equal(OutcomeKind.Duplicate, Run(cleanser, restored, Transaction("T1", Base), log).Kind);
        Assert.Equal(OutcomeKind.Valid, Run(cleanser, restored, Transaction("T3", Base.AddMinutes(20)), log).Kind);
    }

    [Fact]
    public void Valid_transactions_are_the_distinct_ids_and_outcomes_do_not_depend_on_batch_splits_or_restarts()
    {
        var options = new CleansingOptions { WatermarkTolerance = TimeSpan.FromHours(12) };
        var events = Gen.ListOf(Gen.Zip(Gen.Choose(0, 25), Gen.Choose(0, 600)));
        var splits = Gen.ListOf(Gen.Choose(1, 20));
        Prop.ForAll(Arb.From(events), Arb.From(splits), (sequence, cuts) =>
        {
            var list = sequence.ToList();
            var whole = Process(list, [], options);
            var split = Process(list, [.. cuts], options);

            Assert.Equal(whole, split);
            var validIds = whole.Where(o => o.Kind == OutcomeKind.Valid).Select(o => o.Id).ToList();
            Assert.Equal(list.Select(e => e.Item1).Distinct().Count(), validIds.Count);
            Assert.Equal(list.Select(e => $"TXN-{e.Item1}").Distinct(), validIds);
            Assert.All(whole, o => Assert.NotEqual(OutcomeKind.Quarantined, o.Kind));
        }).QuickCheckThrowOnFailure();
    }

    /// <summary>
    /// Runs the events through the cleanser in batches of the given sizes; between batches the
    /// worker "restarts" and rebuilds the state from the silver rows written so far.
    /// </summary>
    private static List<(OutcomeKind Kind, string Id)> Process(List<(int Id, int Minute)> events, int[] batchSizes, CleansingOptions options)
    {
        var cleanser = new RawEventCleanser(options);
        var silver = new List<TransactionRow>();
        var state = Wire.NewState(options: options);
        var outcomes = new List<(OutcomeKind, string)>();
        var next = 0;
        var batch = 0;
        while (next < events.Count)
        {
            var size = batchSizes.Length == 0 ? events.Count : batchSizes[batch++ % batchSizes.Length];
            if (batchSizes.Length > 0)
            {
                state = Wire.NewState(options: options);
                foreach (var row in silver)
                {
                    state.RememberTransaction(row.TransactionId, row.OccurredAt, row.EnqueuedAt);
                }
            }

            var microBatch = new MicroBatch(0, Base, options.MaxPayloadBytes);
            foreach (var (id, minute) in events.Skip(next).Take(size))
            {
                var payload = Transaction($"TXN-{id}", Base.AddMinutes(minute));
                var raw = new RawEvent(0, next, Base.AddHours(11).AddSeconds(next), Base.AddHours(11).AddSeconds(next), payload);
                var outcome = cleanser.Process(raw, state);
                microBatch.Add(raw, outcome);
                outcomes.Add((outcome.Kind, outcome.Kind == OutcomeKind.Valid ? ((TransactionRow)outcome.Row!).TransactionId : outcome.TransactionId ?? outcome.Reason!));
                next++;
            }

            silver.AddRange(microBatch.Transactions);
        }

        return outcomes;
    }
}
