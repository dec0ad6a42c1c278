using System.Collections.Concurrent;
using BaloyiBank.Cleansing;
using BaloyiBank.Contracts.Control;
using BaloyiBank.Delta;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Aggregator.Tests;

/// <summary>The hosted worker: cleansing and aggregator in one host on the in-memory control bus, as <c>baloyi run</c> will run them.</summary>
public sealed class WorkerTests
{
    [Fact]
    public async Task The_worker_follows_silver_commits_and_redelivering_every_control_event_twice_changes_nothing()
    {
        await using var rig = await SilverRig.CreateAsync(15_000);
        var silverEvents = new ConcurrentQueue<SilverBatchCommitted>();
        var goldEvents = new ConcurrentQueue<GoldCommitted>();
        using var host = rig.BuildHost(withAggregator: true, moreConsumers: bus =>
        {
            bus.AddConsumer<SilverRecorder>();
            bus.AddConsumer<GoldRecorder>();
        });
        SilverRecorder.Sink = silverEvents;
        GoldRecorder.Sink = goldEvents;
        await host.StartAsync();
        var cleansing = host.Services.GetRequiredService<CleansingProgress>();
        var progress = host.Services.GetRequiredService<AggregatorProgress>();
        await SilverRig.WaitForAsync(() => cleansing.IsCaughtUp, "cleansing", () => cleansing.Failure);
        var silverVersions = await SilverVersionsAsync(rig);
        await SilverRig.WaitForAsync(() => progress.Applied.Count > 0 && silverVersions.All(v => progress.Applied.GetValueOrDefault(v.Key, -1) == v.Value),
            "gold to apply every silver commit", () => progress.Failure);
        await SilverRig.WaitForAsync(() => !goldEvents.IsEmpty && goldEvents.Max(g => g.Version) == progress.Round, "the last GoldCommitted");

        Assert.NotEmpty(silverEvents);
        Assert.All(goldEvents, g => Assert.Contains("gold/changes/account_balances", g.ChangedRows.Keys));
        var before = await GoldVersionsAsync(rig);
        var round = progress.Round;
        var goldAnnounced = goldEvents.Count;

        // Every control event again, twice: each is a wake-up, silver has nothing new, gold does not move.
        var signal = host.Services.GetRequiredService<AggregatorSignal>();
        var received = signal.Received;
        var publisher = host.Services.GetRequiredService<IPublishEndpoint>();
        var replay = silverEvents.ToArray();
        foreach (var message in replay.Concat(replay))
        {
            await publisher.Publish(message);
        }

        await SilverRig.WaitForAsync(() => signal.Received >= received + (2 * replay.Length), "the redelivered events to arrive");
        await Task.Delay(TimeSpan.FromSeconds(2)); // Several MinRoundIntervals and a poll.
        Assert.Null(progress.Failure);
        Assert.Equal(round, progress.Round);
        Assert.Equal(before, await GoldVersionsAsync(rig));
        Assert.Equal(goldAnnounced, goldEvents.Count);
        await host.StopAsync();

        var options = host.Services.GetRequiredService<IOptions<AggregatorOptions>>().Value;
        var report = await GoldVerifier.VerifyAsync(rig.Lake, options);
        Assert.True(report.Matches, string.Join("\n", report.Tables.SelectMany(t => t.Examples)));
    }

    [Fact]
    public async Task The_verifier_reports_a_gold_row_that_silver_does_not_support()
    {
        await using var rig = await SilverRig.CreateAsync(8_000);
        await rig.CleanseAsync();
        using var aggregator = new GoldAggregator(rig.Lake, SilverRig.Options());
        await aggregator.StartAsync();
        await aggregator.CatchUpAsync();

        // A round that claims the same silver but writes one wrong balance.
        var wrong = aggregator.Fold.AccountBalances()[0];
        var tampered = new GoldChangeSet(aggregator.Round + 1, [wrong with { Balance = wrong.Balance + 0.01m, GoldVersion = aggregator.Round + 1 }], [], [], []);
        await aggregator.Gold.CommitRoundAsync(tampered, aggregator.Applied, CancellationToken.None);

        var report = await GoldVerifier.VerifyAsync(rig.Lake, SilverRig.Options());
        var balances = report.Tables.Single(t => t.Table == "gold/changes/account_balances");
        Assert.False(report.Matches);
        Assert.Equal(1, balances.MissingOrDifferent);
        Assert.Equal(1, balances.Unexpected);
        Assert.Contains(balances.Examples, e => e.StartsWith("gold: account_id=" + wrong.AccountId, StringComparison.Ordinal));
        Assert.All(report.Tables.Where(t => t != balances), t => Assert.True(t.Matches));
    }

    [Fact]
    public void Options_are_validated_with_the_option_the_problem_and_the_fix()
    {
        var result = new AggregatorOptionsValidator().Validate(null, new AggregatorOptions { GoldRoot = "silver", PollInterval = TimeSpan.Zero, CompactionFileThreshold = 1, AppId = "a b", PairsKeptDays = -1 });
        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Contains(failures, f => f.StartsWith("Aggregator:GoldRoot must differ from Aggregator:SilverRoot", StringComparison.Ordinal) && f.Contains("Fix: set Aggregator__GoldRoot", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Aggregator:PollInterval must be between", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Aggregator:CompactionFileThreshold", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Aggregator:AppId", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Aggregator:PairsKeptDays must be between 0 and 3660", StringComparison.Ordinal) && f.Contains("Fix: set Aggregator__PairsKeptDays", StringComparison.Ordinal));
        Assert.True(new AggregatorOptionsValidator().Validate(null, new AggregatorOptions()).Succeeded);
    }

    private static async Task<Dictionary<string, long>> SilverVersionsAsync(SilverRig rig)
    {
        Dictionary<string, long> versions = [];
        foreach (var schema in SilverSource.Tables)
        {
            using var table = new DeltaTable(rig.Lake, $"silver/{schema.Name}");
            versions[table.Path] = (await table.LoadAsync()).Version;
        }

        return versions;
    }

    private static async Task<string> GoldVersionsAsync(SilverRig rig)
    {
        List<string> versions = [];
        foreach (var schema in GoldTables.All)
        {
            using var table = new DeltaTable(rig.Lake, GoldStore.ChangeTablePath("gold", schema));
            var snapshot = await table.LoadAsync();
            versions.Add($"{table.Path}@{snapshot.Version}:{snapshot.Files.Count} files");
        }

        return string.Join(", ", versions);
    }

    public sealed class SilverRecorder : IConsumer<SilverBatchCommitted>
    {
        public static ConcurrentQueue<SilverBatchCommitted> Sink { get; set; } = new();

        public Task Consume(ConsumeContext<SilverBatchCommitted> context)
        {
            Sink.Enqueue(context.Message);
            return Task.CompletedTask;
        }
    }

    public sealed class GoldRecorder : IConsumer<GoldCommitted>
    {
        public static ConcurrentQueue<GoldCommitted> Sink { get; set; } = new();

        public Task Consume(ConsumeContext<GoldCommitted> context)
        {
            Sink.Enqueue(context.Message);
            return Task.CompletedTask;
        }
    }
}
