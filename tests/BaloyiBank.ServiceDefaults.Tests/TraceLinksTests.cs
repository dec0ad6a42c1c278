using System.Diagnostics;
using Xunit;

namespace BaloyiBank.ServiceDefaults.Tests;

public sealed class TraceLinksTests
{
    private static ActivityContext Context(bool sampled) =>
        new(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), sampled ? ActivityTraceFlags.Recorded : ActivityTraceFlags.None, isRemote: true);

    [Fact]
    public void Links_take_sampled_contexts_first_round_robin_over_the_sources_and_stop_at_the_limit()
    {
        // Partition 0 is busy and unsampled first; partition 1 has a few sampled events late in its batch.
        List<ActivityContext> busy = [.. Enumerable.Range(0, 200).Select(i => Context(sampled: i >= 150))];
        List<ActivityContext> quiet = [Context(false), Context(true), Context(true)];

        var links = TraceLinks.Choose([busy, quiet], max: 10);

        Assert.Equal(10, links.Count);
        Assert.All(links, l => Assert.True(TraceLinks.IsSampled(l.Context)));
        // Both partitions are represented: the busy one does not take every place.
        Assert.Equal(2, links.Count(l => quiet.Contains(l.Context)));

        var all = TraceLinks.Choose([busy, quiet]);
        Assert.Equal(TraceLinks.MaxLinks, all.Count);
        Assert.Equal(52, all.Count(l => TraceLinks.IsSampled(l.Context)));
    }

    [Fact]
    public void A_full_bag_gives_up_unsampled_contexts_for_sampled_ones_and_drains_once()
    {
        var bag = new TraceContextBag(capacity: 3);
        bag.Add(default);
        bag.Add(Context(false));
        bag.Add(Context(false));
        bag.Add(Context(true));
        var sampled = Context(true);
        bag.Add(sampled);
        bag.Add(Context(false));

        var drained = bag.Drain();
        Assert.Equal(3, drained.Count);
        Assert.Equal(2, drained.Count(TraceLinks.IsSampled));
        Assert.Contains(sampled, drained);
        Assert.Empty(bag.Drain());
    }

    [Fact]
    public void Traceparents_parse_and_garbage_is_skipped()
    {
        var context = Context(true);
        var traceparent = $"00-{context.TraceId}-{context.SpanId}-01";
        var parsed = TraceLinks.Parse([traceparent, "not-a-traceparent"]).ToList();
        Assert.Equal([new ActivityContext(context.TraceId, context.SpanId, ActivityTraceFlags.Recorded, isRemote: true)], parsed);
    }
}
