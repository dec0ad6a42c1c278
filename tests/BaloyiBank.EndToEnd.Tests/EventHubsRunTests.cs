using System.Text.Json;
using BaloyiBank.EventHubs.TestDouble;

namespace BaloyiBank.EndToEnd.Tests;

/// <summary>
/// <c>baloyi run --event-log eventhubs:…</c>: the whole pipeline (generator → Event Hubs → cleansing → silver → gold →
/// warehouse) through Azure.Messaging.EventHubs against the Event Hubs TEST DOUBLE (in this process, a fresh hub per
/// test), then <c>baloyi verify</c> on the same folder and log.
/// </summary>
[Collection(ProcessHeavy.Name)]
public sealed class EventHubsRunTests : IAsyncLifetime
{
    private const int Partitions = 4;
    private readonly string _root = Directory.CreateTempSubdirectory("baloyi-e2e-eh-").FullName;
    private EventHubsTestDouble _hub = null!;

    public Task InitializeAsync()
    {
        _hub = EventHubsTestDouble.Start(new EventHubsTestDoubleOptions { HubName = "bank-events", PartitionCount = Partitions });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task Run_on_Event_Hubs_accounts_for_every_event_and_verify_passes_on_the_same_log()
    {
        var data = Path.Combine(_root, "eh");
        var eventLog = "eventhubs:" + _hub.ConnectionString;
        var (outcome, summary) = await BaloyiCli.RunWithSummaryAsync(data, "--event-log", eventLog, "--partitions", $"{Partitions}", "--events", "20000", "--seed", "21");

        Assert.Equal(20_000, summary.GetProperty("generated").GetInt64());
        var partitions = summary.GetProperty("partitions").EnumerateArray().ToArray();
        Assert.Equal(Partitions, partitions.Length);
        Assert.Equal(20_000, partitions.Sum(p => p.GetProperty("nextOffset").GetInt64() - p.GetProperty("firstOffset").GetInt64()));
        var cleansing = summary.GetProperty("cleansing");
        Assert.Equal(20_000, cleansing.GetProperty("consumed").GetInt64());
        Assert.Equal(0, cleansing.GetProperty("lag").GetInt64());
        Assert.Equal(20_000, cleansing.GetProperty("valid").GetInt64() + cleansing.GetProperty("quarantined").GetInt64() + cleansing.GetProperty("duplicates").GetInt64());
        Assert.False(Directory.Exists(Path.Combine(data, "log")), "an Event Hubs run must not write an embedded log");

        // The folder records which log it ran on, never its key.
        var record = await File.ReadAllTextAsync(Path.Combine(data, "event-log.json"));
        using (var json = JsonDocument.Parse(record))
        {
            Assert.Equal("eventhubs", json.RootElement.GetProperty("kind").GetString());
            Assert.Equal("bank-events", json.RootElement.GetProperty("name").GetString());
        }

        Assert.DoesNotContain(_hub.ConnectionString, record, StringComparison.Ordinal);
        Assert.DoesNotContain("SharedAccessKey=", record, StringComparison.Ordinal);
        Assert.DoesNotContain("SharedAccessKey=", outcome.All, StringComparison.Ordinal);

        var verify = await BaloyiCli.RunAsync(["verify", "--data", data, "--event-log", eventLog]);
        Assert.True(verify.ExitCode == 0, $"verify failed with {verify.ExitCode}:\n{verify.All}");
        Assert.Contains("log Event Hubs 127.0.0.1", verify.StdOut, StringComparison.Ordinal);
        Assert.Contains("Cleansing consumed 20,000 events", verify.StdOut, StringComparison.Ordinal);
        Assert.Contains("the log holds 20,000 events", verify.StdOut, StringComparison.Ordinal);
        Assert.Contains("every event accounted for", verify.StdOut, StringComparison.Ordinal);
        Assert.Contains("Gold matches silver", verify.StdOut, StringComparison.Ordinal);
        Assert.Contains("The warehouse matches gold", verify.StdOut, StringComparison.Ordinal);

        var status = await BaloyiCli.RunAsync(["status", "--data", data, "--event-log", eventLog]);
        Assert.True(status.ExitCode == 0, $"status failed with {status.ExitCode}:\n{status.All}");
        Assert.Contains("bank-events", status.StdOut, StringComparison.Ordinal);

        // Without the connection string the folder cannot reach its log, and says how to fix it; another log is refused.
        var blind = await BaloyiCli.RunAsync(["verify", "--data", data]);
        Assert.Equal(2, blind.ExitCode);
        Assert.Contains("pass the same --event-log the run used", blind.StdOut, StringComparison.Ordinal);
        var wrongCount = await BaloyiCli.RunAsync(["run", "--data", Path.Combine(_root, "eight"), "--event-log", eventLog, "--partitions", "8", "--events", "10"]);
        Assert.Equal(1, wrongCount.ExitCode);
        Assert.Contains("has partitions [0, 1, 2, 3] but EventLog:Partitions is 8. Fix: set EventLog__Partitions=4", wrongCount.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", wrongCount.All, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_root, "eight", "event-log.json")), "a run that never started must not record a log");
        var mixed = await BaloyiCli.RunAsync(["run", "--data", data, "--events", "10"]);
        Assert.Equal(2, mixed.ExitCode);
        Assert.Contains("was run on the eventhubs event log, not embedded", mixed.StdErr, StringComparison.Ordinal);
    }
}
