using BaloyiBank.Delta;
using BaloyiBank.EventLog;
using BaloyiBank.Lake;
using BaloyiBank.Lake.Blob.Tests;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace BaloyiBank.Cleansing.Tests.Worker;

/// <summary>
/// Scale-out over one lake: partition ownership records and the commit fence, with two pipelines in this process over
/// a real embedded log and a real lake (a folder here, Azurite in <see cref="ScaleOutOnAzuriteTests"/>).
/// </summary>
public sealed class ScaleOutTests(ITestOutputHelper output)
{
    [Fact]
    public Task A_paused_owner_whose_partitions_were_taken_has_its_commit_refused_and_silver_holds_each_event_once() =>
        ScaleOutScenarios.PausedOwnerIsFencedAsync(dir => new FolderLakeStore(dir), output);

    [Fact]
    public async Task Instances_share_the_partitions_fairly_and_a_stopped_ones_partitions_are_taken_over()
    {
        await using var rig = await CleansingRig.CreateAsync(0);
        var lake = new FolderLakeStore(rig.LakeRoot("lake"));
        var logger = new TestOutputLogger(output);
        var a = new PartitionOwnership(lake, ScaleOutScenarios.Options("a"), CleansingRig.Partitions, TimeProvider.System, null, logger);
        var b = new PartitionOwnership(lake, ScaleOutScenarios.Options("b"), CleansingRig.Partitions, TimeProvider.System, null, logger);
        var c = new PartitionOwnership(lake, ScaleOutScenarios.Options("c"), CleansingRig.Partitions, TimeProvider.System, null, logger);
        using (a)
        using (b)
        using (c)
        {
            // Alone, a takes every partition; b then steals toward the fair share of 2 each.
            Assert.True(await a.BalanceAsync(default));
            Assert.Equal([0, 1, 2, 3], a.Owned);
            await ScaleOutScenarios.UntilAsync(async () =>
            {
                await b.BalanceAsync(default);
                await a.BalanceAsync(default);
                return a.Owned.Count == 2 && b.Owned.Count == 2;
            }, "a and b own 2 partitions each");
            Assert.Empty(a.Owned.Intersect(b.Owned));

            // A third instance: ⌊4/3⌋ = 1 each at least, nobody above ⌈4/3⌉ = 2.
            await ScaleOutScenarios.UntilAsync(async () =>
            {
                await c.BalanceAsync(default);
                await a.BalanceAsync(default);
                await b.BalanceAsync(default);
                return c.Owned.Count >= 1 && a.Owned.Count + b.Owned.Count + c.Owned.Count == 4;
            }, "c owns a partition and every partition has one owner");
            Assert.All(new[] { a, b, c }, o => Assert.InRange(o.Owned.Count, 1, 2));

            // c stops gracefully: its records are released at once, and the others take its partitions at their next round.
            var released = c.Owned;
            await c.ReleaseAsync(default);
            await ScaleOutScenarios.UntilAsync(async () =>
            {
                await a.BalanceAsync(default);
                await b.BalanceAsync(default);
                return a.Owned.Count + b.Owned.Count == 4;
            }, "a and b own c's partitions");
            Assert.Subset(a.Owned.Concat(b.Owned).ToHashSet(), released.ToHashSet());
            Assert.Empty(a.Owned.Intersect(b.Owned));
        }
    }
}

