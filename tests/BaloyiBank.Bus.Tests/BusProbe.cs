using System.Collections.Concurrent;
using System.Diagnostics;
using BaloyiBank.Contracts.Control;
using MassTransit;

namespace BaloyiBank.Bus.Tests;

/// <summary>What the test consumers saw, shared through DI (one per bus under test).</summary>
public sealed class BusProbe
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<object>> _arrivals = new();
    private int _attempts;

    public int Attempts => Volatile.Read(ref _attempts);

    public ConcurrentQueue<(string? TraceId, string? ParentSpanId, string? Source)> ConsumerActivities { get; } = new();

    public int CountAttempt() => Interlocked.Increment(ref _attempts);

    /// <summary>Deliveries per (endpoint, message id) and per (endpoint, host), for the exactly-once checks.</summary>
    public ConcurrentDictionary<(string Endpoint, long Id), int> Deliveries { get; } = new();

    public ConcurrentDictionary<(string Endpoint, string Host), int> DeliveriesByHost { get; } = new();

    public void Tally(string endpoint, string host, long id)
    {
        Deliveries.AddOrUpdate((endpoint, id), 1, (_, n) => n + 1);
        DeliveriesByHost.AddOrUpdate((endpoint, host), 1, (_, n) => n + 1);
    }

    /// <summary>Every delivery to <paramref name="endpoint"/>, repeats included.</summary>
    public int Delivered(string endpoint) => Deliveries.Where(d => d.Key.Endpoint == endpoint).Sum(d => d.Value);

    public void Arrived(string what, object message) => Slot(what).TrySetResult(message);

    public bool HasArrived(string what) => Slot(what).Task.IsCompleted;

    /// <summary>The first message recorded under <paramref name="what"/>, or a timeout failure.</summary>
    public async Task<T> WaitFor<T>(string what)
    {
        var message = await Slot(what).Task.WaitAsync(TimeSpan.FromSeconds(15));
        return Assert.IsType<T>(message, exactMatch: false);
    }

    private TaskCompletionSource<object> Slot(string what) =>
        _arrivals.GetOrAdd(what, _ => new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously));
}

public sealed class ControlRecorder(BusProbe probe) :
    IConsumer<SilverBatchCommitted>, IConsumer<GoldCommitted>, IConsumer<WarehouseLoaded>, IConsumer<ReplayRequested>
{
    public Task Consume(ConsumeContext<SilverBatchCommitted> context) => Record(context);

    public Task Consume(ConsumeContext<GoldCommitted> context) => Record(context);

    public Task Consume(ConsumeContext<WarehouseLoaded> context) => Record(context);

    public Task Consume(ConsumeContext<ReplayRequested> context) => Record(context);

    private Task Record<T>(ConsumeContext<T> context)
        where T : class
    {
        var activity = Activity.Current;
        probe.ConsumerActivities.Enqueue((activity?.TraceId.ToHexString(), activity?.ParentSpanId.ToHexString(), activity?.Source.Name));
        probe.Arrived(typeof(T).Name, context.Message);
        return Task.CompletedTask;
    }
}

/// <summary>Fails its first two deliveries, as a consumer losing a race for a lock would.</summary>
public sealed class FlakySilverConsumer(BusProbe probe) : IConsumer<SilverBatchCommitted>
{
    public Task Consume(ConsumeContext<SilverBatchCommitted> context)
    {
        if (probe.CountAttempt() <= 2)
        {
            throw new InvalidOperationException("gold table is locked by another writer");
        }

        probe.Arrived("consumed", context.Message);
        return Task.CompletedTask;
    }
}

public sealed class BrokenSilverConsumer(BusProbe probe) : IConsumer<SilverBatchCommitted>
{
    public const string Failure = "silver table 'silver/unknown' does not exist";

    public Task Consume(ConsumeContext<SilverBatchCommitted> context)
    {
        probe.CountAttempt();
        throw new InvalidOperationException(Failure);
    }
}

public sealed class SilverFaultRecorder(BusProbe probe) : IConsumer<Fault<SilverBatchCommitted>>
{
    public Task Consume(ConsumeContext<Fault<SilverBatchCommitted>> context)
    {
        probe.Arrived("fault", context.Message);
        return Task.CompletedTask;
    }
}

/// <summary>Which of several hosts in one test a consumer runs in.</summary>
public sealed record HostTag(string Name);

/// <summary>Counts <see cref="SilverBatchCommitted"/> by <see cref="SilverBatchCommitted.FirstOffset"/> on the endpoint "tally-alpha".</summary>
public sealed class TallyAlpha(BusProbe probe, HostTag host) : IConsumer<SilverBatchCommitted>
{
    public const string Endpoint = "tally-alpha";

    public Task Consume(ConsumeContext<SilverBatchCommitted> context)
    {
        probe.Tally(Endpoint, host.Name, context.Message.FirstOffset);
        return Task.CompletedTask;
    }
}

/// <summary>A second endpoint for the same message type: it must get every message too.</summary>
public sealed class TallyBeta(BusProbe probe, HostTag host) : IConsumer<SilverBatchCommitted>
{
    public const string Endpoint = "tally-beta";

    public Task Consume(ConsumeContext<SilverBatchCommitted> context)
    {
        probe.Tally(Endpoint, host.Name, context.Message.FirstOffset);
        return Task.CompletedTask;
    }
}
