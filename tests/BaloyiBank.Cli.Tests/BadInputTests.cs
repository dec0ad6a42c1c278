using BaloyiBank.Cli.Commands;

namespace BaloyiBank.Cli.Tests;

/// <summary>
/// Issue 14, bad input: every command answers a malformed or out-of-range option, or an unusable --data folder, with
/// one line on stderr naming the option and the fix, exit code 2, and no work started.
/// </summary>
public sealed class BadInputTests
{
    /// <summary>(command path, option, malformed value) for every parsed option of every runnable command, from the tree itself.</summary>
    public static TheoryData<string, string, string> MalformedValues()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var (path, command) in CommandTree.Runnable())
        {
            foreach (var option in CommandTree.ValueOptions(command).Where(o => CommandTree.IsParsed(o.ValueType)))
            {
                foreach (var bad in CommandTree.Malformed(CommandTree.Kind(option.ValueType)))
                {
                    data.Add(string.Join(' ', path), option.Name, bad);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(MalformedValues))]
    public async Task A_malformed_value_of_any_numeric_or_duration_option_is_one_line_naming_it_and_exit_code_2(string command, string option, string bad)
    {
        var outcome = await Invocation.InProcessAsync([.. command.Split(' '), option, bad]);
        AssertRejected(outcome, option);
    }

    [Fact]
    public void The_tree_walk_finds_every_command_and_their_numeric_options()
    {
        var runnable = CommandTree.Runnable().ToDictionary(c => string.Join(' ', c.Path), c => c.Command);
        string[] known = ["run", "verify", "status", "up", "down", "bench log", "bench cleansing", "bench aggregator", "bench warehouse", "bench deployment", "bench backfill", "backfill", "export-csv", "replay", "report"];
        Assert.All(known, name => Assert.Contains(name, runnable.Keys));

        var parsed = MalformedValues().Select(row => $"{row[0]} {row[1]}").ToHashSet();
        string[] expected =
        [
            "run --events", "run --total-events", "run --rate", "run --burst", "run --seed", "run --partitions", "run --duration", "run --start",
            "up --events", "up --rate", "up --partitions", "up --rabbitmq-port", "up --azurite-port", "up --postgres-port", "up --timeout",
            "bench log --events", "bench cleansing --events", "bench cleansing --latency-rate", "bench cleansing --latency-seconds",
            "bench aggregator --rows", "bench aggregator --accounts", "bench warehouse --rows", "bench deployment --events", "bench deployment --rabbitmq-port",
            "bench backfill --rows", "backfill --partitions", "export-csv --events", "export-csv --seed", "export-csv --start", "report --port",
        ];
        Assert.All(expected, e => Assert.Contains(e, parsed));

        // A value option that is neither parsed here nor one of the text options below would escape the test above.
        var text = runnable.SelectMany(c => CommandTree.ValueOptions(c.Value).Where(o => !CommandTree.IsParsed(o.ValueType)).Select(o => o.Name)).ToHashSet();
        Assert.Subset(new HashSet<string> { "--data", "--warehouse", "--set", "--summary-json", "--event-log", "--from", "--to", "--layer", "--source" }, text);
    }

    [Theory]
    [InlineData("--events", "run", "--events", "0")]
    [InlineData("--events", "run", "--events", "-5")]
    [InlineData("--total-events", "run", "--total-events", "0")]
    [InlineData("--partitions", "run", "--partitions", "0")]
    [InlineData("--partitions", "run", "--partitions", "2000")]
    [InlineData("--rate", "run", "--rate", "-1")]
    [InlineData("--rate", "run", "--rate", "Infinity")]
    [InlineData("--burst", "run", "--burst", "0")]
    [InlineData("--duration", "run", "--duration", "5x")]
    [InlineData("--rate", "run", "--rate")]
    [InlineData("--events", "run", "--events", "1", "--total-events", "2")]
    [InlineData("--warehouse", "run", "--warehouse", "mysql://127.0.0.1/baloyi")]
    [InlineData("--warehouse", "run", "--warehouse", "postgres://baloyi@127.0.0.1:99999/baloyi")]
    [InlineData("--warehouse", "run", "--warehouse", "postgres://baloyi@127.0.0.1:5432")]
    [InlineData("--warehouse", "verify", "--warehouse", "postgres:/nohost")]
    [InlineData("--warehouse", "bench", "warehouse", "--warehouse", "nonsense")]
    [InlineData("--warehouse", "bench", "warehouse", "--warehouse", "Port=5432;Password=secret")]
    [InlineData("--warehouse", "verify", "--warehouse", "Host=127.0.0.1;Password=\"unterminated")]
    [InlineData("--events", "up", "--events", "-1")]
    [InlineData("--rate", "up", "--rate", "-5")]
    [InlineData("--partitions", "up", "--partitions", "0")]
    [InlineData("--rabbitmq-port", "up", "--rabbitmq-port", "80")]
    [InlineData("--rabbitmq-port", "up", "--rabbitmq-port", "50000")]
    [InlineData("--azurite-port", "up", "--azurite-port", "70000")]
    [InlineData("--postgres-port", "up", "--postgres-port", "0")]
    [InlineData("--timeout", "up", "--timeout", "0s")]
    [InlineData("--events", "bench", "log", "--events", "9999")]
    [InlineData("--events", "bench", "cleansing", "--events", "5")]
    [InlineData("--latency-rate", "bench", "cleansing", "--latency-rate", "-1")]
    [InlineData("--latency-seconds", "bench", "cleansing", "--latency-seconds", "0")]
    [InlineData("--set", "bench", "cleansing", "--set", "Cleansing:FlushRows")]
    [InlineData("--set", "bench", "cleansing", "--set", "FlushRows=100")]
    [InlineData("--set", "bench", "cleansing", "--set", "Cleansing:FlushRows=abc")]
    [InlineData("--set", "bench", "cleansing", "--set", "Cleansing:NoSuchSetting=1")]
    [InlineData("--set", "bench", "cleansing", "--set", "Generator:Rate=fast")]
    [InlineData("--rows", "bench", "aggregator", "--rows", "0")]
    [InlineData("--accounts", "bench", "aggregator", "--accounts", "-1")]
    [InlineData("--rows", "bench", "warehouse", "--rows", "0")]
    [InlineData("--events", "bench", "deployment", "--events", "0")]
    [InlineData("--rabbitmq-port", "bench", "deployment", "--rabbitmq-port", "20000")]
    [InlineData("--no-such-option", "run", "--no-such-option", "1")]
    [InlineData("--event-log", "run", "--event-log", "kinesis://stream")]
    [InlineData("--event-log", "run", "--event-log", "eventhubs://bank.servicebus.windows.net:9093/hub")]
    [InlineData("--event-log", "verify", "--event-log", "amqp://")]
    [InlineData("--event-log", "status", "--event-log", "eventhubs:not-a-connection-string")]
    [InlineData("--no-generator", "run", "--no-generator", "--events", "5")]
    [InlineData("--no-generator", "run", "--no-generator", "--seed", "7")]
    [InlineData("--layer", "replay", "--layer", "bronze")]
    [InlineData("--layer", "replay", "--layer", "gold", "--source", "bronze")]
    [InlineData("--layer", "replay", "--layer", "gold", "--from", "0:10")]
    [InlineData("--source", "replay", "--source", "csv")]
    [InlineData("--from", "replay", "--from", "yesterday")]
    [InlineData("--from", "replay", "--from", "0:10,0:20")]
    [InlineData("--from", "replay", "--from", "0:-1")]
    [InlineData("--from", "replay", "--from", "2026-01-01T00:00:00")]
    [InlineData("--set", "replay", "--set", "Cleansing:MaxPayloadBytes=big")]
    public async Task An_out_of_range_or_malformed_value_is_one_line_naming_the_option_and_exit_code_2(string option, params string[] args)
    {
        var outcome = await Invocation.InProcessAsync(args);
        AssertRejected(outcome, option);
    }

    [Fact]
    public async Task Every_command_with_good_values_passes_the_checks_so_the_rejections_above_are_real()
    {
        using var scratch = new ScratchFolder();
        foreach (var (path, command) in CommandTree.Runnable())
        {
            string[] args = CommandTree.Data(command) is null ? path : [.. path, "--data", scratch.Sub(string.Join('-', path))];
            var outcome = await Invocation.InProcessAsync(args);
            Assert.True(outcome.ExitCode == Invocation.WouldRun && outcome.ReachedCommand && outcome.StdErr.Length == 0, outcome.ToString());
        }
    }

    [Fact]
    public async Task Good_values_parse_to_what_the_commands_use()
    {
        using var scratch = new ScratchFolder();
        var run = await Invocation.InProcessAsync(
            ["run", "--data", scratch.Sub("run"), "--events", "200000", "--rate", "2500.5", "--duration", "1h30m", "--start", "2026-01-01T00:00:00Z",
             "--partitions", "8", "--seed", "-7", "--warehouse", "postgres://baloyi:pw@127.0.0.1:5432/baloyi"],
            parse =>
            {
                Assert.Equal(200_000L, parse.GetValue<long?>("--events"));
                Assert.Equal(2500.5, parse.GetValue<double?>("--rate"));
                Assert.Equal(TimeSpan.FromMinutes(90), parse.GetValue<TimeSpan?>("--duration"));
                Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), parse.GetValue<DateTimeOffset?>("--start"));
                Assert.Equal(8, parse.GetValue<int?>("--partitions"));
                Assert.Equal(-7L, parse.GetValue<long?>("--seed"));
                Assert.Equal("postgres://baloyi:pw@127.0.0.1:5432/baloyi", parse.GetValue<string?>("--warehouse"));
            });
        Assert.True(run.ReachedCommand, run.ToString());

        var cleansing = await Invocation.InProcessAsync(
            ["bench", "cleansing", "--data", scratch.Sub("bench"), "--set", "Cleansing:FlushRows=100000", "Logging:LogLevel:Default=Debug", "EventLog:Embedded:SegmentBytes=1048576"],
            parse =>
            {
                var set = parse.GetValue<IReadOnlyDictionary<string, string?>>("--set")!;
                Assert.Equal("100000", set["Cleansing:FlushRows"]);
                Assert.Equal("Debug", set["Logging:LogLevel:Default"]); // a section the CLI does not bind passes unchecked
                Assert.Equal("1048576", set["EventLog:Embedded:SegmentBytes"]);
                Assert.Equal(5_000_000L, parse.GetValue<long>("--events"));
            });
        Assert.True(cleansing.ReachedCommand, cleansing.ToString());

        var keywords = await Invocation.InProcessAsync(["verify", "--data", scratch.Sub("verify"), "--warehouse", "Host=127.0.0.1;Port=5432;Database=baloyi;Username=baloyi"],
            parse => Assert.Equal("Host=127.0.0.1;Port=5432;Database=baloyi;Username=baloyi", parse.GetValue<string?>("--warehouse")));
        Assert.True(keywords.ReachedCommand, keywords.ToString());

        var up = await Invocation.InProcessAsync(["up", "--data", scratch.Sub("up"), "--timeout", "90s"], parse => Assert.Equal(TimeSpan.FromSeconds(90), parse.GetValue<TimeSpan>("--timeout")));
        Assert.True(up.ReachedCommand, up.ToString());
    }

    [Fact]
    public async Task A_data_folder_that_cannot_be_created_or_written_is_one_line_naming_data_the_path_and_the_fix()
    {
        using var scratch = new ScratchFolder();
        var file = Path.Combine(scratch.Path, "a-file");
        await File.WriteAllTextAsync(file, "not a folder");
        foreach (var (path, command) in CommandTree.Runnable())
        {
            switch (CommandTree.Data(command)?.Access)
            {
                case DataAccess.CreateAndWrite:
                    // procfs refuses new entries, even to root; a regular file cannot hold a folder.
                    foreach (var folder in new[] { "/proc/baloyi-cli-test/data", Path.Combine(file, "data") })
                    {
                        AssertDataRejected(await Invocation.InProcessAsync([.. path, "--data", folder]), folder);
                    }

                    break;
                case DataAccess.WriteIfExists:
                    // An existing folder nobody can write (root ignores permission bits, procfs does not).
                    AssertDataRejected(await Invocation.InProcessAsync([.. path, "--data", "/proc"]), "/proc");
                    break;
            }
        }

        // A read-only folder stops a non-root user the same way (root may write anywhere but /proc and the like).
        if (!OperatingSystem.IsWindows())
        {
            var readOnly = scratch.Sub("read-only");
            Directory.CreateDirectory(readOnly);
            File.SetUnixFileMode(readOnly, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            if (!CanWrite(readOnly))
            {
                AssertDataRejected(await Invocation.InProcessAsync(["run", "--data", Path.Combine(readOnly, "data")]), Path.Combine(readOnly, "data"));
                AssertDataRejected(await Invocation.InProcessAsync(["verify", "--data", readOnly]), readOnly);
            }

            File.SetUnixFileMode(readOnly, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [Fact]
    public async Task Help_is_shown_even_with_an_unusable_data_folder()
    {
        var outcome = await Invocation.InProcessAsync(["run", "--data", "/proc/baloyi-cli-test/data", "--help"]);
        Assert.True(outcome.ExitCode == 0 && !outcome.ReachedCommand && outcome.StdOut.Contains("--events", StringComparison.Ordinal), outcome.ToString());
    }

    [Theory]
    [InlineData("--rate", "run", "--rate", "abc")]
    [InlineData("--events", "run", "--events", "1e9x")]
    [InlineData("--events", "bench", "log", "--events", "abc")]
    [InlineData("--rabbitmq-port", "up", "--rabbitmq-port", "x")]
    [InlineData("--data", "run", "--data", "/proc/baloyi-cli-test/data", "--events", "10")]
    public async Task The_built_baloyi_rejects_bad_input_with_one_line_and_exit_code_2_not_a_crash(string option, params string[] args)
    {
        var outcome = await Invocation.ChildAsync(args);
        AssertRejected(outcome, option);
    }

    private static void AssertRejected(Outcome outcome, string option)
    {
        Assert.True(outcome.ExitCode == 2, $"expected exit code 2. {outcome}");
        Assert.False(outcome.ReachedCommand, $"the command would have started. {outcome}");
        var line = Assert.Single(outcome.ErrorLines);
        Assert.True(line.Contains(option, StringComparison.Ordinal), $"the line does not name {option}. {outcome}");
        Assert.True(line.Contains("Fix:", StringComparison.Ordinal), $"the line gives no fix. {outcome}");
        Assert.DoesNotContain("   at ", outcome.StdErr, StringComparison.Ordinal);
        Assert.Equal("", outcome.StdOut);
    }

    [Fact]
    public async Task A_bad_warehouse_connection_string_is_not_echoed()
    {
        var keywords = await Invocation.InProcessAsync(["run", "--warehouse", "Port=5432;Password=hunter2"]);
        AssertRejected(keywords, "--warehouse");
        Assert.DoesNotContain("hunter2", keywords.StdErr, StringComparison.Ordinal);

        var url = await Invocation.InProcessAsync(["run", "--warehouse", "postgres://baloyi:hunter2@127.0.0.1:99999/baloyi"]);
        AssertRejected(url, "--warehouse");
        Assert.DoesNotContain("hunter2", url.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_event_log_value_never_echoes_a_key_and_a_good_one_selects_the_log()
    {
        var malformed = await Invocation.InProcessAsync(["run", "--event-log", "eventhubs:SharedAccessKeyName=x;SharedAccessKey=hunter2"]);
        AssertRejected(malformed, "--event-log");
        Assert.DoesNotContain("hunter2", malformed.StdErr, StringComparison.Ordinal);
        var unknown = await Invocation.InProcessAsync(["run", "--event-log", "Endpoint=sb://bank.servicebus.windows.net/;SharedAccessKeyName=x;SharedAccessKey=hunter2"]);
        AssertRejected(unknown, "--event-log");
        Assert.DoesNotContain("hunter2", unknown.StdErr, StringComparison.Ordinal);

        var connectionString = "Endpoint=sb://bank.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=hunter2;EntityPath=payments";
        var choice = EventLogChoice.TryParse("eventhubs:" + connectionString, out _)!;
        Assert.Equal("eventhubs", choice.Kind);
        Assert.Equal(connectionString, choice.Overrides()["EventLog:EventHubs:ConnectionString"]);
        Assert.Equal("payments", choice.Overrides()["EventLog:Name"]);
        Assert.DoesNotContain("hunter2", choice.Location, StringComparison.Ordinal);

        var identity = EventLogChoice.TryParse("eventhubs://bank.servicebus.windows.net/bank-events", out _)!;
        Assert.Equal("bank.servicebus.windows.net", identity.Overrides()["EventLog:EventHubs:FullyQualifiedNamespace"]);
        Assert.Equal("bank-events", identity.Overrides()["EventLog:Name"]);
        Assert.Equal("rabbitmq", EventLogChoice.TryParse("amqp://guest:guest@127.0.0.1:5772/", out _)!.Kind);
        Assert.True(EventLogChoice.TryParse("embedded", out _)!.IsEmbedded);
    }

    private static void AssertDataRejected(Outcome outcome, string folder)
    {
        AssertRejected(outcome, "--data");
        Assert.Contains(Path.GetFullPath(folder), outcome.StdErr, StringComparison.Ordinal);
    }

    private static bool CanWrite(string folder)
    {
        try
        {
            File.WriteAllText(Path.Combine(folder, "probe"), "");
            File.Delete(Path.Combine(folder, "probe"));
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private sealed class ScratchFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("baloyi-cli-tests-").FullName;

        public string Sub(string name) => System.IO.Path.Combine(Path, name);

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
