using System.Diagnostics.Metrics;
using BaloyiBank.Warehouse;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.Sink.Tests;

/// <summary>
/// The lease picks one loader, but a loader that pauses past its lease still holds a load built from the watermark it
/// read. The warehouse fences that load (compare-and-set of the watermark in the load's transaction): the stale
/// loader is refused whole, the warehouse keeps the newer loader's rows and watermark, and the stale sink carries on.
/// The pause is simulated (<see cref="PausedLoaderWarehouse"/>); leases, gold, the warehouse and the sinks are real.
/// </summary>
public sealed class SinkFenceTests
{
    [Fact]
    public async Task A_loader_whose_lease_lapsed_in_a_simulated_pause_is_refused_and_the_warehouse_still_equals_gold()
    {
        await using var rig = await GoldRig.CreateAsync();
        var first = await rig.AddGoldAsync(5_000);
        await using var warehouse = rig.OpenDuckDb();
        var paused = new PausedLoaderWarehouse(warehouse);
        var leaseA = new SinkLease(rig.Lake, "_leases/sink", "a", TimeSpan.FromMilliseconds(500));
        var leaseB = new SinkLease(rig.Lake, "_leases/sink", "b", TimeSpan.FromMinutes(1));
        using var loaderA = new SinkLoader(rig.Lake, paused, GoldRig.SinkOptions);
        using var loaderB = new SinkLoader(rig.Lake, warehouse, GoldRig.SinkOptions);

        // A holds the lease, reads the watermark (none), builds the load of round 0..first, and freezes.
        Assert.True(await leaseA.AcquireOrRenewAsync());
        var stale = loaderA.LoadAsync();
        await paused.Paused.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Null(paused.PausedLoad!.ExpectedWatermark);

        // Its lease lapses; B takes over and loads that round and the next.
        await Task.Delay(TimeSpan.FromMilliseconds(700));
        Assert.True(await leaseB.AcquireOrRenewAsync());
        Assert.NotNull(await loaderB.LoadAsync());
        var second = await rig.AddGoldAsync(5_000);
        Assert.Equal(second, (await loaderB.LoadAsync())!.ToRound);

        // A wakes up and finishes its load: refused, nothing changed (its rows would be older, its watermark lower).
        paused.Resume();
        var fenced = await Assert.ThrowsAsync<WarehouseFencedException>(() => stale);
        Assert.Equal(((long?)null, (long?)second, first), (fenced.ExpectedWatermark, fenced.FoundWatermark, fenced.Watermark));
        Assert.False(await leaseA.AcquireOrRenewAsync());
        Assert.Equal("b", leaseA.LastSeen?.Owner);
        Assert.Equal(second, await loaderA.WatermarkAsync());
        var report = await SinkVerifier.VerifyAsync(rig.Lake, warehouse, GoldRig.SinkOptions, Path.Combine(rig.Root, "verify"));
        Assert.True(report.Matches, string.Join("; ", report.Tables.Select(t => $"{t.Table}: {t.Missing} missing, {t.Unexpected} unexpected")));
        Assert.Equal((second, second), (report.Watermark, report.GoldRound));

        // Had it not been fenced, the same load would have moved the watermark back to the first round.
        Assert.True(first < second);
        Assert.Null(await loaderA.LoadAsync()); // re-reading, it has nothing left to do
    }

