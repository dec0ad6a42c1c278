using System.Globalization;
using BaloyiBank.Aggregator;
using BaloyiBank.Cleansing;
using BaloyiBank.EventLog;
using BaloyiBank.EventLog.Embedded;
using BaloyiBank.Generator;
using BaloyiBank.Lake;
using BaloyiBank.Warehouse;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.Sink.Tests;

/// <summary>
/// Real gold: the generated stream in a real embedded log, cleansed by the real cleansing worker into a real folder
/// lake, folded by the real aggregator. Nothing is mocked.
/// </summary>
internal sealed class GoldRig : IAsyncDisposable
{
    private int _generated;

    private GoldRig(string root, EmbeddedEventLog log)
    {
        Root = root;
        Log = log;
        Lake = new FolderLakeStore(Path.Combine(root, "lake"));
    }

    public string Root { get; }
    public EmbeddedEventLog Log { get; }
    public FolderLakeStore Lake { get; }

    public static SinkOptions SinkOptions => new() { Interval = TimeSpan.FromMilliseconds(200), LeaseDuration = TimeSpan.FromSeconds(2) };

    public static async Task<GoldRig> CreateAsync()
    {
        var root = Path.Combine(Path.GetTempPath(), "baloyi-sink-tests", Guid.NewGuid().ToString("N"));
        var log = EmbeddedEventLog.Open(new EmbeddedEventLogOptions { Directory = Path.Combine(root, "log"), Partitions = 4 });
        await Task.CompletedTask;
        return new GoldRig(root, log);
    }

    /// <summary>Appends the next <paramref name="events"/> generated events, cleanses them and folds them into gold; returns gold's round.</summary>
    public async Task<long> AddGoldAsync(int events)
    {
        var records = GeneratedEvents.Records(new GeneratorOptions()).Skip(_generated).Take(events).ToList();
        await using (var producer = Log.CreateProducer())
        {
            foreach (var chunk in records.Chunk(5_000))
            {
                await producer.AppendAsync([.. chunk.Select(r => new OutgoingEvent(r.Key, r.Payload, EventHeaders.Empty))]);
            }
        }

        _generated += records.Count;
        await CleanseAsync();
        using var aggregator = new GoldAggregator(Lake, new AggregatorOptions { CompactionFileThreshold = 4 });
        await aggregator.StartAsync();
        await aggregator.CatchUpAsync();
        return aggregator.Round;
    }

    public IWarehouse OpenDuckDb(string name = "warehouse") =>
        WarehouseFactory.Create(new WarehouseOptions { Kind = "duckdb", DuckDbPath = Path.Combine(Root, $"{name}.duckdb") });

    private async Task CleanseAsync()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ApplicationName = "sink-tests" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Cleansing:FlushRows"] = 2_000.ToString(CultureInfo.InvariantCulture),
            ["Cleansing:FlushAge"] = "00:00:00.500",
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IEventLog>(Log);
        builder.Services.AddSingleton<ILakeStore>(Lake);
        builder.Services.AddCleansing(builder.Configuration);
        using var host = builder.Build();
        await host.StartAsync();
        var progress = host.Services.GetRequiredService<CleansingProgress>();
        await WaitForAsync(() => progress.IsCaughtUp, "cleansing to catch up", () => progress.Failure);
        await host.StopAsync();
    }

    public static async Task WaitForAsync(Func<bool> condition, string what, Func<string?>? failure = null, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(3));
        while (!condition())
        {
            Assert.Null(failure?.Invoke());
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Log.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }
}
