using System.Diagnostics;
using System.Text.Json;

namespace BaloyiBank.EndToEnd.Tests;

/// <summary>
/// <c>baloyi run</c> as a user runs it: a real child process writing a real embedded log on disk.
/// </summary>
[Collection(ProcessHeavy.Name)]
public sealed class RunCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("baloyi-e2e-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Data(string name) => Path.Combine(_root, name);

    [Fact]
    public async Task Run_prints_counts_per_kind_and_offsets_per_partition_and_the_log_holds_exactly_them()
    {
        var (outcome, summary) = await BaloyiCli.RunWithSummaryAsync(Data("a"), "--events", "60000", "--seed", "11");

        var generated = summary.GetProperty("generated").GetInt64();
        Assert.Equal(60_000, generated);
        var kinds = summary.GetProperty("byKind").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());
        Assert.Equal(generated, kinds.Values.Sum());
        foreach (var kind in new[] { "clean", "late", "duplicate", "malformed_json", "missing_field", "unknown_currency", "non_positive_amount", "unknown_account", "future_timestamp" })
        {
            Assert.True(kinds.ContainsKey(kind), $"summary has no count for {kind}");
            Assert.Contains(kind, outcome.StdOut, StringComparison.Ordinal);
        }

        var partitions = summary.GetProperty("partitions").EnumerateArray().ToArray();
        Assert.Equal(8, partitions.Length);
        Assert.Equal(generated, partitions.Sum(p => p.GetProperty("nextOffset").GetInt64() - p.GetProperty("firstOffset").GetInt64()));
        Assert.Contains("partition", outcome.StdOut, StringComparison.OrdinalIgnoreCase);

        // Cleansing in the same run: every consumed event is silver, quarantined or a duplicate,
        // and what it made of each generated kind matches the generator's own counts exactly.
        var cleansing = summary.GetProperty("cleansing");
        Assert.Equal(generated, cleansing.GetProperty("consumed").GetInt64());
        Assert.Equal(0, cleansing.GetProperty("lag").GetInt64());
        Assert.Equal(generated, cleansing.GetProperty("valid").GetInt64() + cleansing.GetProperty("quarantined").GetInt64() + cleansing.GetProperty("duplicates").GetInt64());
        foreach (var kind in cleansing.GetProperty("byGeneratorKind").EnumerateArray())
        {
            Assert.True(kind.GetProperty("generated").GetInt64() == kind.GetProperty("observed").GetInt64(),
                $"{kind.GetProperty("kind").GetString()}: generated {kind.GetProperty("generated").GetInt64()}, cleansing observed {kind.GetProperty("observed").GetInt64()}");
        }

        Assert.True(Directory.Exists(Path.Combine(Data("a"), "lake", "silver", "transactions", "_delta_log")), "silver transactions table missing");

        var log = await LogInspector.ReadAllAsync(Data("a"));
        Assert.Equal(generated, log.Sum(p => p.Count));
        for (var p = 0; p < log.Length; p++)
        {
            Assert.Equal(partitions[p].GetProperty("nextOffset").GetInt64(), log[p].Count == 0 ? 0 : log[p][^1].Offset + 1);
        }
    }

    [Fact]
    public async Task The_same_seed_and_start_give_byte_identical_payloads_and_another_seed_does_not()
    {
        string[] args = ["--events", "20000", "--seed", "5", "--start", "2026-02-01T00:00:00Z"];
        await BaloyiCli.RunWithSummaryAsync(Data("one"), args);
        await BaloyiCli.RunWithSummaryAsync(Data("two"), [.. args, "--rate", "40000"]);
        await BaloyiCli.RunWithSummaryAsync(Data("other"), "--events", "20000", "--seed", "6", "--start", "2026-02-01T00:00:00Z");

        var one = await LogInspector.ReadAllAsync(Data("one"));
        var two = await LogInspector.ReadAllAsync(Data("two"));
        var other = await LogInspector.ReadAllAsync(Data("other"));
        for (var p = 0; p < one.Length; p++)
        {
            Assert.Equal(one[p].Count, two[p].Count);
            for (var i = 0; i < one[p].Count; i++)
            {
                Assert.True(one[p][i].Value.Span.SequenceEqual(two[p][i].Value.Span), $"payload differs at partition {p}, offset {one[p][i].Offset}");
            }
        }

        Assert.NotEqual(Payloads(one), Payloads(other));
        static string Payloads(IReadOnlyList<BaloyiBank.EventLog.LogRecord>[] log) =>
            string.Concat(log.SelectMany(p => p).Take(500).Select(r => Convert.ToBase64String(r.Value.Span)));
    }

    [Fact]
    public async Task A_second_run_continues_the_log_and_equals_one_longer_run()
    {
        var (_, first) = await BaloyiCli.RunWithSummaryAsync(Data("split"), "--events", "6000", "--seed", "3");
        var (_, second) = await BaloyiCli.RunWithSummaryAsync(Data("split"), "--events", "6000", "--seed", "3");
        await BaloyiCli.RunWithSummaryAsync(Data("whole"), "--events", "12000", "--seed", "3");
        Assert.Equal(6000, first.GetProperty("generated").GetInt64());
        Assert.Equal(6000, second.GetProperty("generated").GetInt64());

        var split = await LogInspector.ReadAllAsync(Data("split"));
        var whole = await LogInspector.ReadAllAsync(Data("whole"));
        AssertSameRecords(whole, split);
    }

    [Fact]
    public async Task Sigkill_at_ten_points_then_restarting_loses_and_duplicates_nothing_in_the_log_silver_gold_or_warehouse()
    {
        const long total = 400_000;
        string[] args = ["--total-events", $"{total}", "--seed", "9"];
        string[] paced = [.. args, "--rate", "60000"];
        var random = new Random(20261122);
        var kills = 0;
        for (var round = 0; round < 10; round++)
        {
            using var child = Process.Start(BaloyiCli.StartInfo(["run", "--data", Data("crash"), .. paced]))!;
            _ = child.StandardOutput.ReadToEndAsync();
            _ = child.StandardError.ReadToEndAsync();
            await Task.Delay(TimeSpan.FromMilliseconds(random.Next(700, 2200)));
            if (!child.HasExited)
            {
                child.Kill(); // SIGKILL on Linux: no shutdown code runs.
                kills++;
            }

            await child.WaitForExitAsync();
        }

        Assert.True(kills >= 6, $"only {kills} of 10 rounds were killed mid-run; the run finished too fast to test");
        var (_, crashedSummary) = await BaloyiCli.RunWithSummaryAsync(Data("crash"), paced);
        var (_, referenceSummary) = await BaloyiCli.RunWithSummaryAsync(Data("reference"), [.. args, "--rate", "0"]);

        // The aggregator and the sink ran in the killed processes too: gold and the warehouse end the same.
        Assert.Equal(referenceSummary.GetProperty("gold").GetProperty("rows").GetRawText(), crashedSummary.GetProperty("gold").GetProperty("rows").GetRawText());
        Assert.Equal(referenceSummary.GetProperty("gold").GetProperty("balances").GetRawText(), crashedSummary.GetProperty("gold").GetProperty("balances").GetRawText());
        Assert.Equal(referenceSummary.GetProperty("warehouse").GetProperty("rows").GetRawText(), crashedSummary.GetProperty("warehouse").GetProperty("rows").GetRawText());
        Assert.Equal(0, crashedSummary.GetProperty("warehouse").GetProperty("differences").GetInt64());
        var verify = await BaloyiCli.RunAsync(["verify", "--data", Data("crash")]);
        Assert.True(verify.ExitCode == 0, $"verify after the crashes failed with {verify.ExitCode}:\n{verify.All}");
        GoldInspector.AssertOneRowPerKeyAndCountsMatchSilver(Data("crash"));

        var crashed = await LogInspector.ReadAllAsync(Data("crash"));
        var reference = await LogInspector.ReadAllAsync(Data("reference"));
        var sequences = crashed.SelectMany(p => p).Select(LogInspector.Sequence).Order().ToArray();
        Assert.Equal(total, sequences.Length);
        Assert.Equal(Enumerable.Range(0, (int)total).Select(i => (long)i), sequences);
        AssertSameRecords(reference, crashed);

        // Cleansing ran in the same killed processes: silver after the restarts equals the
        // uninterrupted run's, row for row (ids, values, and the offsets they came from).
        var crashedSilver = await SilverInspector.TransactionsAsync(Data("crash"));
        var referenceSilver = await SilverInspector.TransactionsAsync(Data("reference"));
        Assert.True(referenceSilver.Count > 300_000, $"reference silver holds only {referenceSilver.Count} transactions");
        Assert.Equal(referenceSilver.Count, crashedSilver.Count);
        Assert.Equal(referenceSilver.Count, crashedSilver.Select(r => r[..r.IndexOf('|', StringComparison.Ordinal)]).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(referenceSilver, crashedSilver);
    }

    [Fact]
    public async Task A_Delta_reader_of_gold_after_a_million_events_finds_one_row_per_key_and_silver_s_counts()
    {
        var (_, summary) = await BaloyiCli.RunWithSummaryAsync(Data("million"), "--events", "1000000", "--seed", "13");
        Assert.True(summary.GetProperty("gold").GetProperty("round").GetInt64() >= 2, "the run committed fewer than two gold rounds");
        GoldInspector.AssertOneRowPerKeyAndCountsMatchSilver(Data("million"));
    }

    [Fact]
    public async Task Run_brings_gold_and_the_warehouse_up_to_date_and_verify_finds_zero_differences_in_both()
    {
        var (outcome, summary) = await BaloyiCli.RunWithSummaryAsync(Data("gold"), "--events", "60000", "--seed", "5");
        var gold = summary.GetProperty("gold");
        Assert.True(gold.GetProperty("rows").GetProperty("account_balances").GetInt64() > 1_000);
        Assert.Contains("Account balances by currency", outcome.StdOut, StringComparison.Ordinal);
        var silverTransactions = summary.GetProperty("cleansing").GetProperty("valid").GetInt64();
        var goldTransactions = gold.GetProperty("balances").EnumerateArray().Sum(b => b.GetProperty("transactions").GetInt64());
        Assert.InRange(goldTransactions, 1, silverTransactions);

        // The sink loaded gold into the embedded DuckDB warehouse, and the run compared the two.
        var warehouse = summary.GetProperty("warehouse");
        Assert.Equal(0, warehouse.GetProperty("differences").GetInt64());
        Assert.Equal(gold.GetProperty("rows").GetProperty("account_balances").GetInt64(), warehouse.GetProperty("rows").GetProperty("account_balances").GetInt64());
        Assert.True(File.Exists(Path.Combine(Data("gold"), "warehouse.duckdb")));

        var verify = await BaloyiCli.RunAsync(["verify", "--data", Data("gold")]);
        Assert.True(verify.ExitCode == 0, $"verify failed with {verify.ExitCode}:\n{verify.All}");
        Assert.Contains("Gold matches silver", verify.StdOut, StringComparison.Ordinal);
        Assert.Contains("The warehouse matches gold", verify.StdOut, StringComparison.Ordinal);

        var nothing = await BaloyiCli.RunAsync(["verify", "--data", Data("no-such-run")]);
        Assert.Equal(2, nothing.ExitCode);
        Assert.Contains("--data", nothing.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Killed_between_data_files_and_commit_and_between_table_commits_the_restarted_run_writes_the_same_silver()
    {
        const long total = 200_000;
        string[] args = ["--total-events", $"{total}", "--seed", "13"];
        string[] paced = [.. args, "--rate", "50000"];
        // Short flushes, so that every run passes each crash point many times.
        var environment = new Dictionary<string, string> { ["Cleansing__FlushAge"] = "00:00:00.400" };
        (string Point, int Pass)[] crashes =
        [
            ("cleansing.after-files", 1), ("cleansing.after-commit", 1), ("cleansing.after-files", 3),
            ("cleansing.after-commit", 2), ("cleansing.after-files", 5), ("cleansing.after-commit", 4),
        ];
        var killed = 0;
        foreach (var (point, pass) in crashes)
        {
            var outcome = await BaloyiCli.RunAsync(["run", "--data", Data("failpoints"), .. paced],
                new Dictionary<string, string>(environment) { ["BALOYI_FAILPOINTS"] = $"{point}={pass}" });
            if (outcome.StdErr.Contains($"failpoint {point} reached", StringComparison.Ordinal))
            {
                Assert.NotEqual(0, outcome.ExitCode);
                killed++;
            }
            else
            {
                Assert.True(outcome.ExitCode == 0, $"a run with {point}={pass} failed without reaching it:\n{outcome.All}");
            }
        }

        Assert.True(killed >= 4, $"only {killed} of {crashes.Length} runs reached their crash point");
        var final = await BaloyiCli.RunAsync(["run", "--data", Data("failpoints"), .. paced], environment);
        Assert.True(final.ExitCode == 0, $"the run after the crashes failed:\n{final.All}");
        await BaloyiCli.RunWithSummaryAsync(Data("failpoints-reference"), [.. args, "--rate", "0"]);

        var crashedSilver = await SilverInspector.TransactionsAsync(Data("failpoints"));
        var referenceSilver = await SilverInspector.TransactionsAsync(Data("failpoints-reference"));
        Assert.True(referenceSilver.Count > 150_000, $"reference silver holds only {referenceSilver.Count} transactions");
        Assert.Equal(referenceSilver, crashedSilver);
    }

    [Fact]
    public async Task Killed_between_a_compacted_file_and_its_commit_the_restarted_run_writes_the_same_silver_and_verify_passes()
    {
        const long total = 200_000;
        string[] args = ["--total-events", $"{total}", "--seed", "17"];
        string[] paced = [.. args, "--rate", "20000"];
        // Small flushes and a compaction pass every second with a low threshold: every run compacts several times.
        var environment = new Dictionary<string, string>
        {
            ["Cleansing__FlushAge"] = "00:00:00.400",
            ["Cleansing__FlushRows"] = "5000",
            ["Cleansing__CompactionInterval"] = "00:00:01",
            ["Cleansing__CompactionMinFiles"] = "2",
        };
        var killed = 0;
        foreach (var pass in new[] { 1, 2, 3 })
        {
            var outcome = await BaloyiCli.RunAsync(["run", "--data", Data("compaction-kill"), .. paced],
                new Dictionary<string, string>(environment) { ["BALOYI_FAILPOINTS"] = $"cleansing.compaction-before-commit={pass}" });
            if (outcome.StdErr.Contains("failpoint cleansing.compaction-before-commit reached", StringComparison.Ordinal))
            {
                Assert.NotEqual(0, outcome.ExitCode);
                killed++;
            }
            else
            {
                Assert.True(outcome.ExitCode == 0, $"a run with compaction-before-commit={pass} failed without reaching it:\n{outcome.All}");
            }
        }

        Assert.True(killed >= 2, $"only {killed} of 3 runs were killed mid-compaction");
        var final = await BaloyiCli.RunAsync(["run", "--data", Data("compaction-kill"), .. paced], environment);
        Assert.True(final.ExitCode == 0, $"the run after the crashes failed:\n{final.All}");
        await BaloyiCli.RunWithSummaryAsync(Data("compaction-kill-reference"), [.. args, "--rate", "0"]);

        var crashedSilver = await SilverInspector.TransactionsAsync(Data("compaction-kill"));
        var referenceSilver = await SilverInspector.TransactionsAsync(Data("compaction-kill-reference"));
        Assert.True(referenceSilver.Count > 150_000, $"reference silver holds only {referenceSilver.Count} transactions");
        Assert.Equal(referenceSilver, crashedSilver);
        var verify = await BaloyiCli.RunAsync(["verify", "--data", Data("compaction-kill")]);
        Assert.True(verify.ExitCode == 0, $"verify after the compaction crashes failed with {verify.ExitCode}:\n{verify.All}");
    }

    [Fact]
    // Ctrl-C (SIGINT) and SIGTERM take the same path (the host's console lifetime stops the
    // application). The test sends SIGTERM because processes started from a non-interactive shell,
    // as CI's are, inherit an ignored SIGINT, which .NET keeps.
    public async Task A_stop_signal_ends_a_continuous_run_cleanly_with_a_summary_and_the_next_run_continues_the_log()
    {
        var summaryPath = Path.Combine(_root, "ctrl-c-summary.json");
        using var child = Process.Start(BaloyiCli.StartInfo(["run", "--data", Data("ctrl-c"), "--rate", "5000", "--summary-json", summaryPath]))!;
        var stdout = child.StandardOutput.ReadToEndAsync();
        var stderr = child.StandardError.ReadToEndAsync();
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(4));
            // No output in this message: awaiting a running child's stdout would wait for its exit.
            Assert.False(child.HasExited, "a run without limits ended by itself within 4 s");
            await Signals.SendAsync(child.Id, "TERM");
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await child.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill(entireProcessTree: true);
            }
        }

        Assert.True(child.ExitCode == 0, $"a stop signal should end the run cleanly, exit code {child.ExitCode}:\n{await stderr}");
        Assert.Contains("Generated", await stdout, StringComparison.Ordinal);
        using var summary = JsonDocument.Parse(await File.ReadAllTextAsync(summaryPath));
        var generated = summary.RootElement.GetProperty("generated").GetInt64();
        Assert.True(generated > 0);
        Assert.Equal(generated, summary.RootElement.GetProperty("appended").GetInt64()); // nothing left unacknowledged

        var (_, next) = await BaloyiCli.RunWithSummaryAsync(Data("ctrl-c"), "--events", "1000");
        var log = await LogInspector.ReadAllAsync(Data("ctrl-c"));
        Assert.Equal(generated + 1000, log.Sum(p => p.Count));
        Assert.Equal(generated + 1000, next.GetProperty("partitions").EnumerateArray().Sum(p => p.GetProperty("nextOffset").GetInt64()));
    }

    [Fact]
    public async Task A_bad_option_stops_start_up_with_a_message_naming_the_option_and_the_fix()
    {
        var rate = await BaloyiCli.RunAsync(["run", "--data", Data("bad"), "--rate", "-5"]);
        Assert.NotEqual(0, rate.ExitCode);
        Assert.Contains("--rate", rate.StdErr, StringComparison.Ordinal);
        Assert.Contains("Fix", rate.StdErr, StringComparison.Ordinal);

        var batch = await BaloyiCli.RunAsync(["run", "--data", Data("bad"), "--events", "10"], new Dictionary<string, string> { ["Generator__BatchSize"] = "0" });
        Assert.NotEqual(0, batch.ExitCode);
        Assert.Contains("Generator:BatchSize", batch.StdErr, StringComparison.Ordinal);
        Assert.Contains("Fix", batch.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", batch.StdErr, StringComparison.Ordinal); // a message, not a stack trace
    }

    private static void AssertSameRecords(IReadOnlyList<BaloyiBank.EventLog.LogRecord>[] expected, IReadOnlyList<BaloyiBank.EventLog.LogRecord>[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var p = 0; p < expected.Length; p++)
        {
            Assert.Equal(expected[p].Count, actual[p].Count);
            for (var i = 0; i < expected[p].Count; i++)
            {
                Assert.Equal(i, actual[p][i].Offset);
                Assert.True(expected[p][i].Value.Span.SequenceEqual(actual[p][i].Value.Span), $"payload differs at partition {p}, offset {i}");
            }
        }
    }
}
