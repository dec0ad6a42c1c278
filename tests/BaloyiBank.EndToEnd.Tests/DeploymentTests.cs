using System.Diagnostics;
using System.Globalization;
using System.Text;
using Xunit.Abstractions;

namespace BaloyiBank.EndToEnd.Tests;

/// <summary>The end-to-end tests that run many processes: one at a time, or two cores drown.</summary>
[CollectionDefinition(Name)]
public sealed class ProcessHeavy
{
    public const string Name = "process-heavy";
}

/// <summary>
/// <c>baloyi up</c>: RabbitMQ, Azurite and PostgreSQL as local processes and the four services as four processes of
/// their own against them, then <c>baloyi verify</c> and <c>baloyi down</c>. Each test has its own data folder and ports,
/// and stops everything it started even when it fails.
/// </summary>
[Collection(ProcessHeavy.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class DeploymentTests : IAsyncLifetime
{
    private static readonly string[] ServiceNames = ["generator", "cleansing", "aggregator", "sink"];
    private readonly string _root = Directory.CreateTempSubdirectory("baloyi-up-").FullName;
    private readonly List<string> _deployments = [];

    private readonly ITestOutputHelper _output;

    public DeploymentTests(ITestOutputHelper output)
    {
        _output = output;
        // PostgreSQL runs as its own user, which must be able to reach its folder below the data folder.
        File.SetUnixFileMode(_root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var data in _deployments)
        {
            await BaloyiCli.RunAsync(["down", "--data", data], timeout: TimeSpan.FromMinutes(5));
        }

        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task Four_service_processes_on_RabbitMQ_Azurite_and_PostgreSQL_carry_1M_events_to_the_warehouse_and_verify_passes()
    {
        var data = Deployment("million");
        var up = await BaloyiCli.RunAsync(["up", .. Ports(data, 6012), "--events", "1000000", "--timeout", "25m"], timeout: TimeSpan.FromMinutes(30));
        _output.WriteLine(up.StdOut);
        Assert.True(up.ExitCode == 0, $"baloyi up failed with {up.ExitCode}:\n{up.All}");
        Assert.Contains("End to end: 1,000,000 events generated to the warehouse", up.StdOut, StringComparison.Ordinal);

        // Four processes of their own, each its own executable, none of them the CLI.
        var pids = ServiceNames.ToDictionary(s => s, s => RunningServicePid(data, s));
        Assert.Equal(4, pids.Values.Distinct().Count());

        var verify = await BaloyiCli.RunAsync(["verify", "--data", data], timeout: TimeSpan.FromMinutes(10));
        Assert.True(verify.ExitCode == 0, $"baloyi verify failed with {verify.ExitCode}:\n{verify.All}");
        Assert.Contains("Cleansing consumed 1,000,000 events", verify.StdOut, StringComparison.Ordinal);
        Assert.Contains("the log holds 1,000,000 events: every event accounted for", verify.StdOut, StringComparison.Ordinal);
        Assert.Contains("Gold matches silver", verify.StdOut, StringComparison.Ordinal);
        Assert.Contains("The warehouse matches gold", verify.StdOut, StringComparison.Ordinal);

        var down = await BaloyiCli.RunAsync(["down", "--data", data], timeout: TimeSpan.FromMinutes(5));
        Assert.True(down.ExitCode == 0, $"baloyi down failed with {down.ExitCode}:\n{down.All}");
        foreach (var (service, pid) in pids)
        {
            Assert.False(IsAlive(pid), $"{service} (pid {pid}) still runs after baloyi down:\n{down.All}");
        }

        foreach (var server in new[] { "rabbitmq", "azurite", "postgres" })
        {
            Assert.NotEqual(0, await ScriptAsync(server, "status", data, 6012));
        }
    }

    [Fact]
    public async Task Sigkill_of_each_service_process_mid_stream_loses_and_duplicates_nothing()
    {
        var data = Deployment("kill");
        await using var up = UpInBackground(data, 6022, "--events", "400000", "--rate", "15000");
        await up.WaitForOutputAsync("Up in", TimeSpan.FromMinutes(5));

        // One SIGKILL per service, a few seconds apart, while events flow; up restarts whatever dies, like a supervisor.
        foreach (var service in ServiceNames)
        {
            await Task.Delay(TimeSpan.FromSeconds(4));
            var pid = RunningServicePid(data, service);
            await Signals.SendAsync(pid, "KILL");
            await up.WaitForOutputAsync($"{service} was not running: restarted", TimeSpan.FromMinutes(2));
        }

        var exit = await up.WaitForExitAsync(TimeSpan.FromMinutes(20));
        Assert.True(exit == 0, $"baloyi up failed with {exit}:\n{up.Output}");
        _output.WriteLine(up.Output);
        Assert.Contains("service restarts: 4", up.Output, StringComparison.Ordinal);
        await VerifyAsync(data, 400_000);
    }

    [Fact]
    public async Task Three_cleansing_instances_share_the_partitions_and_the_others_take_over_a_killed_and_a_stopped_one()
    {
        var data = Deployment("scaleout");
        await using var up = UpInBackground(data, 6052, "--events", "300000", "--rate", "10000", "--cleansing-instances", "3");
        await up.WaitForOutputAsync("Up in", TimeSpan.FromMinutes(5));

        // Each instance claims or steals its share of the 8 partitions (ownership records in the lake).
        var instances = new Dictionary<string, string>();
        foreach (var process in new[] { "cleansing-1", "cleansing-2", "cleansing-3" })
        {
            var line = await WaitForLogAsync(data, process, ScaleOutLine(), TimeSpan.FromMinutes(2));
            instances[process] = ScaleOutLine().Match(line).Groups[1].Value;
            await WaitForLogAsync(data, process, new System.Text.RegularExpressions.Regex($"instance {instances[process]}: partition [0-9]+ (claimed|stolen)"), TimeSpan.FromMinutes(2));
        }

        // SIGKILL one mid-stream: its records expire (10 s) and the others (or its restarted successor, a new owner) claim them.
        await Signals.SendAsync(RunningServicePid(data, "cleansing-1"), "KILL");
        await up.WaitForOutputAsync("cleansing-1 was not running: restarted", TimeSpan.FromMinutes(2));
        await WaitForAnyLogAsync(data, ["cleansing-1", "cleansing-2", "cleansing-3"], TakenFrom(instances["cleansing-1"]), TimeSpan.FromMinutes(2));

        // Stop one gracefully: it releases its records at once and another instance claims them (up restarts the stopped one
        // too, as a new owner: a survivor usually claims first, being up already).
        await Signals.SendAsync(RunningServicePid(data, "cleansing-2"), "TERM");
        await WaitForLogAsync(data, "cleansing-2", new System.Text.RegularExpressions.Regex("partition [0-9]+ released"), TimeSpan.FromMinutes(2));
        await WaitForAnyLogAsync(data, ["cleansing-1", "cleansing-2", "cleansing-3"], TakenFrom(instances["cleansing-2"]), TimeSpan.FromMinutes(2));

        var exit = await up.WaitForExitAsync(TimeSpan.FromMinutes(20));
        _output.WriteLine(up.Output);
        Assert.True(exit == 0, $"baloyi up failed with {exit}:\n{up.Output}");
        await VerifyAsync(data, 300_000);
    }

    private static System.Text.RegularExpressions.Regex ScaleOutLine() => new("Cleansing scales out as instance ([A-Za-z0-9_.-]+):");

    private static async Task<string> WaitForLogAsync(string data, string process, System.Text.RegularExpressions.Regex pattern, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        var log = Path.Combine(data, "logs", process + ".log");
        while (true)
        {
            var text = File.Exists(log) ? await ReadSharedAsync(log) : "";
            if (pattern.Match(text) is { Success: true } match)
            {
                return text.Substring(match.Index, text.IndexOf('\n', match.Index) is var end and >= 0 ? end - match.Index : text.Length - match.Index);
            }

            Assert.True(clock.Elapsed < limit, $"{log} shows no line matching '{pattern}' within {limit}:\n{text[Math.Max(0, text.Length - 4000)..]}");
            await Task.Delay(500);
        }
    }

    /// <summary>A line of another instance claiming or stealing a partition from <paramref name="instance"/> (not the loser's own "lost" line).</summary>
    private static System.Text.RegularExpressions.Regex TakenFrom(string instance) =>
        new($"partition [0-9]+ (claimed|stolen) \\(other instance: {System.Text.RegularExpressions.Regex.Escape(instance)}\\)");

    private static async Task WaitForAnyLogAsync(string data, string[] processes, System.Text.RegularExpressions.Regex pattern, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            foreach (var process in processes)
            {
                var log = Path.Combine(data, "logs", process + ".log");
                if (File.Exists(log) && pattern.IsMatch(await ReadSharedAsync(log)))
                {
                    return;
                }
            }

            Assert.True(clock.Elapsed < limit, $"no log of {string.Join(", ", processes)} shows a line matching '{pattern}' within {limit}");
            await Task.Delay(500);
        }
    }

    private static async Task<string> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }

    [Fact]
    public async Task Restarting_RabbitMQ_then_Azurite_mid_stream_the_services_retry_and_verify_passes()
    {
        var data = Deployment("restart");
        await using var up = UpInBackground(data, 6032, "--events", "400000", "--rate", "15000");
        await up.WaitForOutputAsync("Up in", TimeSpan.FromMinutes(5));

        foreach (var server in new[] { "rabbitmq", "azurite" })
        {
            await Task.Delay(TimeSpan.FromSeconds(5));
            Assert.Equal(0, await ScriptAsync(server, "stop", data, 6032));
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.Equal(0, await ScriptAsync(server, "start", data, 6032));
        }

        var exit = await up.WaitForExitAsync(TimeSpan.FromMinutes(20));
        Assert.True(exit == 0, $"baloyi up failed with {exit}:\n{up.Output}");
        await VerifyAsync(data, 400_000);
    }

    [Fact]
    public async Task At_a_steady_rate_cleansing_consumes_from_the_start_and_down_during_up_stops_up_first_restarting_nothing()
    {
        var data = Deployment("down");
        // The generator at a steady rate from the start, never pausing, for minutes: up is still supervising when down runs.
        await using var up = UpInBackground(data, 6042, "--events", "3000000", "--rate", "15000");
        await up.WaitForOutputAsync("Up in", TimeSpan.FromMinutes(5));
        var pids = ServiceNames.ToDictionary(s => s, s => RunningServicePid(data, s));

        // Cleansing finds the log's end and consumes while the stream keeps growing (issue 21: its start-up waited for a
        // quiet moment on RabbitMQ that never came). up reports progress every 5 s.
        await up.WaitForMatchAsync(ConsumingLine(), TimeSpan.FromMinutes(3));

        var down = await BaloyiCli.RunAsync(["down", "--data", data], timeout: TimeSpan.FromMinutes(5));
        Assert.True(down.ExitCode == 0, $"baloyi down failed with {down.ExitCode}:\n{down.All}");
        Assert.Contains("is supervising this deployment: stopping it first", down.StdOut, StringComparison.Ordinal);

        // down returns after up has exited, so nothing can start a service any more.
        var exit = await up.WaitForExitAsync(TimeSpan.FromMinutes(2));
        Assert.True(exit != 0, $"baloyi up reported success although down stopped it:\n{up.Output}");
        Assert.Contains("baloyi down is stopping the deployment", up.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("restarted", up.Output, StringComparison.Ordinal);
        foreach (var (service, pid) in pids)
        {
            Assert.False(IsAlive(pid), $"{service} (pid {pid}) still runs after baloyi down:\n{down.All}");
            Assert.False(File.Exists(Path.Combine(data, "run", service + ".pid")), $"{service} has a pid file again after baloyi down:\n{up.Output}");
        }

        Assert.False(File.Exists(Path.Combine(data, "run", "up.pid")), "up left its pid file behind");
        Assert.False(File.Exists(Path.Combine(data, "run", "stopping")), "down left its stop marker behind");
        foreach (var server in new[] { "rabbitmq", "azurite", "postgres" })
        {
            Assert.NotEqual(0, await ScriptAsync(server, "status", data, 6042));
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"cleansing consumed [1-9][0-9,]* lag")]
    private static partial System.Text.RegularExpressions.Regex ConsumingLine();

    private static async Task VerifyAsync(string data, long events)
    {
        var verify = await BaloyiCli.RunAsync(["verify", "--data", data], timeout: TimeSpan.FromMinutes(10));
        Assert.True(verify.ExitCode == 0, $"baloyi verify failed with {verify.ExitCode}:\n{verify.All}");
        var figure = events.ToString("N0", CultureInfo.InvariantCulture);
        foreach (var expected in (string[])[$"Cleansing consumed {figure} events", $"the log holds {figure} events: every event accounted for", "Gold matches silver", "The warehouse matches gold"])
        {
            Assert.True(verify.StdOut.Contains(expected, StringComparison.Ordinal), $"baloyi verify did not say '{expected}':\n{verify.All}");
        }
    }

    private string Deployment(string name)
    {
        var data = Path.Combine(_root, name);
        _deployments.Add(data);
        return data;
    }

    /// <summary>
    /// This test's PostgreSQL ports start below Linux's ephemeral range (32768–60999): a server port inside it can be
    /// taken at any moment by some process's outgoing connection (a CI run failed to bind 55792 that way).
    /// </summary>
    private const int PostgresBase = 15432;

    /// <summary>Ports of this test's own servers, apart from the ones ./test.sh shares (5672, 10000, 55432).</summary>
    private static string[] Ports(string data, int rabbitPort) =>
    [
        "--data", data,
        "--rabbitmq-port", rabbitPort.ToString(CultureInfo.InvariantCulture),
        "--azurite-port", (10000 + rabbitPort - 5672).ToString(CultureInfo.InvariantCulture),
        "--postgres-port", (PostgresBase + rabbitPort - 5672).ToString(CultureInfo.InvariantCulture),
    ];

    private static int RunningServicePid(string data, string service)
    {
        var pid = int.Parse(File.ReadAllText(Path.Combine(data, "run", service + ".pid")).Trim(), CultureInfo.InvariantCulture);
        Assert.True(IsAlive(pid), $"{service} (pid {pid}) is not running");
        var cmdline = File.ReadAllText($"/proc/{pid}/cmdline");
        var name = service.Split('-')[0];
        var assembly = "BaloyiBank." + char.ToUpperInvariant(name[0]) + name[1..] + ".dll";
        Assert.True(cmdline.Contains(assembly, StringComparison.Ordinal), $"pid {pid} is not {assembly}: {cmdline.Replace('\0', ' ')}");
        return pid;
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Runs deploy/local/&lt;server&gt;.sh for this deployment's server folder and ports; returns its exit code.</summary>
    private static async Task<int> ScriptAsync(string server, string action, string data, int rabbitPort)
    {
        var repo = new DirectoryInfo(AppContext.BaseDirectory);
        while (repo is not null && !File.Exists(Path.Combine(repo.FullName, "deploy", "local", "rabbitmq.sh")))
        {
            repo = repo.Parent;
        }

        Assert.NotNull(repo);
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(repo.FullName, "deploy", "local", server + ".sh"));
        info.ArgumentList.Add(action);
        info.ArgumentList.Add(Path.Combine(data, "servers", server));
        info.Environment["BALOYI_RABBITMQ_PORT"] = rabbitPort.ToString(CultureInfo.InvariantCulture);
        info.Environment["AZURITE_BLOB_PORT"] = (10000 + rabbitPort - 5672).ToString(CultureInfo.InvariantCulture);
        info.Environment["BALOYI_POSTGRES_PORT"] = (PostgresBase + rabbitPort - 5672).ToString(CultureInfo.InvariantCulture);
        info.Environment["BALOYI_POSTGRES_DB"] = "baloyi";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        await Task.WhenAll(stdout, stderr);
        return process.ExitCode;
    }

    private static BackgroundUp UpInBackground(string data, int rabbitPort, params string[] args) =>
        new(BaloyiCli.StartInfo(["up", .. Ports(data, rabbitPort), .. args, "--timeout", "18m"]));

    /// <summary><c>baloyi up</c> running while the test acts on the deployment; its output collected as it comes.</summary>
    private sealed class BackgroundUp : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();
        private readonly Lock _lock = new();

        public BackgroundUp(ProcessStartInfo info)
        {
            _process = new Process { StartInfo = info };
            _process.OutputDataReceived += (_, e) => Append(e.Data);
            _process.ErrorDataReceived += (_, e) => Append(e.Data);
            _process.Start();
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public string Output
        {
            get
            {
                lock (_lock)
                {
                    return _output.ToString();
                }
            }
        }

        public async Task WaitForOutputAsync(string text, TimeSpan limit)
        {
            var clock = Stopwatch.StartNew();
            while (!Output.Contains(text, StringComparison.Ordinal))
            {
                if (_process.HasExited)
                {
                    Assert.Fail($"baloyi up exited ({_process.ExitCode}) before printing '{text}':\n{Output}");
                }
                Assert.True(clock.Elapsed < limit, $"baloyi up did not print '{text}' within {limit}:\n{Output}");
                await Task.Delay(200);
            }
        }

        public async Task WaitForMatchAsync(System.Text.RegularExpressions.Regex pattern, TimeSpan limit)
        {
            var clock = Stopwatch.StartNew();
            while (!pattern.IsMatch(Output))
            {
                Assert.False(_process.HasExited, $"baloyi up exited before printing a line matching '{pattern}':\n{Output}");
                Assert.True(clock.Elapsed < limit, $"baloyi up did not print a line matching '{pattern}' within {limit}:\n{Output}");
                await Task.Delay(200);
            }
        }

        public async Task<int> WaitForExitAsync(TimeSpan limit)
        {
            using var cts = new CancellationTokenSource(limit);
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"baloyi up did not finish within {limit}:\n{Output}");
            }

            return _process.ExitCode;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
        }

        private void Append(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_lock)
            {
                _output.AppendLine(line);
            }
        }
    }
}
