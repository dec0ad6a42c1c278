using System.Diagnostics;
using BaloyiBank.Cli.Deploy;

namespace BaloyiBank.EndToEnd.Tests;

/// <summary>The CPU figures of <c>up --events</c> and <c>bench deployment</c>: each process is counted in its own part.</summary>
public sealed class ProcessCpuTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("baloyi-cpu-").FullName;

    [Fact]
    public void A_server_process_naming_the_deployment_and_its_children_count_in_that_server_part_only()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // /proc
        }

        var deployment = Deployment.Create(_root);
        var before = ProcessCpu.Take(deployment);
        // A shell named like an Azurite of this deployment ($0 is in its command line) whose child, which does not
        // name the folder, burns the CPU: a shell loop of ~2 s (no forks: a forked child's CPU would be gone with it).
        var start = new ProcessStartInfo("sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("sh -c 'i=0; while [ $i -lt 2000000 ]; do i=$((i+1)); done'; true");
        start.ArgumentList.Add($"azurite {_root}");
        using var server = Process.Start(start)!;
        // Measured while the child is alive (a finished child's CPU no longer shows under its parent's tree), as soon
        // as it has run for 0.1 s: a condition, not a time, so a loaded machine only makes it wait longer.
        IReadOnlyDictionary<string, double>? seen = null;
        while (!server.HasExited && seen is null)
        {
            var now = ProcessCpu.Take(deployment).Since(before);
            seen = now["azurite"] >= 0.1 ? now : null;
            Thread.Sleep(20);
        }

        server.WaitForExit();
        Assert.NotNull(seen);
        Assert.All(ProcessCpu.PartNames.Where(p => p != "azurite"), p => Assert.Equal(0, seen[p]));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
