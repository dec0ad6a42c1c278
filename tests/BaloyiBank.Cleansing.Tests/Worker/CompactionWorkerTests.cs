using BaloyiBank.Delta;
using BaloyiBank.Lake;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace BaloyiBank.Cleansing.Tests.Worker;

/// <summary>
/// Compaction beside the worker: a run of many small flushes with a compaction pass every second ends with the same
/// tables as a run without, and after a pass every partition value of every table holds at most MinFiles − 1 files.
/// </summary>
public sealed class CompactionWorkerTests(ITestOutputHelper output)
{
    private const int Events = 30_000;
    private const int FlushRows = 300;
    private const int MinFiles = 4;
    private const int Steps = 16;

    private static void Compacting(IServiceCollection services) => services.Configure<CleansingOptions>(o =>
    {
        o.CompactionInterval = TimeSpan.FromSeconds(1);
        o.CompactionMinFiles = MinFiles;
    });

    private static void NotCompacting(IServiceCollection services) => services.Configure<CleansingOptions>(o => o.CompactionInterval = TimeSpan.FromDays(1));

    [Fact]
    public async Task Compaction_beside_many_small_flushes_keeps_every_row_and_bounds_the_files_per_date()
    {
        await using var rig = await CleansingRig.CreateAsync(1_500);
        var lake = new FolderLakeStore(rig.LakeRoot("compacted"));

        // The stream trickles in: each step is at least one flush, so every table gets a small file per step, while a
        // compaction pass runs every second beside the flushes.
        int optimizedDuringRun;
        using (var host = rig.BuildHost("compacted", FlushRows, Compacting))
        {
            await host.StartAsync();
            var progress = host.Services.GetRequiredService<CleansingProgress>();
            for (var step = 0; step < Steps; step++)
            {
                if (step > 0)
                {
                    await rig.AppendAsync(1_500);
                }

                var deadline = DateTime.UtcNow.AddMinutes(2);
                while (!progress.IsCaughtUp || progress.Consumed < rig.Records.Count)
                {
                    Assert.Null(progress.Failure);
                    Assert.True(DateTime.UtcNow < deadline, $"step {step}: cleansing did not catch up (lag {progress.Lag})");
                    await Task.Delay(20);
                }
            }

            optimizedDuringRun = await OptimizeCommitsAsync(lake, "silver/transactions");
            output.WriteLine($"{progress.BatchesCommitted} batches; {optimizedDuringRun} compactions of silver/transactions while the worker ran");
            await host.StopAsync();
        }

        Assert.True(optimizedDuringRun > 0, "no compaction ran beside the flushes");
        await rig.RunToEndAsync("plain", FlushRows, configure: NotCompacting);

        // One more pass with the worker stopped: then the bound holds for every table, not only between flushes.
        var options = new CleansingOptions { CompactionMinFiles = MinFiles };
        var pass = await new SilverCompactor(lake, options, TimeSpan.FromHours(1), TimeProvider.System, NullLogger.Instance).RunOnceAsync(CancellationToken.None);
        output.WriteLine($"final pass: {pass}");
        Assert.Equal(0, pass.GaveUp);

        foreach (var schema in CleansingWorker.TablesFor(options))
        {
            using var table = new DeltaTable(lake, CleansingWorker.TablePath(options, schema));
            var snapshot = await table.LoadAsync();
            var perPartition = snapshot.Files.Values.GroupBy(f => string.Join(",", f.PartitionValues.Values)).ToList();
            var flushes = (await table.ReadChangesAsync(-1, snapshot.Version)).Count(c => c.CommitInfo?.Operation == "STREAMING UPDATE");
            output.WriteLine($"{table.Path}: {flushes} flush commits; now {snapshot.Files.Count} files over {perPartition.Count} partition values, at most {perPartition.Select(g => g.Count()).DefaultIfEmpty().Max()}");
            Assert.All(perPartition, g => Assert.True(g.Count() < MinFiles, $"{table.Path} {g.Key}: {g.Count()} files after a pass"));
        }

        // The compacted run holds the same rows as the plain one.
        await CleansingWorkerTests.AssertSameSilverAsync(rig.LakeRoot("plain"), rig.LakeRoot("compacted"));

        // A restart resumes where the audit says: nothing is re-read or lost (compaction moved no txn).
        await rig.AppendAsync(5_000);
        await rig.RunToEndAsync("plain", FlushRows, configure: NotCompacting);
        await rig.RunToEndAsync("compacted", FlushRows, configure: Compacting);
        await CleansingWorkerTests.AssertSameSilverAsync(rig.LakeRoot("plain"), rig.LakeRoot("compacted"));
    }

    private static async Task<int> OptimizeCommitsAsync(ILakeStore lake, string path)
    {
        using var table = new DeltaTable(lake, path);
        var snapshot = await table.LoadAsync();
        return (await table.ReadChangesAsync(-1, snapshot.Version)).Count(c => c.CommitInfo?.Operation == "OPTIMIZE");
    }
}
