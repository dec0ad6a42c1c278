using BaloyiBank.EventLog;
using BaloyiBank.Generator;
using Xunit.Abstractions;

namespace BaloyiBank.Cleansing.Tests;

/// <summary>
/// The real generated stream, partitioned as the log partitions it, through the cleanser: every
/// record must get exactly the outcome its generator kind maps to, and the batches must account
/// for every record (architecture invariant 5).
/// </summary>
public sealed class GeneratorAgreementTests(ITestOutputHelper output)
{
    private const int Partitions = 8;
    private const int Records = 300_000;

    // Late 2026, after every simulated instant of this stream: the log's clock, not the simulation's.
    private static readonly DateTimeOffset LogClockStart = new(2026, 11, 20, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Every_generated_record_gets_the_outcome_its_kind_maps_to()
    {
        var cleanser = new RawEventCleanser();
        var policy = new FlushPolicy(20_000, 64L * 1024 * 1024, TimeSpan.FromSeconds(2));
        var states = Enumerable.Range(0, Partitions).Select(p => new PartitionState(p)).ToArray();
        var offsets = new long[Partitions];
        var batches = Enumerable.Range(0, Partitions).Select(p => new MicroBatch(p, LogClockStart, cleanser.Options.MaxPayloadBytes)).ToArray();
        var byKind = new Dictionary<EventKind, (long Total, long Matched)>();
        var reasons = new Dictionary<string, long>(StringComparer.Ordinal);
        var mismatches = new List<string>();
        long consumed = 0, valid = 0, quarantined = 0, duplicates = 0, flushes = 0;

        foreach (var record in GeneratedEvents.Records(new GeneratorOptions()).Take(Records))
        {
            var partition = KeyPartitioner.PartitionFor(record.Key, Partitions);
            // About 400k records a second arrive on the log.
            var enqueuedAt = LogClockStart.AddTicks(record.Sequence * 25);
            var raw = new RawEvent(partition, offsets[partition]++, enqueuedAt, enqueuedAt.AddMilliseconds(3), record.Payload);
            var outcome = cleanser.Process(raw, states[partition]);

            var expected = QuarantineReasons.ForGeneratorKind(EventKinds.Name(record.Kind));
            var matched = expected.Matches(outcome);
            var (total, ok) = byKind.GetValueOrDefault(record.Kind);
            byKind[record.Kind] = (total + 1, ok + (matched ? 1 : 0));
            if (!matched && mismatches.Count < 15)
            {
                mismatches.Add($"seq {record.Sequence} ({record.Kind}, {record.EventType}, p{partition}): {outcome}");
            }

            if (outcome.Kind == OutcomeKind.Quarantined)
            {
                reasons[outcome.Reason!] = reasons.GetValueOrDefault(outcome.Reason!) + 1;
            }

            var batch = batches[partition];
            batch.Add(raw, outcome);
            if (batch.ShouldFlush(policy, enqueuedAt))
            {
                Tally(batch);
                batches[partition] = new MicroBatch(partition, enqueuedAt, cleanser.Options.MaxPayloadBytes);
            }
        }

        foreach (var batch in batches.Where(b => !b.IsEmpty))
        {
            Tally(batch);
        }

        foreach (var (kind, (total, matched)) in byKind.OrderBy(pair => pair.Key))
        {
            output.WriteLine($"{EventKinds.Name(kind),-20} {total,8:N0} records, {matched,8:N0} as mapped");
        }

        output.WriteLine($"consumed {consumed:N0} = valid {valid:N0} + quarantined {quarantined:N0} + duplicates {duplicates:N0}; {flushes} batches");
        output.WriteLine("reasons: " + string.Join(", ", reasons.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key} {r.Value}")));
        foreach (var mismatch in mismatches)
        {
            output.WriteLine(mismatch);
        }

        Assert.Empty(mismatches);
        Assert.Equal(Records, consumed);
        Assert.Equal(consumed, valid + quarantined + duplicates);
        Assert.Equal(byKind[EventKind.Duplicate].Total, duplicates);
        Assert.Equal(byKind[EventKind.Clean].Total + byKind[EventKind.Late].Total, valid);
        // Every defect kind shows up in a stream this long, so the agreement is not vacuous.
        Assert.All(EventKinds.All, kind => Assert.True(byKind.GetValueOrDefault(kind).Total > 50, $"{kind} is rare"));
        Assert.All(states, state => Assert.True(state.Transactions.Count > 0));

        void Tally(MicroBatch batch)
        {
            Assert.Equal(batch.Consumed, batch.Valid + batch.Quarantined + batch.Duplicates);
            Assert.Equal(batch.Quarantined, batch.QuarantineByReason.Values.Sum());
            Assert.Equal(batch.Valid, batch.Transactions.Count + batch.Customers.Count + batch.Accounts.Count + batch.Loans.Count + batch.LoanPayments.Count);
            Assert.Matches(@"^part-p\d{4}-o\d{12}-\d{12}$", batch.FileStem);
            consumed += batch.Consumed;
            valid += batch.Valid;
            quarantined += batch.Quarantined;
            duplicates += batch.Duplicates;
            flushes++;
        }
    }
}
