using System.Collections.Concurrent;
using BaloyiBank.Contracts.Control;
using BaloyiBank.EventLog.RabbitMq.Tests;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.Bus.Tests;

/// <summary>
/// Real hosts with <see cref="ControlBusServiceCollectionExtensions.AddControlBus"/> for one test: one endpoint prefix
/// (so the test's queues on a shared broker are its own), every log line, every endpoint opened; disposing stops the
/// hosts and removes the endpoints through <paramref name="removeEndpoints"/>.
/// </summary>
public sealed class ControlBusRig(IReadOnlyDictionary<string, string?> settings, Func<IReadOnlyCollection<string>, Task>? removeEndpoints = null)
    : IAsyncDisposable
{
    /// <summary>Fast retries so the error path is reached in well under a second.</summary>
    private static readonly Dictionary<string, string?> RetrySettings = new()
    {
        ["Bus:ImmediateRetries"] = "2",
        ["Bus:IntervalRetries"] = "3",
        ["Bus:RetryInterval"] = "00:00:00.050",
    };

    private readonly ConcurrentQueue<RunningBus> _started = new();

    /// <summary>This test's <c>Bus:EndpointPrefix</c>.</summary>
    public string Prefix { get; } = $"t{Guid.NewGuid():N}"[..9];

    /// <summary>Every receive endpoint (queue) the hosts opened.</summary>
    public ConcurrentDictionary<string, bool> Endpoints { get; } = new();

    /// <summary>Every log line of the hosts.</summary>
    public CapturingLoggerProvider Logs { get; } = new();

    public static async Task WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"condition not met within {timeout}");
            await Task.Delay(20);
        }
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"{what}: not within {timeout}");
            await Task.Delay(100);
        }
    }

    /// <summary>A host as the settings and <paramref name="extra"/> say, started.</summary>
    public async Task<RunningBus> StartAsync(
        Action<IBusRegistrationConfigurator> consumers,
        BusProbe? probe = null,
        string host = "first",
        IReadOnlyDictionary<string, string?>? extra = null)
    {
        var bus = Track(Build(consumers, probe, host, extra));
        await bus.StartAsync();
        return bus;
    }

    /// <summary>The host <see cref="StartAsync"/> would start, not started (nor tracked).</summary>
    public IHost Build(
        Action<IBusRegistrationConfigurator> consumers,
        BusProbe? probe = null,
        string host = "first",
        IReadOnlyDictionary<string, string?>? extra = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection([.. RetrySettings, new("Bus:EndpointPrefix", Prefix), .. settings, .. extra ?? new Dictionary<string, string?>()]);
        builder.Logging.SetMinimumLevel(LogLevel.Debug).AddProvider(Logs);
        builder.Services.AddSingleton(probe ?? new BusProbe());
        builder.Services.AddSingleton(new HostTag(host));
        builder.Services.AddReceiveEndpointObserver(_ => new EndpointRecorder(Endpoints));
        builder.Services.AddControlBus(builder.Configuration, consumers);
        return builder.Build();
    }

    /// <summary>Stops and disposes <paramref name="host"/> with the rig, whatever happens before.</summary>
    public RunningBus Track(IHost host)
    {
        var bus = new RunningBus(host);
        _started.Enqueue(bus);
        return bus;
    }

    public async ValueTask DisposeAsync()
    {
        while (_started.TryDequeue(out var bus))
        {
            await bus.DisposeAsync();
        }

        if (removeEndpoints is not null)
        {
            await removeEndpoints([.. Endpoints.Keys]);
        }
    }

    private sealed class EndpointRecorder(ConcurrentDictionary<string, bool> endpoints) : IReceiveEndpointObserver
    {
        public Task Ready(ReceiveEndpointReady ready)
        {
            endpoints.TryAdd(ready.InputAddress.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries).Last(), true);
            return Task.CompletedTask;
        }

        public Task Stopping(ReceiveEndpointStopping stopping) => Task.CompletedTask;

        public Task Completed(ReceiveEndpointCompleted completed) => Task.CompletedTask;

        public Task Faulted(ReceiveEndpointFaulted faulted) => Task.CompletedTask;
    }
}

/// <summary>A started host with the control bus; disposing stops it (once).</summary>
public sealed class RunningBus(IHost host) : IAsyncDisposable
{
    private int _disposed;
    private volatile bool _started;

    public IHost Host => host;

    public IServiceProvider Services => host.Services;

    public BusProbe Probe => host.Services.GetRequiredService<BusProbe>();

    public IPublishEndpoint Publish => host.Services.GetRequiredService<IPublishEndpoint>();

    public IBusControl Control => host.Services.GetRequiredService<IBusControl>();

    /// <summary>Starts the host (waiting, as services do, until the bus is up).</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await host.StartAsync(cancellationToken);
        _started = true;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            try
            {
                // A host whose start failed has nothing to stop (and Host.StopAsync would throw).
                if (_started)
                {
                    await host.StopAsync();
                }
            }
            finally
            {
                host.Dispose();
            }
        }
    }
}

/// <summary>A message taken out of an error queue, with the reason the error transport gave.</summary>
public sealed record ErrorQueueMessage(SilverBatchCommitted Message, string Reason);

public interface IErrorQueueWatch
{
    /// <summary>The one message moved to the error queue, or a failure after a timeout.</summary>
    Task<ErrorQueueMessage> TakeAsync();
}
