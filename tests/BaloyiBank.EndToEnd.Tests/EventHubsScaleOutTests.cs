using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using BaloyiBank.EventHubs.TestDouble;
using Xunit.Abstractions;

namespace BaloyiBank.EndToEnd.Tests;

/// <summary>
/// Cleansing scale-out on the Event Hubs log (issue 15): the generator and two cleansing service processes (the
/// services' own executables, built next to the CLI, <c>Cleansing:ScaleOut</c> on, ownership records in a folder lake) against the Event Hubs TEST
/// DOUBLE in this process; one instance is SIGKILLed mid-stream, the survivor takes its partitions and drains the log,
/// and every event has exactly one outcome in silver; then <c>baloyi run --no-generator</c> runs the aggregator and sink
/// over the drained log and <c>baloyi verify</c> passes. <c>baloyi up</c> has no Event Hubs option (its services run on
/// RabbitMQ), so this test starts the processes itself, configured by environment as <c>up</c> configures them.
/// </summary>
[Collection(ProcessHeavy.Name)]
public sealed class EventHubsScaleOutTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Partitions = 4;
    private const long Events = 40_000;
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(4);
    private readonly string _root = Directory.CreateTempSubdirectory("baloyi-e2e-ehscale-").FullName;
    private readonly ITestOutputHelper _output = output;
    private readonly List<ServiceProcess> _processes = [];
    private EventHubsTestDouble _hub = null!;

    public Task InitializeAsync()
    {
        _hub = EventHubsTestDouble.Start(new EventHubsTestDoubleOptions { HubName = "bank-events", PartitionCount = Partitions });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var process in _processes)
        {
            _output.WriteLine($"--- {process.Name} ---\n{process.Output}");
            process.Dispose();
        }

        await _hub.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task Two_cleansing_instances_on_Event_Hubs_share_the_partitions_and_the_survivor_of_a_SIGKILL_drains_the_log_exactly_once()
    {
        var lake = Path.Combine(_root, "lake");
        var victim = StartCleansing("eh-victim", lake);
        var survivor = StartCleansing("eh-survivor", lake);

        // Both instances own a share of the 4 partitions (the fair share, 2 each) before the stream starts.
        await WaitForAsync("both instances own 2 partitions each", async () =>
            await HealthAsync(victim) is { Owned.Count: 2 } v && await HealthAsync(survivor) is { Owned.Count: 2 } s && !v.Owned.Intersect(s.Owned).Any() ? "" : null);
        var generator = Start("generator", new()
        {
            ["Generator__StopAtSequence"] = Events.ToString(CultureInfo.InvariantCulture),
            ["Generator__Rate"] = "1000", // ~40 s of stream, so the kill lands mid-stream
            ["Generator__Seed"] = "15",
        });

        // The victim has committed batches of its own partitions.
        var shares = await WaitForAsync("the victim committed batches", async () =>
            await HealthAsync(victim) is { Consumed: > 0 } v && await HealthAsync(survivor) is { } s && !v.Owned.Intersect(s.Owned).Any() ? new Shares(v.Owned, s.Owned) : null);
        Assert.False(generator.HasExited, "the stream ended before the kill: it would not be mid-stream");
        _output.WriteLine($"victim owns [{string.Join(',', shares.Victim)}], survivor owns [{string.Join(',', shares.Survivor)}]");

        victim.Kill();

        // The victim's records expire (10 s) and the survivor claims them; the generator finishes and the survivor drains.
        foreach (var partition in shares.Victim)
        {
            await WaitForAsync($"the survivor claims partition {partition} from the victim", () =>
                Task.FromResult(survivor.Output.Contains($"partition {partition} claimed (other instance: eh-victim)", StringComparison.Ordinal) ? "" : null));
        }

        await WaitForAsync("the generator finished", () => Task.FromResult(generator.HasExited ? "" : null));
        Assert.True(generator.ExitCode == 0, $"the generator failed with {generator.ExitCode}:\n{generator.Output}");
        await WaitForAsync("the survivor owns every partition with lag 0 and the audit holds every event", async () =>
            await HealthAsync(survivor) is { Owned.Count: Partitions, Lag: 0 } && (await SilverInspector.BatchesAsync(_root)).Sum(b => b.Consumed) >= Events ? "" : null);

        // Exactly once: the batches of each partition tile its offsets (no gap, no overlap across the two owners) ...
        var batches = await SilverInspector.BatchesAsync(_root);
        Assert.Equal(Events, batches.Sum(b => b.Consumed));
        Assert.Equal(Events, batches.Sum(b => b.Valid + b.Quarantined + b.Duplicates));
        foreach (var partition in batches.GroupBy(b => b.Partition))
        {
            var next = partition.Min(b => b.FirstOffset);
            foreach (var batch in partition.OrderBy(b => b.FirstOffset))
            {
                Assert.True(batch.FirstOffset == next, $"partition {partition.Key}: a batch starts at {batch.FirstOffset}, expected {next} (gap or overlap)");
                Assert.Equal(batch.LastOffset - batch.FirstOffset + 1, batch.Consumed);
                next = batch.LastOffset + 1;
            }
        }

        Assert.Equal(Partitions, batches.Select(b => b.Partition).Distinct().Count());

        // ... silver holds each transaction once, as many as the batches say are valid transactions or fewer (other types).
        var transactions = await SilverInspector.TransactionsAsync(_root);
        var ids = transactions.Select(t => t[..t.IndexOf('|', StringComparison.Ordinal)]).ToList();
        Assert.True(ids.Count > 0, "silver holds no transactions");
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.True(ids.Count <= batches.Sum(b => b.Valid));

        // The ownership records name the survivor for every partition.
        foreach (var partition in Enumerable.Range(0, Partitions))
        {
            using var record = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(lake, "silver", "_ownership", "cleansing", $"p{partition:D4}.json")));
            Assert.Equal("eh-survivor", record.RootElement.EnumerateObject().Single(p => p.NameEquals("Owner") || p.NameEquals("owner")).Value.GetString());
        }

        Assert.DoesNotContain("SharedAccessKey=", survivor.Output, StringComparison.Ordinal);

        // A graceful stop releases the survivor's records (so no scaled-out writer is left beside the next step).
        await Signals.SendAsync(survivor.Pid, "TERM");
        await WaitForAsync("the survivor stops on SIGTERM", () => Task.FromResult(survivor.HasExited ? "" : null));
        Assert.Contains("partition 0 released", survivor.Output, StringComparison.Ordinal);

        // The rest of the pipeline (aggregator, sink) over the drained log, then verify on the same folder and hub.
        var eventLog = "eventhubs:" + _hub.ConnectionString;
        var (_, summary) = await BaloyiCli.RunWithSummaryAsync(_root, "--no-generator", "--event-log", eventLog, "--partitions", $"{Partitions}");
        // Its cleansing resumes from silver and finds nothing left: the two instances consumed the whole log.
        Assert.Equal(0, summary.GetProperty("cleansing").GetProperty("consumed").GetInt64());
        Assert.Equal(0, summary.GetProperty("cleansing").GetProperty("lag").GetInt64());
        var verify = await BaloyiCli.RunAsync(["verify", "--data", _root, "--event-log", eventLog]);
        Assert.True(verify.ExitCode == 0, $"verify failed with {verify.ExitCode}:\n{verify.All}");
        var figure = Events.ToString("N0", CultureInfo.InvariantCulture);
        Assert.Contains($"Cleansing consumed {figure} events", verify.StdOut, StringComparison.Ordinal);
        Assert.Contains($"the log holds {figure} events: every event accounted for", verify.StdOut, StringComparison.Ordinal);
        Assert.Contains("Gold matches silver", verify.StdOut, StringComparison.Ordinal);
        Assert.Contains("The warehouse matches gold", verify.StdOut, StringComparison.Ordinal);
    }

    private ServiceProcess StartCleansing(string instance, string lake) => Start("cleansing", new()
    {
        ["Lake__Kind"] = "folder",
        ["Lake__Folder__Root"] = lake,
        ["Cleansing__ScaleOut"] = "true",
        ["Cleansing__InstanceId"] = instance,
        ["Cleansing__OwnershipExpiry"] = "00:00:10",
        ["Cleansing__OwnershipRenewInterval"] = "00:00:03",
    }, instance);

    /// <summary>A service executable (next to the CLI in this output folder) on the test double's hub, by environment.</summary>
    private ServiceProcess Start(string service, Dictionary<string, string> settings, string? name = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "BaloyiBank." + char.ToUpperInvariant(service[0]) + service[1..] + ".dll");
        Assert.True(File.Exists(dll), $"The {service} service was not built next to the tests: {dll}");
        var work = Directory.CreateDirectory(Path.Combine(_root, "work", name ?? service)).FullName;
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = work };
        info.ArgumentList.Add(dll);
        info.Environment.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
        info.Environment["NO_COLOR"] = "1";
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["Health__Port"] = FreePort().ToString(CultureInfo.InvariantCulture);
        info.Environment["Bus__Kind"] = "inmemory";
        info.Environment["EventLog__Kind"] = "eventhubs";
        info.Environment["EventLog__Name"] = _hub.HubName;
        info.Environment["EventLog__Partitions"] = Partitions.ToString(CultureInfo.InvariantCulture);
        info.Environment["EventLog__EventHubs__ConnectionString"] = _hub.ConnectionString;
        foreach (var (key, value) in settings)
        {
            info.Environment[key] = value;
        }

        var process = new ServiceProcess(name ?? service, int.Parse(info.Environment["Health__Port"]!, CultureInfo.InvariantCulture), info);
        _processes.Add(process);
        return process;
    }

    private static async Task<T> WaitForAsync<T>(string what, Func<Task<T?>> probe)
        where T : class
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            Assert.True(clock.Elapsed < Limit, $"not within {Limit}: {what}");
            await Task.Delay(500);
        }
    }

    private sealed record Shares(IReadOnlyList<int> Victim, IReadOnlyList<int> Survivor);

    private sealed record CleansingHealth(IReadOnlyList<int> Owned, long Consumed, long Lag);

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>The instance's /health figures; null while it does not answer or has not resumed.</summary>
    private static async Task<CleansingHealth?> HealthAsync(ServiceProcess process)
    {
        Assert.False(process.HasExited, $"{process.Name} exited with {(process.HasExited ? process.ExitCode : 0)}:\n{process.Output}");
        try
        {
            using var response = await Http.GetAsync(new Uri($"http://127.0.0.1:{process.HealthPort}/health"));
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var data = json.RootElement.GetProperty("checks").GetProperty("cleansing").GetProperty("data");
            var owned = data.GetProperty("owned").GetString() ?? "";
            var lag = data.GetProperty("lag").GetInt64();
            return lag < 0 ? null : new([.. owned.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture))],
                data.GetProperty("consumed").GetInt64(), lag);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or KeyNotFoundException or JsonException)
        {
            return null;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A child service process (its own pid, so Kill is a SIGKILL of the service itself) with its output kept.</summary>
    private sealed class ServiceProcess : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();

        public ServiceProcess(string name, int healthPort, ProcessStartInfo info)
        {
            Name = name;
            HealthPort = healthPort;
            _process = new Process { StartInfo = info };
            _process.OutputDataReceived += (_, e) => Append(e.Data);
            _process.ErrorDataReceived += (_, e) => Append(e.Data);
            _process.Start();
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public string Name { get; }
        public int HealthPort { get; }
        public int Pid => _process.Id;
        public bool HasExited => _process.HasExited;
        public int ExitCode => _process.ExitCode;

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        /// <summary>SIGKILL: no release of its ownership records, no flush.</summary>
        public void Kill()
        {
            _process.Kill();
            _process.WaitForExit();
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit();
            }

            _process.Dispose();
        }

        private void Append(string? line)
        {
            if (line is not null)
            {
                lock (_output)
                {
                    _output.AppendLine(line);
                }
            }
        }
    }
}
