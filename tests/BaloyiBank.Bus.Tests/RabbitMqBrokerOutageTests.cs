using System.Globalization;
using BaloyiBank.EventLog.RabbitMq.Tests;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace BaloyiBank.Bus.Tests;

/// <summary>
/// A broker of these tests' own, since they stop and start it: deploy/local/rabbitmq.sh on
/// <c>BALOYI_TEST_BUS_RABBITMQ_RESTART_PORT</c> (default 5692; the event log's restart test uses 5682).
/// </summary>
public sealed class PrivateRabbitMq : IAsyncLifetime
{
    public const string PortVariable = "BALOYI_TEST_BUS_RABBITMQ_RESTART_PORT";

    public LocalRabbitMq Broker { get; } = new(
        int.TryParse(Environment.GetEnvironmentVariable(PortVariable), CultureInfo.InvariantCulture, out var port) ? port : 5692,
        Path.Combine(Path.GetTempPath(), "baloyi-bus-rabbitmq-restart-test"));

    public async Task InitializeAsync()
    {
        // A broker left running by an interrupted run: start from a known state.
        if (await Broker.IsRunningAsync())
        {
            await Broker.StopAsync();
        }

        await Broker.StartAsync();
    }

    public Task DisposeAsync() => Broker.StopAsync();

    /// <summary>Starts the broker again if a test stopped it and failed before starting it.</summary>
    public async Task EnsureRunningAsync()
    {
        if (!await Broker.IsRunningAsync())
        {
            await Broker.StartAsync();
        }
    }
}

public sealed class RabbitMqBrokerOutageTests(PrivateRabbitMq fixture, ITestOutputHelper output) : IClassFixture<PrivateRabbitMq>, IAsyncLifetime
{
    private readonly BrokerQueues _queues = new(fixture.Broker.Uri);
    private ControlBusRig? _rig;

    private ControlBusRig Rig => _rig ?? throw new InvalidOperationException("InitializeAsync has not run");

    private string AlphaQueue => $"{Rig.Prefix}-{TallyAlpha.Endpoint}";

    public Task InitializeAsync()
    {
        _rig = new ControlBusRig(
            new Dictionary<string, string?> { ["Bus:Kind"] = "rabbitmq", ["Bus:RabbitMq:Uri"] = fixture.Broker.Uri, ["Bus:RabbitMq:Heartbeat"] = "00:00:02" },
            _queues.RemoveAsync);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await fixture.EnsureRunningAsync();
        foreach (var line in Rig.Logs.Lines.Where(l => l.Level >= LogLevel.Information).Take(200))
        {
            output.WriteLine($"{line.Level}: {line.Message}");
        }

        await Rig.DisposeAsync();
    }

    [Fact]
    public async Task Messages_published_while_no_consumer_runs_survive_a_broker_restart_and_reach_the_consumer_when_it_starts()
    {
        const int count = 50;
        var probe = new BusProbe();
        // The consumer's first start declares its durable queue and binds it; then the service is down.
        await (await Rig.StartAsync(c => c.AddConsumer<TallyAlpha>(), probe, "consumer")).DisposeAsync();
        var publisher = await Rig.StartAsync(_ => { }, host: "publisher");
        for (var n = 0; n < count; n++)
        {
            // Publish completes once the broker confirmed the message (publisher confirms).
            await publisher.Publish.Publish(ControlBusContract.SampleBatch() with { FirstOffset = n });
        }

        await publisher.DisposeAsync();
        Assert.Equal((uint)count, await _queues.MessageCountAsync(AlphaQueue));

        await fixture.Broker.StopAsync();
        await fixture.Broker.StartAsync();
        Assert.Equal((uint)count, await _queues.MessageCountAsync(AlphaQueue));

        await using var consumer = await Rig.StartAsync(c => c.AddConsumer<TallyAlpha>(), probe, "consumer-again");
        await ControlBusRig.WaitUntil(() => probe.Delivered(TallyAlpha.Endpoint) >= count, TimeSpan.FromSeconds(60));
        await Task.Delay(300);
        Assert.Equal(Enumerable.Range(0, count).Select(n => (long)n), probe.Deliveries.Keys.Select(k => k.Id).Order());
        Assert.All(probe.Deliveries.Values, n => Assert.Equal(1, n));
        Assert.Equal(count, probe.DeliveriesByHost.GetValueOrDefault((TallyAlpha.Endpoint, "consumer-again")));
        Assert.Equal(0u, await _queues.MessageCountAsync(AlphaQueue));
    }

