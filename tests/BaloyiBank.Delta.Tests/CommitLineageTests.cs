using System.Diagnostics;

namespace BaloyiBank.Delta.Tests;

/// <summary>What a commit records of its origin (commitInfo.baloyibank): its span's traceparent and its events' enqueue times.</summary>
public sealed class CommitLineageTests : IDisposable
{
    private readonly TestLake lake = new();
    private readonly ActivityListener listener = new()
    {
        ShouldListenTo = s => s.Name == DeltaTelemetry.Name,
        Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
    };

    public CommitLineageTests() => ActivitySource.AddActivityListener(listener);

    public void Dispose()
    {
        listener.Dispose();
        lake.Dispose();
    }

    [Fact]
    public async Task A_recorded_commit_span_and_the_enqueue_times_are_read_back_with_the_commit()
    {
        using var table = lake.Table();
        var snapshot = await table.CreateAsync(TransactionRows.Schema);
        var enqueued = new EnqueueTimes();
        var start = DateTimeOffset.Parse("2026-12-07T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        for (var i = 0; i < 1000; i++)
        {
            enqueued.AddTicks(start.AddMilliseconds(i).UtcTicks);
        }

        string? commitSpan = null;
        using (var collector = new ActivityListener
        {
            ShouldListenTo = s => s.Name == DeltaTelemetry.Name,
            ActivityStopped = a => commitSpan = a.DisplayName.StartsWith("commit ", StringComparison.Ordinal) ? a.Id : commitSpan,
        })
        {
            ActivitySource.AddActivityListener(collector);
            var result = await table.CommitAsync(snapshot, new DeltaCommit { Lineage = new CommitLineage { Enqueued = enqueued } });
            snapshot = result.Snapshot;
        }

        // Ambient lineage: a writer that builds commits without knowing of lineage (the gold store) still records it.
        using (CommitLineage.Use(new CommitLineage { TraceParents = ["00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"] }))
        {
            await table.CommitAsync(snapshot, new DeltaCommit());
        }

        var changes = await table.ReadChangesAsync(0, 2);
        var first = changes[0].CommitInfo!.Lineage!;
        Assert.Equal([commitSpan!], first.TraceParents);
        Assert.Equal(1000, first.Enqueued!.Count);
        Assert.Equal(10, first.Enqueued.Buckets.Count());
        var latencies = first.Enqueued.LatenciesAt(start.AddSeconds(2)).ToList();
        Assert.Equal(1000, latencies.Sum(l => l.Count));
        Assert.All(latencies, l => Assert.InRange(l.Seconds, 1.0, 2.0));

        var second = changes[1].CommitInfo!.Lineage!;
        Assert.Equal("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", second.TraceParents[0]);
        Assert.Equal(2, second.TraceParents.Count);
    }

    [Fact]
    public void Enqueue_times_stay_within_64_buckets_and_keep_every_event()
    {
        var times = new EnqueueTimes();
        for (var ms = 0L; ms < 3_600_000; ms += 250)
        {
            times.Add(1_800_000_000_000 + ms);
        }

        Assert.InRange(times.Buckets.Count(), 1, EnqueueTimes.MaxBuckets);
        Assert.Equal(14_400, times.Count);
        var parsed = EnqueueTimes.Parse(times.ToString())!;
        Assert.Equal(times.Count, parsed.Count);
        Assert.Equal(times.Width, parsed.Width);
        Assert.Null(EnqueueTimes.Parse("garbage"));
    }
}