/// <summary>Scaled-out workers (the hosted service, as deployed) over one log and one folder lake.</summary>
public sealed class ScaleOutWorkerTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Two_scaled_out_workers_share_the_log_and_when_one_stops_the_other_finishes_it_with_each_event_once()
    {
        await using var rig = await CleansingRig.CreateAsync(20_000);
        using var first = rig.BuildHost("lake", 2_000, s => s.PostConfigure<CleansingOptions>(o => ScaleOut(o, "worker-1")));
        using var second = rig.BuildHost("lake", 2_000, s => s.PostConfigure<CleansingOptions>(o => ScaleOut(o, "worker-2")));
        var (progress1, progress2) = (first.Services.GetRequiredService<CleansingProgress>(), second.Services.GetRequiredService<CleansingProgress>());
        await first.StartAsync();
        await second.StartAsync();

        // Each ends up with a fair share (2 of 4) and commits from it.
        await ScaleOutScenarios.UntilAsync(() =>
        {
            Assert.Null(progress1.Failure);
            Assert.Null(progress2.Failure);
            return Task.FromResult(progress1.OwnedPartitions.Count == 2 && progress2.OwnedPartitions.Count == 2
                && progress1.IsStarted && progress2.IsStarted && progress1.BatchesCommitted > 0 && progress2.BatchesCommitted > 0);
        }, "both workers own 2 partitions and committed batches");
        output.WriteLine($"worker-1 owns {string.Join(',', progress1.OwnedPartitions)}, worker-2 owns {string.Join(',', progress2.OwnedPartitions)}");

        // More events arrive; the first worker stops gracefully (releasing its records) and the second takes every partition to the end.
        await rig.AppendAsync(10_000);
        await first.StopAsync();
        await ScaleOutScenarios.UntilAsync(() =>
        {
            Assert.Null(progress2.Failure);
            return Task.FromResult(progress2.OwnedPartitions.Count == CleansingRig.Partitions && progress2.IsCaughtUp);
        }, "worker-2 owns every partition and caught up");
        await second.StopAsync();

        var options = ScaleOutScenarios.Options("check");
        await ScaleOutScenarios.AssertEachEventOnceAsync(new FolderLakeStore(rig.LakeRoot("lake")), options, await rig.Log.DescribeAsync(), rig.Records.Count);
    }

    private static void ScaleOut(CleansingOptions options, string instance)
    {
        options.ScaleOut = true;
        options.InstanceId = instance;
        options.OwnershipExpiry = TimeSpan.FromSeconds(2);
        options.OwnershipRenewInterval = TimeSpan.FromMilliseconds(300);
    }
}

/// <summary>The fence scenario on Azurite (the one named by BALOYI_TEST_AZURITE, or one the fixture starts).</summary>
[Collection(AzuriteGroup.Name)]
public sealed class ScaleOutOnAzuriteTests(AzuriteServer azurite, ITestOutputHelper output)
{
    [Fact]
    public async Task A_paused_owner_whose_partitions_were_taken_has_its_commit_refused_and_silver_holds_each_event_once()
    {
        var container = AzuriteServer.NewContainerName("scaleout");
        using var store = azurite.Store(container);
        await store.CreateContainerIfMissingAsync();
        try
        {
            await ScaleOutScenarios.PausedOwnerIsFencedAsync(_ => store, output);
        }
        finally
        {
            await store.DeleteContainerAsync();
        }
    }
}

