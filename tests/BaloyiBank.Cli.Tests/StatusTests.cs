using System.Text.RegularExpressions;
using BaloyiBank.Cli.Gold;
using BaloyiBank.EventLog.Embedded;
using BaloyiBank.Lake;

namespace BaloyiBank.Cli.Tests;

/// <summary><c>baloyi status</c> on a finished embedded run: every stage, each caught up with the one before it.</summary>
public sealed class StatusTests : IDisposable
{
    private readonly string _data = Path.Combine(Directory.CreateTempSubdirectory("baloyi-status-").FullName, "data");

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(_data)!, recursive: true);

    [Fact]
    public async Task After_a_run_every_stage_shows_lag_0_and_behind_0()
    {
        var run = await Invocation.ChildAsync(TimeSpan.FromMinutes(5), "a 3,000-event embedded run should take seconds",
            "run", "--data", _data, "--events", "3000", "--partitions", "2");
        Assert.True(run.ExitCode == 0, run.ToString());

        var status = await Invocation.ChildAsync(TimeSpan.FromSeconds(60), "status only reads the folder", "status", "--data", _data);
        Assert.True(status.ExitCode == 0, status.ToString());
        var lines = status.StdOut.Split('\n');
        string Row(string stage) => lines.SingleOrDefault(l => Regex.IsMatch(l, $@"^\s*{Regex.Escape(stage)}\s")) ?? throw new Xunit.Sdk.XunitException($"no '{stage}' row in:\n{status.StdOut}");
        foreach (var partition in new[] { "p0", "p1" })
        {
            Assert.Matches(@"committed offset [\d,]+ \(log next [\d,]+\).*lag 0 events", Row("cleansing " + partition));
        }

        Assert.Matches(@"round [1-9][\d,]*;.*behind 0 silver commits", Row("gold"));
        Assert.Matches(@"watermark round [1-9][\d,]* \(loaded .* UTC\).*behind gold 0 rounds", Row("warehouse"));

        // The same figures, read in-process, against the log itself: each partition committed to its last offset,
        // gold at the latest version of every silver table, the warehouse at gold's round.
        await using var log = EmbeddedEventLog.OpenExisting(Path.Combine(_data, "log"));
        var partitions = await log.DescribeAsync();
        Assert.Equal(3000, partitions.Sum(p => p.NextOffset - p.FirstOffset));
        var stages = await StageStatus.ReadAsync(new FolderLakeStore(Path.Combine(_data, "lake")), partitions, Path.Combine(_data, "warehouse.duckdb"), CancellationToken.None);
        Assert.All(stages.Cleansing, p => Assert.Equal((partitions.Single(l => l.Partition == p.Partition).NextOffset - 1, 0L), (p.CommittedOffset, p.Lag)));
        Assert.NotNull(stages.Gold);
        Assert.Equal(stages.Gold.SilverLatest, stages.Gold.Applied);
        Assert.Equal(stages.Gold.Round, stages.Warehouse?.Watermark);
        Assert.Equal(0, stages.WarehouseRoundsBehind);
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"round {stages.Gold.Round:N0};"), Row("gold"), StringComparison.Ordinal);

        // Against a log 100 events longer in partition 0 (as while the generator runs ahead), that partition lags by 100.
        var ahead = partitions.Select(p => p.Partition == 0 ? p with { NextOffset = p.NextOffset + 100 } : p).ToList();
        var behind = await StageStatus.ReadAsync(new FolderLakeStore(Path.Combine(_data, "lake")), ahead, null, CancellationToken.None);
        Assert.Equal([100L, 0L], behind.Cleansing.OrderBy(p => p.Partition).Select(p => p.Lag));
        Assert.Null(behind.Warehouse);
    }

    [Fact]
    public void Lag_counts_from_the_committed_offset_or_the_log_start()
    {
        Assert.Equal(0, new CleansingPartitionStatus(0, CommittedOffset: 99, LogFirstOffset: 0, LogNextOffset: 100).Lag);
        Assert.Equal(40, new CleansingPartitionStatus(0, CommittedOffset: 59, LogFirstOffset: 0, LogNextOffset: 100).Lag);
        Assert.Equal(30, new CleansingPartitionStatus(0, CommittedOffset: null, LogFirstOffset: 70, LogNextOffset: 100).Lag);
        var gold = new GoldStatus(7, new Dictionary<string, long> { ["silver/a"] = 3, ["silver/b"] = -1 }, new Dictionary<string, long> { ["silver/a"] = 5, ["silver/b"] = 1 });
        Assert.Equal(4, gold.SilverCommitsBehind); // 2 commits of a, 2 of b (versions 0 and 1)
    }
}
