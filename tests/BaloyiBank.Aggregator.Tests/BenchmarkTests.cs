using System.Globalization;
using Xunit.Abstractions;

namespace BaloyiBank.Aggregator.Tests;

/// <summary>The benchmark runs end to end and its two answers agree (speed is reported, never asserted).</summary>
public sealed class BenchmarkTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_benchmark_rebuilds_gold_with_the_same_balances_as_DuckDB_s_group_by()
    {
        // AGGREGATOR_BENCH_ROWS / AGGREGATOR_BENCH_ACCOUNTS scale it up by hand (e.g. 10000000 / 1000000).
        var rows = long.Parse(Environment.GetEnvironmentVariable("AGGREGATOR_BENCH_ROWS") ?? "300000", CultureInfo.InvariantCulture);
        var accounts = int.Parse(Environment.GetEnvironmentVariable("AGGREGATOR_BENCH_ACCOUNTS") ?? "30000", CultureInfo.InvariantCulture);
        var folder = Directory.CreateTempSubdirectory("baloyi-aggregator-bench-").FullName;
        try
        {
            var result = await AggregatorBenchmark.RunAsync(folder, rows, accounts, foldRows: (int)Math.Min(rows, 5_000_000));
            output.WriteLine($"silver {result.SilverRows:N0} rows in {result.SilverFiles} files, {result.Accounts:N0} accounts");
            output.WriteLine($"fold {result.FoldRowsPerSecond:N0} rows/s (encoded {result.EncodedFoldRowsPerSecond:N0}); {result.BytesPerAccount:N0} bytes/account");
            output.WriteLine($"rebuild {result.Rebuild.TotalSeconds:F2} s ({result.RebuildRowsPerSecond:N0} rows/s); DuckDB GROUP BY {result.DuckDbGroupBy.TotalSeconds:F2} s; ratio {result.RebuildToDuckDbRatio:F2}");
            Assert.Equal(0, result.BalanceMismatches);
            Assert.True(result.SilverFiles > 0);
            Assert.True(result.FoldRowsPerSecond > 0);
            Assert.True(result.EncodedFoldRowsPerSecond > 0);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