    [Fact]
    public async Task The_bus_recovers_from_a_broker_restart_mid_stream_and_delivers_what_is_published_after_it()
    {
        var probe = new BusProbe();
        var consumer = await Rig.StartAsync(c => c.AddConsumer<TallyAlpha>(), probe, "consumer");
        var publisher = await Rig.StartAsync(_ => { }, host: "publisher");
        var health = consumer.Services.GetRequiredService<HealthCheckService>();
        for (var n = 0; n < 20; n++)
        {
            await publisher.Publish.Publish(ControlBusContract.SampleBatch() with { FirstOffset = n });
        }

        await ControlBusRig.WaitUntil(() => probe.Delivered(TallyAlpha.Endpoint) >= 20, TimeSpan.FromSeconds(30));
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Entries[ControlBusHealth.CheckName].Status);

        await fixture.Broker.StopAsync();
        await ControlBusRig.WaitUntilAsync(
            async () => (await health.CheckHealthAsync()).Entries[ControlBusHealth.CheckName].Status != HealthStatus.Healthy,
            TimeSpan.FromSeconds(30), "the bus health check reports the lost broker");
        await ControlBusRig.WaitUntil(
            () => Rig.Logs.Lines.Any(l => l.Level == LogLevel.Warning && l.Message.Contains($"endpoint {AlphaQueue} lost its broker", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30));
        // Published while the broker is down: it waits for the connection rather than failing or vanishing.
        var duringOutage = publisher.Publish.Publish(ControlBusContract.SampleBatch() with { FirstOffset = 20 });
        await Task.Delay(500);
        Assert.False(duringOutage.IsCompleted, "a publish without a broker cannot have been confirmed");

        await fixture.Broker.StartAsync();
        await duringOutage.WaitAsync(TimeSpan.FromSeconds(120));
        await ControlBusRig.WaitUntilAsync(
            async () => (await health.CheckHealthAsync()).Entries[ControlBusHealth.CheckName].Status == HealthStatus.Healthy,
            TimeSpan.FromSeconds(120), "the bus health check recovers");
        for (var n = 21; n < 40; n++)
        {
            await publisher.Publish.Publish(ControlBusContract.SampleBatch() with { FirstOffset = n });
        }

        await ControlBusRig.WaitUntil(() => probe.Delivered(TallyAlpha.Endpoint) >= 40, TimeSpan.FromSeconds(60));
        await Task.Delay(300);
        Assert.Equal(Enumerable.Range(0, 40).Select(n => (long)n), probe.Deliveries.Keys.Select(k => k.Id).Order());
        Assert.All(probe.Deliveries.Values, n => Assert.Equal(1, n));
        Assert.Contains(Rig.Logs.Lines, l => l.Level == LogLevel.Information && l.Message.Contains($"endpoint {AlphaQueue} is consuming", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_service_started_while_the_broker_is_down_waits_logs_its_retries_and_runs_once_the_broker_is_up()
    {
        var probe = new BusProbe();
        await fixture.Broker.StopAsync();
        var consumer = Rig.Track(Rig.Build(c => c.AddConsumer<TallyAlpha>(), probe, "consumer"));

        var starting = consumer.StartAsync();
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.False(starting.IsCompleted, "start-up waits for the broker");
        Assert.Contains(Rig.Logs.Lines, l => l.Level >= LogLevel.Warning);

        await fixture.Broker.StartAsync();
        await starting.WaitAsync(TimeSpan.FromSeconds(120));
        await consumer.Publish.Publish(ControlBusContract.SampleBatch() with { FirstOffset = 7 });
        await ControlBusRig.WaitUntil(() => probe.Delivered(TallyAlpha.Endpoint) >= 1, TimeSpan.FromSeconds(30));
        Assert.Equal([7L], probe.Deliveries.Keys.Select(k => k.Id));
    }
}
