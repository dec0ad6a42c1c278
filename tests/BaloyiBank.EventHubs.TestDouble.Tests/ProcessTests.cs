using System.Diagnostics;
using Azure.Messaging.EventHubs;
using Azure.Messaging.EventHubs.Consumer;
using Azure.Messaging.EventHubs.Primitives;
using Azure.Messaging.EventHubs.Producer;
using BaloyiBank.Tests.Shared;
using Xunit;

namespace BaloyiBank.EventHubs.TestDouble.Tests;

/// <summary>The double as its own process, as scripts and the CLI run it: prints its connection string, stops on SIGTERM.</summary>
public sealed class ProcessTests : IDisposable
{
    private const string ConnectionPrefix = "Connection string: ";
    private readonly string _folder = Directory.CreateTempSubdirectory("baloyi-ehdouble-proc-").FullName;

    private readonly List<Process> _children = [];

    public void Dispose()
    {
        // A failed test must not leave a double running.
        foreach (var child in _children)
        {
            if (!child.HasExited)
            {
                child.Kill();
                child.WaitForExit();
            }

            child.Dispose();
        }

        Directory.Delete(_folder, recursive: true);
    }

    private Process StartChild()
    {
        var child = ChildDotnet.Start("BaloyiBank.EventHubs.TestDouble", ["--hub", "proc", "--partitions", "2", "--data", _folder]);
        _children.Add(child);
        return child;
    }

    [Fact]
    public async Task The_executable_serves_the_SDK_stops_on_SIGTERM_and_keeps_its_data_folder()
    {
        var first = StartChild();
        await using (var producer = new EventHubProducerClient(await ReadConnectionStringAsync(first)))
        {
            Assert.Equal(["0", "1"], await producer.GetPartitionIdsAsync());
            await producer.SendAsync([new EventData("one"), new EventData("two")], new SendEventOptions { PartitionId = "0" });
        }

        await StopAsync(first);

        var second = StartChild();
        await using (var receiver = new PartitionReceiver("$Default", "0", EventPosition.Earliest, await ReadConnectionStringAsync(second)))
        {
            var events = new List<EventData>();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            while (events.Count < 2)
            {
                events.AddRange(await receiver.ReceiveBatchAsync(2, TimeSpan.FromSeconds(1), timeout.Token));
            }

            Assert.Equal(["one", "two"], events.Select(e => e.EventBody.ToString()));
        }

        await StopAsync(second);
    }

    private static async Task<string> ReadConnectionStringAsync(Process process)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith(ConnectionPrefix, StringComparison.Ordinal))
            {
                return line[ConnectionPrefix.Length..];
            }
        }

        throw new InvalidOperationException($"The test double exited (code {(process.HasExited ? process.ExitCode : -1)}) without printing its connection string.");
    }

    private static async Task StopAsync(Process process)
    {
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        Assert.Equal(0, process.ExitCode);
    }
}
