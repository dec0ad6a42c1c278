using BaloyiBank.Sink;
using BaloyiBank.Warehouse;
using BaloyiBank.Warehouse.Tests;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.Sink.Tests;

/// <summary>
/// The sink against a real PostgreSQL of its own that is stopped and started while gold is being loaded: the
/// loader's retries (the warehouse's Polly pipeline) carry it over the outage, and the final warehouse equals
/// gold's current rows with the watermark at gold's round. (That an interrupted load leaves neither data nor
/// watermark behind is tested at the port, in Warehouse.Tests' PostgresFaultTests.)
/// </summary>
public sealed class SinkPostgresFaultTests : IAsyncLifetime
{
    private readonly PostgresServer _server = new();

    public Task InitializeAsync() => _server.InitializeAsync(own: true);

    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task PostgreSQL_stopped_and_restarted_during_loads_ends_equal_to_gold()
    {
        await using var rig = await GoldRig.CreateAsync();
        var options = new WarehouseOptions
        {
            Kind = "postgres",
            ConnectionString = _server.ConnectionString,
            Schema = "sink_fault",
            Resilience = new WarehouseResilienceOptions
            {
                MaxRetries = 20,
                BaseDelay = TimeSpan.FromMilliseconds(200),
                MaxDelay = TimeSpan.FromSeconds(1),
                Timeout = TimeSpan.FromMinutes(2),
                BreakerMinimumThroughput = 1_000,
            },
        };
        var retries = new RetryCounter();
        using var logging = LoggerFactory.Create(builder => builder.AddProvider(retries));
        await using var warehouse = WarehouseFactory.Create(options, logging);
        using var loader = new SinkLoader(rig.Lake, warehouse, GoldRig.SinkOptions);
        await rig.AddGoldAsync(20_000);
        Assert.NotEmpty(await loader.CatchUpAsync());

        for (var outage = 0; outage < 3; outage++)
        {
            var round = await rig.AddGoldAsync(15_000);
            // Down before or during the load, back two seconds later: the load waits it out and lands once.
            var load = Task.Run(() => loader.CatchUpAsync());
            await Task.Delay(outage * 40);
            await _server.StopAsync();
            await Task.Delay(TimeSpan.FromSeconds(2));
            await _server.StartAsync();
            await load.WaitAsync(TimeSpan.FromMinutes(3));
            Assert.Equal(round, await loader.WatermarkAsync());
        }

        // The outages were met and waited out, not missed.
        Assert.True(retries.Count > 0, "no transient failure was retried: the server was never down during a load");

        var report = await SinkVerifier.VerifyAsync(rig.Lake, warehouse, GoldRig.SinkOptions, Path.Combine(rig.Root, "verify"));
        Assert.True(report.Matches, string.Join("; ", report.Tables.Select(t => $"{t.Table}: {t.Missing} missing, {t.Unexpected} unexpected")));
        Assert.True(report.RowsCompared > 1_000, $"only {report.RowsCompared} rows compared");
        Assert.Equal(report.GoldRound, report.Watermark);
    }

    /// <summary>Counts the warehouse's "transient failure, retry" log lines (event 5001).</summary>
    private sealed class RetryCounter : ILoggerProvider, ILogger
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id == 5001)
            {
                Interlocked.Increment(ref _count);
            }
        }

        public void Dispose()
        {
        }
    }
}
