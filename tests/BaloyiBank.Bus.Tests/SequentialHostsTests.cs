namespace BaloyiBank.Bus.Tests;

/// <summary>Several hosts one after another in one process and one async flow, as tests and the CLI run them.</summary>
public sealed class SequentialHostsTests
{
    [Fact]
    public async Task A_host_started_after_another_one_published_and_was_disposed_starts_and_delivers()
    {
        await using var rig = new ControlBusRig(new Dictionary<string, string?> { ["Bus:Kind"] = "inmemory" });
        var first = await rig.StartAsync(c => c.AddConsumer<TallyAlpha>());
        // A publish leaves MassTransit's log context (an AsyncLocal) in this flow, holding the first host's loggers.
        await first.Publish.Publish(ControlBusContract.SampleBatch() with { FirstOffset = 1 });
        await ControlBusRig.WaitUntil(() => first.Probe.Delivered(TallyAlpha.Endpoint) >= 1, TimeSpan.FromSeconds(10));
        await first.DisposeAsync();

        var second = await rig.StartAsync(c => c.AddConsumer<TallyAlpha>());
        await second.Publish.Publish(ControlBusContract.SampleBatch() with { FirstOffset = 2 });

        await ControlBusRig.WaitUntil(() => second.Probe.Delivered(TallyAlpha.Endpoint) >= 1, TimeSpan.FromSeconds(10));
        Assert.Equal([2L], second.Probe.Deliveries.Keys.Select(k => k.Id));
    }
}