internal static class ScaleOutScenarios
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    public static CleansingOptions Options(string instance) => new()
    {
        ScaleOut = true,
        InstanceId = instance,
        OwnershipExpiry = TimeSpan.FromSeconds(2),
        OwnershipRenewInterval = TimeSpan.FromMilliseconds(300),
        FlushRows = 1_000_000,
        FlushAge = TimeSpan.FromMilliseconds(300),
        GenerationPollInterval = TimeSpan.FromSeconds(1),
    };

    /// <summary>Polls <paramref name="condition"/> until it holds (failing after <see cref="Deadline"/>); never a fixed sleep standing in for a condition.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// A claims every partition and seals a batch, then is "paused" just before its first commit (it neither renews nor commits);
    /// after A's records expire B takes the partitions, resumes them from silver and commits to the log's end; then A goes on:
    /// its commit is refused by the fence, and silver holds every event exactly once.
    /// </summary>
    public static async Task PausedOwnerIsFencedAsync(Func<string, ILakeStore> lakeAt, ITestOutputHelper output)
    {
        await using var rig = await CleansingRig.CreateAsync(6_000);
        var lake = lakeAt(rig.LakeRoot("lake"));
        var logger = new TestOutputLogger(output);
        var (optionsA, optionsB) = (Options("instance-a"), Options("instance-b"));
        using var ownershipA = new PartitionOwnership(lake, optionsA, CleansingRig.Partitions, TimeProvider.System, null, logger);
        using var ownershipB = new PartitionOwnership(lake, optionsB, CleansingRig.Partitions, TimeProvider.System, null, logger);

        Assert.True(await ownershipA.BalanceAsync(default));
        Assert.Equal([0, 1, 2, 3], ownershipA.Owned);

        var paused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stopBalancingA = new CancellationTokenSource();
        var balancingA = ownershipA.RunAsync(stopBalancingA.Token);
        var pipelineA = new CleansingPipeline(rig.Log, lake, optionsA, new CleansingProgress(), null, null, TimeProvider.System, logger, ownership: ownershipA)
        {
            // The most dangerous pause: files written, commit not yet made; like a GC pause it stops the renewals too.
            BeforeCommit = async (_, ct) =>
            {
                await stopBalancingA.CancelAsync();
                await balancingA.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                paused.TrySetResult();
                await resume.Task.WaitAsync(ct);
            },
        };
        using var stopA = new CancellationTokenSource();
        var runA = Task.Run(() => pipelineA.RunAsync(stopA.Token));
        await Task.WhenAny(paused.Task, runA).WaitAsync(Deadline);
        Assert.True(paused.Task.IsCompleted, $"A ended before its first commit: {runA.Exception?.ToString() ?? "without a failure"}");

        // Records keep arriving while A is paused, so B's progress ends beyond anything A holds.
        await rig.AppendAsync(3_000);

        // B balances on its own schedule: once A's records expire (A does not renew) it claims them all.
        using var stopB = new CancellationTokenSource();
        var balancingB = ownershipB.RunAsync(stopB.Token);
        await UntilAsync(() => Task.FromResult(ownershipB.Owned.Count == CleansingRig.Partitions), "B owns every partition");
        var progressB = new CleansingProgress();
        var runB = Task.Run(() => new CleansingPipeline(rig.Log, lake, optionsB, progressB, null, null, TimeProvider.System, logger, ownership: ownershipB).RunAsync(stopB.Token));
        await UntilAsync(() =>
        {
            Assert.False(runB.IsFaulted, runB.Exception?.ToString());
            return Task.FromResult(progressB.IsCaughtUp);
        }, "B committed every partition to the log's end");

        // A wakes up and commits the batch it sealed before the pause: refused, nothing written.
        resume.SetResult();
        var refused = await Assert.ThrowsAsync<DeltaFencedException>(() => runA.WaitAsync(Deadline));
        output.WriteLine(refused.Message);
        Assert.StartsWith("cleansing-p", refused.AppId, StringComparison.Ordinal);

        await stopB.CancelAsync();
        await runB.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await balancingB.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Assert.Null(progressB.Failure);

        await AssertEachEventOnceAsync(lake, optionsA, await rig.Log.DescribeAsync(), rig.Records.Count);
    }

    /// <summary>No (partition, offset) twice in any table; bronze holds every record; the audit's batches tile each partition from 0 to its end.</summary>
    public static async Task AssertEachEventOnceAsync(ILakeStore lake, CleansingOptions options, IReadOnlyList<PartitionInfo> ends, int events)
    {
        foreach (var schema in CleansingWorker.TablesFor(options).Where(s => !ReferenceEquals(s, CleansingBatchesTable.Schema)))
        {
            using var table = new DeltaTable(lake, CleansingWorker.TablePath(options, schema));
            var readSet = await table.GetReadSetAsync(await table.LoadAsync());
            var seen = new HashSet<(int, long)>();
            await foreach (var chunk in ColumnChunk.ReadAsync(readSet, ["source_partition", "source_offset"]))
            {
                var (partitions, offsets) = (chunk.Ints("source_partition"), chunk.Longs("source_offset"));
                for (var r = 0; r < chunk.RowCount; r++)
                {
                    Assert.True(seen.Add((partitions[r], offsets[r])), $"{schema.Name}: partition {partitions[r]} offset {offsets[r]} is there twice");
                }
            }

            if (ReferenceEquals(schema, BronzeTables.BankEvents))
            {
                Assert.Equal(events, seen.Count);
            }
        }

        using var audit = new DeltaTable(lake, CleansingWorker.TablePath(options, CleansingBatchesTable.Schema));
        var batches = new List<(int Partition, long First, long Last)>();
        await foreach (var chunk in ColumnChunk.ReadAsync(await audit.GetReadSetAsync(await audit.LoadAsync()), ["source_partition", "first_offset", "last_offset"]))
        {
            var (partitions, firsts, lasts) = (chunk.Ints("source_partition"), chunk.Longs("first_offset"), chunk.Longs("last_offset"));
            for (var r = 0; r < chunk.RowCount; r++)
            {
                batches.Add((partitions[r], firsts[r], lasts[r]));
            }
        }

        foreach (var end in ends)
        {
            var next = 0L;
            foreach (var batch in batches.Where(b => b.Partition == end.Partition).OrderBy(b => b.First))
            {
                Assert.True(batch.First == next, $"partition {end.Partition}: a batch starts at {batch.First}, expected {next} (gap or overlap)");
                next = batch.Last + 1;
            }

            Assert.Equal(end.NextOffset, next);
        }
    }
}
