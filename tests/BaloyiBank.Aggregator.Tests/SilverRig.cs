using System.Globalization;
using BaloyiBank.Bus;
using BaloyiBank.Cleansing;
using BaloyiBank.EventLog;
using BaloyiBank.EventLog.Embedded;
using BaloyiBank.Generator;
using BaloyiBank.Lake;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.Aggregator.Tests;

/// <summary>
/// Real silver: the generated stream in a real embedded log, cleansed by the real cleansing worker into a real
/// folder lake. Nothing is mocked. Small flushes, so silver has many commits per table.
/// </summary>
internal sealed class SilverRig : IAsyncDisposable
{
    public const int Partitions = 4;
    private int _generated;
    private GeneratorOptions _generator = new();

    /// <summary>Cleansing's event-time watermark tolerance (a fast simulated clock needs the most it allows).</summary>
    public TimeSpan WatermarkTolerance { get; init; } = TimeSpan.FromHours(1);

    private SilverRig(string root, EmbeddedEventLog log)
    {
        Root = root;
        Log = log;
        Lake = new FolderLakeStore(Path.Combine(root, "lake"));
    }

    public string Root { get; }
    public EmbeddedEventLog Log { get; }
    public FolderLakeStore Lake { get; }

    public static async Task<SilverRig> CreateAsync(int events, GeneratorOptions? generator = null, TimeSpan? watermarkTolerance = null)
    {
        var root = Path.Combine(Path.GetTempPath(), "baloyi-aggregator-tests", Guid.NewGuid().ToString("N"));
        var log = EmbeddedEventLog.Open(new EmbeddedEventLogOptions { Directory = Path.Combine(root, "log"), Partitions = Partitions });
        var rig = new SilverRig(root, log) { _generator = generator ?? new GeneratorOptions(), WatermarkTolerance = watermarkTolerance ?? TimeSpan.FromHours(1) };
        await rig.AppendAsync(events);
        return rig;
    }

    /// <summary>Appends the next <paramref name="events"/> records of the generated stream to the log.</summary>
    public async Task AppendAsync(int events)
    {
        var records = GeneratedEvents.Records(_generator).Skip(_generated).Take(events).ToList();
        await using (var producer = Log.CreateProducer())
        {
            foreach (var chunk in records.Chunk(5_000))
            {
                await producer.AppendAsync([.. chunk.Select(r => new OutgoingEvent(r.Key, r.Payload, EventHeaders.Empty))]);
            }
        }

        _generated += records.Count;
    }

    public static AggregatorOptions Options(string goldRoot = "gold") => new() { GoldRoot = goldRoot, CompactionFileThreshold = 64 };

    /// <summary>A host with cleansing (and, when asked, the aggregator and the in-memory control bus) on this log and lake.</summary>
    public IHost BuildHost(bool withAggregator, int flushRows = 2_000, Action<IBusRegistrationConfigurator>? moreConsumers = null, string goldRoot = "gold")
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ApplicationName = "aggregator-tests" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Cleansing:FlushRows"] = flushRows.ToString(CultureInfo.InvariantCulture),
            ["Cleansing:FlushAge"] = "00:00:00.500",
            ["Cleansing:WatermarkTolerance"] = WatermarkTolerance.ToString("c", CultureInfo.InvariantCulture),
            ["Aggregator:GoldRoot"] = goldRoot,
            ["Aggregator:PollInterval"] = "00:00:01",
            ["Aggregator:MinRoundInterval"] = "00:00:00.100",
            ["Aggregator:CompactionFileThreshold"] = "8",
            ["Bus:ImmediateRetries"] = "0",
            ["Bus:IntervalRetries"] = "0",
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IEventLog>(Log);
        builder.Services.AddSingleton<ILakeStore>(Lake);
        builder.Services.AddCleansing(builder.Configuration);
        if (withAggregator)
        {
            builder.Services.AddAggregator(builder.Configuration);
            builder.Services.AddControlBus(builder.Configuration, bus =>
            {
                bus.AddAggregatorConsumers();
                moreConsumers?.Invoke(bus);
            });
        }

        return builder.Build();
    }

    /// <summary>Runs the cleansing worker alone until every partition is committed to the log's end.</summary>
    public async Task CleanseAsync(int flushRows = 2_000)
    {
        using var host = BuildHost(withAggregator: false, flushRows);
        await host.StartAsync();
        await WaitForAsync(() => host.Services.GetRequiredService<CleansingProgress>().IsCaughtUp, "cleansing to catch up",
            () => host.Services.GetRequiredService<CleansingProgress>().Failure);
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
