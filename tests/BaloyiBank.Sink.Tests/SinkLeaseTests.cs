using BaloyiBank.Lake;
using BaloyiBank.Warehouse;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.Sink.Tests;

public sealed class SinkLeaseTests
{
    [Fact]
    public async Task OneHolderAtATimeAndAStandbyTakesOverWhenItExpiresOrIsReleased()
    {
        var root = Path.Combine(Path.GetTempPath(), "baloyi-sink-tests", Guid.NewGuid().ToString("N"));
        var lake = new FolderLakeStore(root);
        // The leases' clock moves only when the test says so: on a loaded machine a real second can pass between two
        // calls, and a 1 s lease then expired before the standby's first look (seen once in CI).
        var clock = new SteppedClock();
        var a = new SinkLease(lake, "_leases/sink", "a", TimeSpan.FromSeconds(1), clock);
        var b = new SinkLease(lake, "_leases/sink", "b", TimeSpan.FromSeconds(1), clock);

        Assert.True(await a.AcquireOrRenewAsync());
        Assert.False(await b.AcquireOrRenewAsync());
        Assert.Equal("a", b.LastSeen?.Owner);
        Assert.True(await a.AcquireOrRenewAsync());   // renewal
        Assert.False(await b.AcquireOrRenewAsync());

        clock.Now += TimeSpan.FromMilliseconds(1_300); // a stops renewing: its lease expires
        Assert.True(await b.AcquireOrRenewAsync());
        Assert.False(await a.AcquireOrRenewAsync());
        Assert.False(a.IsHeld);

        await b.ReleaseAsync();
        Assert.True(await a.AcquireOrRenewAsync());

        // Old generations are cleaned up; the newest always stays.
        var left = new List<string>();
        await foreach (var info in lake.ListAsync("_leases/sink/"))
        {
            left.Add(info.Path);
        }

        Assert.InRange(left.Count, 1, 2);
        Directory.Delete(root, recursive: true);
    }

    [Fact]
    public async Task RacingSinksNeverBothHoldTheLease()
    {
        var root = Path.Combine(Path.GetTempPath(), "baloyi-sink-tests", Guid.NewGuid().ToString("N"));
        var lake = new FolderLakeStore(root);
        var leases = Enumerable.Range(0, 6).Select(i => new SinkLease(lake, "_leases/sink", $"sink{i}", TimeSpan.FromMinutes(1))).ToArray();
        for (var round = 0; round < 5; round++)
        {
            var held = await Task.WhenAll(leases.Select(l => Task.Run(() => l.AcquireOrRenewAsync())));
            Assert.Equal(1, held.Count(h => h));
        }

        Directory.Delete(root, recursive: true);
    }

    [Fact]
    public async Task ASecondSinkWorkerWaitsAsStandbyAndTakesOverWhenTheFirstStops()
    {
        await using var rig = await GoldRig.CreateAsync();
        var round = await rig.AddGoldAsync(5_000);
        await using var warehouse = rig.OpenDuckDb();
        using var first = BuildSinkHost(rig, warehouse);
        using var second = BuildSinkHost(rig, warehouse);
        var firstProgress = first.Services.GetRequiredService<SinkProgress>();
        var secondProgress = second.Services.GetRequiredService<SinkProgress>();

        await first.StartAsync();
        await GoldRig.WaitForAsync(() => firstProgress.Watermark == round, "the first sink to load", () => firstProgress.LastError);
        await second.StartAsync();
        await GoldRig.WaitForAsync(() => secondProgress.LeaseHolder is not null, "the second sink to look at the lease");
        await Task.Delay(1_000);
        Assert.True(firstProgress.HoldsLease);
        Assert.False(secondProgress.HoldsLease);
        Assert.Equal(0, secondProgress.Loads);

        await first.StopAsync();
        var next = await rig.AddGoldAsync(5_000);
        await GoldRig.WaitForAsync(() => secondProgress.HoldsLease && secondProgress.Watermark == next, "the standby to take over and load", () => secondProgress.LastError);
        await second.StopAsync();
        var report = await SinkVerifier.VerifyAsync(rig.Lake, warehouse, GoldRig.SinkOptions, Path.Combine(rig.Root, "verify"));
        Assert.True(report.Matches);
    }

    private static IHost BuildSinkHost(GoldRig rig, IWarehouse warehouse)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ApplicationName = "sink-tests" });
        builder.Configuration["Sink:Interval"] = "00:00:00.200";
        // Long enough that a renewal stalled by a busy machine does not hand the lease over mid-test; a stopping sink
        // releases it, so the take-over does not wait for the expiry.
        builder.Configuration["Sink:LeaseDuration"] = "00:00:10";
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<ILakeStore>(rig.Lake);
        builder.Services.AddSingleton(new NonDisposingWarehouse(warehouse));
        builder.Services.AddSingleton<IWarehouse>(sp => sp.GetRequiredService<NonDisposingWarehouse>());
        builder.Services.AddSink(builder.Configuration);
        return builder.Build();
    }

    private sealed class SteppedClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = DateTimeOffset.UtcNow;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
