using System.Diagnostics;
using BaloyiBank.Contracts.Control;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace BaloyiBank.Bus.Tests;

/// <summary>
/// What the control bus promises, whatever the transport. Each transport (in-memory, RabbitMQ)
/// subclasses this with its settings; every test runs a real host with <see cref="ControlBusServiceCollectionExtensions.AddControlBus"/>.
/// Each test has an endpoint prefix of its own, so its queues on a shared broker are its own (and removed after it).
/// </summary>
public abstract class ControlBusContract : IAsyncLifetime
{
    private const string TestSourceName = "BaloyiBank.Bus.Tests";
    private static readonly ActivitySource TestSource = new(TestSourceName);
    private ControlBusRig? _rig;

    /// <summary>This test's hosts, endpoint prefix, endpoints and logs.</summary>
    protected ControlBusRig Rig => _rig ?? throw new InvalidOperationException("InitializeAsync has not run");

    protected string Prefix => Rig.Prefix;

    /// <summary>Configuration for the transport under test ("Bus:Kind" and its connection settings).</summary>
    protected abstract IReadOnlyDictionary<string, string?> Settings { get; }

    /// <summary>
    /// True when two hosts configured alike consume from the same queues (a broker); false when every host is a
    /// bus of its own (in-memory), so competing consumers can only be shown within one host.
    /// </summary>
    protected abstract bool SharesQueuesAcrossHosts { get; }

    /// <summary>
    /// Starts watching <paramref name="queue"/> (a consumer's <c>_error</c> queue) on the transport itself; called
    /// before the failing message is published.
    /// </summary>
    protected abstract Task<IErrorQueueWatch> WatchErrorQueueAsync(RunningBus bus, string queue);

    /// <summary>Removes what the test left on the broker (queues and exchanges named after <paramref name="endpoints"/>).</summary>
    protected virtual Task RemoveEndpointsAsync(IReadOnlyCollection<string> endpoints) => Task.CompletedTask;

    public virtual Task InitializeAsync()
    {
        _rig = new ControlBusRig(Settings, RemoveEndpointsAsync);
        return Task.CompletedTask;
    }

    public virtual async Task DisposeAsync()
    {
        if (_rig is not null)
        {
            await _rig.DisposeAsync();
        }
    }

    public static SilverBatchCommitted SampleBatch(int partition = 3) => new()
    {
        Table = "silver/transactions",
        TableVersion = 42,
        Partition = partition,
        FirstOffset = 10_000,
        LastOffset = 14_999,
        ValidRows = 4_980,
        QuarantinedRows = 12,
        DuplicateRows = 8,
        MinEventTime = new DateTimeOffset(2025, 3, 1, 8, 0, 0, 123, TimeSpan.Zero),
        MaxEventTime = new DateTimeOffset(2025, 3, 1, 8, 4, 59, 987, TimeSpan.Zero),
        CommittedAt = new DateTimeOffset(2025, 3, 1, 8, 5, 2, 5, TimeSpan.Zero),
    };

    [Fact]
    public async Task Published_control_messages_reach_a_consumer_with_every_field_intact()
    {
        await using var bus = await StartAsync(c => c.AddConsumer<ControlRecorder>());
        var batch = SampleBatch();
        var gold = new GoldCommitted
        {
            Tables = ["gold/balances", "gold/daily_summary"],
            Version = 7,
            ChangedRows = new Dictionary<string, long> { ["gold/balances"] = 1_200, ["gold/daily_summary"] = 31 },
            CommittedAt = DateTimeOffset.UnixEpoch.AddDays(20_000),
        };
        var loaded = new WarehouseLoaded { Tables = ["dbo.balances"], RowsInserted = 5, RowsUpdated = 1_195, Watermark = 7, Duration = TimeSpan.FromMilliseconds(1_234) };
        var replay = new ReplayRequested { Layer = "gold", From = null, Reason = "balance fold fixed" };

        await bus.Publish.Publish(batch);
        await bus.Publish.Publish(gold);
        await bus.Publish.Publish(loaded);
        await bus.Publish.Publish(replay);

        Assert.Equal(batch, await bus.Probe.WaitFor<SilverBatchCommitted>(nameof(SilverBatchCommitted)));
        var goldReceived = await bus.Probe.WaitFor<GoldCommitted>(nameof(GoldCommitted));
        Assert.Equal(gold.Tables, goldReceived.Tables);
        Assert.Equal(gold.Version, goldReceived.Version);
        Assert.Equal(gold.ChangedRows, goldReceived.ChangedRows);
        Assert.Equal(gold.CommittedAt, goldReceived.CommittedAt);
        var loadedReceived = await bus.Probe.WaitFor<WarehouseLoaded>(nameof(WarehouseLoaded));
        Assert.Equal(loaded.Tables, loadedReceived.Tables);
        Assert.Equal((loaded.RowsInserted, loaded.RowsUpdated, loaded.Watermark, loaded.Duration),
            (loadedReceived.RowsInserted, loadedReceived.RowsUpdated, loadedReceived.Watermark, loadedReceived.Duration));
        Assert.Equal(replay, await bus.Probe.WaitFor<ReplayRequested>(nameof(ReplayRequested)));
    }

