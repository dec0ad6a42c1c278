using System.Diagnostics;
using BaloyiBank.Contracts.Control;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BaloyiBank.Bus.Tests;

/// <summary>
/// What the control bus promises, whatever the transport. Each transport (in-memory, RabbitMQ)
/// subclasses this with its settings; every test runs a real host with <see cref="ControlBusServiceCollectionExtensions.AddControlBus"/>.
/// </summary>
public abstract class ControlBusContract
{
    private const string TestSourceName = "BaloyiBank.Bus.Tests";
    private static readonly ActivitySource TestSource = new(TestSourceName);

    /// <summary>Configuration for the transport under test ("Bus:Kind" and its connection settings).</summary>
    protected abstract IReadOnlyDictionary<string, string?> Settings { get; }

    protected static SilverBatchCommitted SampleBatch(int partition = 3) => new()
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
        // Only what the error transport moves arrives here: the queue is not bound to the message type.
        var dead = bus.Control.ConnectReceiveEndpoint(errorQueue, e =>
        {
            e.ConfigureConsumeTopology = false;
            e.Handler<SilverBatchCommitted>(context =>
            {
                bus.Probe.Arrived("error-queue", context.Message);
                // The error transport explains the move in transport headers.
                var headers = context.ReceiveContext.TransportHeaders;
                bus.Probe.Arrived("error-reason", $"{headers.Get<string>("MT-Reason")}: {headers.Get<string>("MT-Fault-Message")}");
                return Task.CompletedTask;
            });
        });
        await dead.Ready.WaitAsync(TimeSpan.FromSeconds(15));
        var batch = SampleBatch(partition: 9);

        await bus.Publish.Publish(batch);

        var fault = await bus.Probe.WaitFor<Fault<SilverBatchCommitted>>("fault");
        Assert.Equal(batch, fault.Message);
        var exception = Assert.Single(fault.Exceptions);
        Assert.Equal(typeof(InvalidOperationException).FullName, exception.ExceptionType);
        Assert.Equal(BrokenSilverConsumer.Failure, exception.Message);
        Assert.Equal(batch, await bus.Probe.WaitFor<SilverBatchCommitted>("error-queue"));
        Assert.Equal($"fault: {BrokenSilverConsumer.Failure}", await bus.Probe.WaitFor<string>("error-reason"));
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

    /// <summary>Fast retries so the error path is reached in well under a second.</summary>
    private static readonly Dictionary<string, string?> RetrySettings = new()
    {
        ["Bus:ImmediateRetries"] = "2",
        ["Bus:IntervalRetries"] = "3",
        ["Bus:RetryInterval"] = "00:00:00.050",
    };

    protected async Task<RunningBus> StartAsync(Action<IBusRegistrationConfigurator> consumers)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection([.. RetrySettings, .. Settings]);
        builder.Services.AddSingleton<BusProbe>();
        builder.Services.AddControlBus(builder.Configuration, consumers);
        var host = builder.Build();
        await host.StartAsync();
        return new RunningBus(host);
    }

    protected sealed class RunningBus(IHost host) : IAsyncDisposable
    {
        public IServiceProvider Services => host.Services;

        public BusProbe Probe => host.Services.GetRequiredService<BusProbe>();

        public IPublishEndpoint Publish => host.Services.GetRequiredService<IPublishEndpoint>();

        public IBusControl Control => host.Services.GetRequiredService<IBusControl>();

        public async ValueTask DisposeAsync()
        {
            await host.StopAsync();
            host.Dispose();
        }
    }
}

public sealed class InMemoryControlBusContractTests : ControlBusContract
{
    protected override IReadOnlyDictionary<string, string?> Settings { get; } =
        new Dictionary<string, string?> { ["Bus:Kind"] = "inmemory" };
}