    [Fact]
    public async Task A_sink_worker_fenced_after_a_simulated_pause_warns_counts_and_goes_on_as_a_standby()
    {
        await using var rig = await GoldRig.CreateAsync();
        var first = await rig.AddGoldAsync(5_000);
        await using var warehouse = rig.OpenDuckDb();
        var paused = new PausedLoaderWarehouse(warehouse);
        var logs = new LogCapture();
        // The first sink's lease is short (it lapses while the sink is frozen); the second's long (a busy machine's
        // stalled renewal must not hand the lease back mid-test).
        using var stale = BuildSinkHost(rig, paused, TimeSpan.FromSeconds(2), logs);
        using var standby = BuildSinkHost(rig, new NonDisposingWarehouse(warehouse), TimeSpan.FromSeconds(30), null);
        var staleProgress = stale.Services.GetRequiredService<SinkProgress>();
        var standbyProgress = standby.Services.GetRequiredService<SinkProgress>();
        var staleMeters = stale.Services.GetRequiredService<IMeterFactory>();
        long fencedCount = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Scope == staleMeters && instrument.Name == "baloyibank.sink.loads")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "outcome" && (string?)tag.Value == "fenced")
                {
                    Interlocked.Add(ref fencedCount, value);
                }
            }
        });
        listener.Start();

        await stale.StartAsync();
        await paused.Paused.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.True(staleProgress.HoldsLease);
        await standby.StartAsync();
        await GoldRig.WaitForAsync(() => standbyProgress.HoldsLease && standbyProgress.Watermark == first, "the standby to take the lapsed lease and load", () => standbyProgress.LastError);
        var second = await rig.AddGoldAsync(5_000);
        await GoldRig.WaitForAsync(() => standbyProgress.Watermark == second, "the new holder to load the next round", () => standbyProgress.LastError);

        paused.Resume();
        // The worker gives up the lease (progress) just before it logs what it found (6013): wait for both.
        await GoldRig.WaitForAsync(() => staleProgress.FencedLoads == 1 && !staleProgress.HoldsLease && staleProgress.Watermark == second
                && logs.Entries.Any(e => e.Id == 6013),
            "the stale sink to be fenced and stand by", () => staleProgress.LastError, TimeSpan.FromMinutes(1));

        Assert.Null(staleProgress.LastError);
        Assert.Contains("fenced", staleProgress.LastFenced, StringComparison.Ordinal);
        Assert.Equal(1, Interlocked.Read(ref fencedCount));
        Assert.Contains(logs.Entries, e => e.Id == 6002 && e.Level == LogLevel.Warning);
        Assert.Contains(logs.Entries, e => e.Id == 6013 && e.Message.Contains("no longer holds", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Entries, e => e.Level >= LogLevel.Error);
        var worker = stale.Services.GetServices<IHostedService>().OfType<SinkWorker>().Single();
        Assert.False(worker.ExecuteTask!.IsCompleted, "the fenced sink's worker stopped");
        Assert.True(standbyProgress.HoldsLease);
        Assert.Equal(0, staleProgress.Loads);

        await standby.StopAsync();
        await stale.StopAsync();
        Assert.Equal(second, (await warehouse.ReadWatermarkAsync("sink", SinkModel.AccountBalances.Name))!.Value);
        var report = await SinkVerifier.VerifyAsync(rig.Lake, warehouse, GoldRig.SinkOptions, Path.Combine(rig.Root, "verify"));
        Assert.True(report.Matches, string.Join("; ", report.Tables.Select(t => $"{t.Table}: {t.Missing} missing, {t.Unexpected} unexpected")));
    }

    private static IHost BuildSinkHost(GoldRig rig, IWarehouse warehouse, TimeSpan leaseDuration, LogCapture? logs)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ApplicationName = "sink-tests" });
        builder.Configuration["Sink:Interval"] = "00:00:00.200";
        builder.Configuration["Sink:LeaseDuration"] = leaseDuration.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
        }

        builder.Services.AddSingleton<BaloyiBank.Lake.ILakeStore>(rig.Lake);
        builder.Services.AddSingleton(warehouse);
        builder.Services.AddSink(builder.Configuration);
        return builder.Build();
    }

    /// <summary>What the sink logged (event id, level, message), for the operator's view.</summary>
    private sealed class LogCapture : ILoggerProvider, ILogger
    {
        private readonly List<(int Id, LogLevel Level, string Message)> _entries = [];

        public IReadOnlyList<(int Id, LogLevel Level, string Message)> Entries
        {
            get
            {
                lock (_entries)
                {
                    return [.. _entries];
                }
            }
        }

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_entries)
            {
                _entries.Add((eventId.Id, logLevel, formatter(state, exception)));
            }
        }

        public void Dispose()
        {
        }
    }
}