    [Fact]
    public async Task A_consumer_that_fails_transiently_is_retried_until_it_succeeds()
    {
        await using var bus = await StartAsync(c =>
        {
            c.AddConsumer<FlakySilverConsumer>();
            c.AddConsumer<SilverFaultRecorder>();
        });
        var batch = SampleBatch();

        await bus.Publish.Publish(batch);

        Assert.Equal(batch, await bus.Probe.WaitFor<SilverBatchCommitted>("consumed"));
        Assert.Equal(3, bus.Probe.Attempts);
        // A fault would follow the failures within milliseconds; none may come once a retry succeeded.
        await Task.Delay(300);
        Assert.False(bus.Probe.HasArrived("fault"));
    }

    [Fact]
    public async Task A_consumer_that_always_fails_ends_in_a_published_fault_and_the_error_queue()
    {
        await using var bus = await StartAsync(c =>
        {
            c.AddConsumer<BrokenSilverConsumer>();
            c.AddConsumer<SilverFaultRecorder>();
        });
        var errorQueue = bus.Services.GetRequiredService<IEndpointNameFormatter>().Consumer<BrokenSilverConsumer>() + "_error";
        var dead = await WatchErrorQueueAsync(bus, errorQueue);
        var batch = SampleBatch(partition: 9);

        await bus.Publish.Publish(batch);

        var fault = await bus.Probe.WaitFor<Fault<SilverBatchCommitted>>("fault");
        Assert.Equal(batch, fault.Message);
        var exception = Assert.Single(fault.Exceptions);
        Assert.Equal(typeof(InvalidOperationException).FullName, exception.ExceptionType);
        Assert.Equal(BrokenSilverConsumer.Failure, exception.Message);
        var moved = await dead.TakeAsync();
        Assert.Equal(batch, moved.Message);
        // The error transport explains the move in transport headers.
        Assert.Equal($"fault: {BrokenSilverConsumer.Failure}", moved.Reason);
        // The first delivery, 2 immediate retries and 3 spaced ones (see RetrySettings).
        Assert.Equal(6, bus.Probe.Attempts);
    }

