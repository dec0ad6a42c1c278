using BaloyiBank.Lake;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace BaloyiBank.Aggregator.Tests;

/// <summary>
/// The worker and gold's generations: it takes over a gold generation a rebuild switched to, and when silver switches
/// it rebuilds gold from the new silver into a new gold generation and switches (the path of <c>replay --layer gold</c>).
/// Real silver (cleansing into a folder lake), real worker in a host.
/// </summary>
public sealed class GoldGenerationWorkerTests
{
    [Fact]
    public async Task The_worker_takes_over_a_rebuilt_gold_and_rebuilds_gold_itself_when_silver_switches()
    {
        await using var rig = await SilverRig.CreateAsync(6_000);
        await rig.CleanseAsync();
        var generations = new LakeGenerations(rig.Lake);
        using (var host = rig.BuildHost(withAggregator: true))
        {
            await host.StartAsync();
            var progress = host.Services.GetRequiredService<AggregatorProgress>();
            await SilverRig.WaitForAsync(() => progress.Started && progress.Round > 0 && progress.Lag == 0 && progress.GoldRoot == "gold", "gold on generation 0", () => progress.Failure);

            // A replay of gold while the worker runs: it takes the new generation over and folds new silver commits there.
            var rebuilt = await GoldGenerations.RebuildAsync(rig.Lake, SilverRig.Options(), "silver", "test: replay of gold");
            Assert.Equal(("gold/g0001", true), (rebuilt.Built.Root, rebuilt.Switched));
            await SilverRig.WaitForAsync(() => progress.GoldRoot == "gold/g0001" && progress.Started, "the worker to take generation 1 over", () => progress.Failure);
            await rig.AppendAsync(2_000);
            await SilverRig.WaitForAsync(() => progress.GoldRoot == "gold/g0001" && progress.Round > rebuilt.Round, "a round in generation 1", () => progress.Failure);
            await host.StopAsync();
        }

        // A replay of silver (here: silver copied whole into generation 1, the live group's progress with it) switched while
        // no aggregator ran: the next worker sees it at its first round and rebuilds gold from it.
        var silver = Path.Combine(rig.Root, "lake", "silver");
        foreach (var file in Directory.EnumerateFiles(silver, "*", SearchOption.AllDirectories).ToList())
        {
            var target = Path.Combine(silver, "g0001", Path.GetRelativePath(silver, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        var claim = await generations.ClaimAsync("silver", "test: replay of silver");
        await generations.SwitchAsync(await generations.LiveAsync("silver"), claim.Number, "test: replay of silver");
        using (var host = rig.BuildHost(withAggregator: true))
        {
            await host.StartAsync();
            var progress = host.Services.GetRequiredService<AggregatorProgress>();
            await SilverRig.WaitForAsync(() => progress.GoldRoot == "gold/g0002" && progress.Started && progress.RebuildingFrom is null,
                "the worker to rebuild gold from silver generation 1 and take it over", () => progress.Failure);
            Assert.Equal("silver/g0001", await GoldGenerations.SilverRootOfAsync(rig.Lake, "gold/g0002"));
            Assert.Equal(2, (await generations.LiveAsync("gold")).Number);
            var health = await new AggregatorHealthCheck(progress).CheckHealthAsync(new HealthCheckContext());
            Assert.Equal(HealthStatus.Healthy, health.Status);

            // New events land in silver generation 1 and are folded into gold generation 2.
            var round = progress.Round;
            await rig.AppendAsync(2_000);
            await SilverRig.WaitForAsync(() => progress.Round > round && progress.Lag == 0, "a round in gold generation 2", () => progress.Failure);
            await host.StopAsync();
        }

        // The verifier resolves the live gold and the silver it folds: gold/g0002 against silver/g0001, equal.
        var report = await GoldVerifier.VerifyAsync(rig.Lake, SilverRig.Options());
        Assert.True(report.Matches, string.Join("\n", report.Tables.SelectMany(t => t.Examples)));
    }
}