    [Fact]
    public async Task A_consumer_continues_the_publishers_trace()
    {
        using var listener = new ActivityListener
        {
            // By name: TestSource may be created lazily inside this very callback.
            ShouldListenTo = source => source.Name is ControlBusTelemetry.SourceName or TestSourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        await using var bus = await StartAsync(c => c.AddConsumer<ControlRecorder>());

        string publisherTraceId;
        using (var publishing = TestSource.StartActivity("cleansing batch commit"))
        {
            Assert.NotNull(publishing);
            publisherTraceId = publishing.TraceId.ToHexString();
            await bus.Publish.Publish(SampleBatch());
        }

        await bus.Probe.WaitFor<SilverBatchCommitted>(nameof(SilverBatchCommitted));
        var (traceId, parentSpanId, source) = Assert.Single(bus.Probe.ConsumerActivities);
        Assert.Equal(publisherTraceId, traceId);
        Assert.Equal(ControlBusTelemetry.SourceName, source);
        Assert.NotEqual(default(ActivitySpanId).ToHexString(), parentSpanId);
    }

    [Fact]
    public async Task Many_messages_are_consumed_once_per_endpoint_competing_consumers_share_and_each_endpoint_gets_all()
    {
        const int count = 400;
        var probe = new BusProbe();
        await using var first = await StartAsync(c =>
        {
            c.AddConsumer<TallyAlpha>();
            c.AddConsumer<TallyBeta>();
        }, probe, "first");
        // A second instance of the alpha endpoint's service: on a broker it competes for the same queue.
        await using var second = SharesQueuesAcrossHosts ? await StartAsync(c => c.AddConsumer<TallyAlpha>(), probe, "second") : null;

        await Task.WhenAll(Enumerable.Range(0, count).Select(n => first.Publish.Publish(SampleBatch() with { FirstOffset = n })));

        await WaitUntil(() => probe.Delivered(TallyAlpha.Endpoint) >= count && probe.Delivered(TallyBeta.Endpoint) >= count, TimeSpan.FromSeconds(60));
        // Give a duplicate (a redelivery) the time to show before counting.
        await Task.Delay(500);
        foreach (var endpoint in new[] { TallyAlpha.Endpoint, TallyBeta.Endpoint })
        {
            var ids = probe.Deliveries.Where(d => d.Key.Endpoint == endpoint).ToDictionary(d => d.Key.Id, d => d.Value);
            Assert.Equal(Enumerable.Range(0, count).Select(n => (long)n), ids.Keys.Order());
            Assert.All(ids, d => Assert.Equal(1, d.Value));
        }

        Assert.Equal(count, probe.DeliveriesByHost.GetValueOrDefault((TallyBeta.Endpoint, "first")));
        if (SharesQueuesAcrossHosts)
        {
            var alphaFirst = probe.DeliveriesByHost.GetValueOrDefault((TallyAlpha.Endpoint, "first"));
            var alphaSecond = probe.DeliveriesByHost.GetValueOrDefault((TallyAlpha.Endpoint, "second"));
            Assert.True(alphaFirst > 0 && alphaSecond > 0, $"both alpha instances consume (first {alphaFirst}, second {alphaSecond})");
        }
    }

    [Fact]
    public async Task Consumers_get_kebab_case_endpoints_behind_the_prefix_and_the_bus_health_check_is_registered_and_healthy()
    {
        await using var bus = await StartAsync(c =>
        {
            c.AddConsumer<ControlRecorder>();
            c.AddConsumer<TallyAlpha>();
        });

        var names = bus.Services.GetRequiredService<IEndpointNameFormatter>();
        Assert.Equal($"{Prefix}-control-recorder", names.Consumer<ControlRecorder>());
        Assert.Equal($"{Prefix}-tally-alpha", names.Consumer<TallyAlpha>());
        Assert.Contains($"{Prefix}-control-recorder", Rig.Endpoints.Keys);
        Assert.Contains($"{Prefix}-tally-alpha", Rig.Endpoints.Keys);

        var health = bus.Services.GetRequiredService<HealthCheckService>();
        var ready = await health.CheckHealthAsync(check => check.Tags.Contains("ready"));
        var entry = Assert.Contains(ControlBusHealth.CheckName, ready.Entries);
        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Contains(ControlBusHealth.Tag, entry.Tags);
    }

    protected Task<RunningBus> StartAsync(
        Action<IBusRegistrationConfigurator> consumers,
        BusProbe? probe = null,
        string host = "first",
        IReadOnlyDictionary<string, string?>? extra = null) => Rig.StartAsync(consumers, probe, host, extra);

    protected static Task WaitUntil(Func<bool> condition, TimeSpan timeout) => ControlBusRig.WaitUntil(condition, timeout);
}

public sealed class InMemoryControlBusContractTests : ControlBusContract
{
    protected override IReadOnlyDictionary<string, string?> Settings { get; } =
        new Dictionary<string, string?> { ["Bus:Kind"] = "inmemory" };

    protected override bool SharesQueuesAcrossHosts => false;

    /// <summary>The in-memory transport has no queue to peek into: a receive endpoint on the error queue takes the message.</summary>
    protected override async Task<IErrorQueueWatch> WatchErrorQueueAsync(RunningBus bus, string queue)
    {
        var taken = new TaskCompletionSource<ErrorQueueMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handle = bus.Control.ConnectReceiveEndpoint(queue, e =>
        {
            // Only what the error transport moves arrives here: the queue is not bound to the message type.
            e.ConfigureConsumeTopology = false;
            e.Handler<SilverBatchCommitted>(context =>
            {
                var headers = context.ReceiveContext.TransportHeaders;
                taken.TrySetResult(new(context.Message, $"{headers.Get<string>("MT-Reason")}: {headers.Get<string>("MT-Fault-Message")}"));
                return Task.CompletedTask;
            });
        });
        await handle.Ready.WaitAsync(TimeSpan.FromSeconds(15));
        return new Watch(taken.Task);
    }

    private sealed class Watch(Task<ErrorQueueMessage> taken) : IErrorQueueWatch
    {
        public Task<ErrorQueueMessage> TakeAsync() => taken.WaitAsync(TimeSpan.FromSeconds(15));
    }
}
