using System.Diagnostics;
using System.Globalization;

namespace BaloyiBank.Cli.Deploy;

/// <summary>
/// Who supervises a deployment. A supervising <c>up</c> holds <c>D/run/up.pid</c> (its pid and start time, so a reused
/// pid is never taken for it). <c>down</c> first leaves the stop marker <c>D/run/stopping</c>, which the supervisor checks
/// before it starts anything and at every tick, and waits for that <c>up</c> to exit; only then does it stop the services.
/// Without this, <c>up</c> restarted the services <c>down</c> had just stopped, again and again (issue 21).
/// </summary>
internal static class Supervision
{
    private const int SigTerm = 15;

    public static string PidFile(Deployment deployment) => Path.Combine(deployment.Root, "run", "up.pid");

    public static string StopMarker(Deployment deployment) => Path.Combine(deployment.Root, "run", "stopping");

    /// <summary>True once <c>down</c> asked the supervisor to stop.</summary>
    public static bool StopRequested(Deployment deployment) => File.Exists(StopMarker(deployment));

    /// <summary>Throws <see cref="DeploymentStoppingException"/> when <c>down</c> is stopping the deployment.</summary>
    public static void ThrowIfStopRequested(Deployment deployment)
    {
        if (StopRequested(deployment))
        {
            throw new DeploymentStoppingException(
                $"baloyi down is stopping the deployment in {deployment.Root}: up stops supervising and starts nothing more.");
        }
    }

    /// <summary>
    /// Makes this process the deployment's supervisor: a new <c>up</c> clears a stop marker left by an earlier <c>down</c>
    /// (the operator wants the deployment running again). Disposing gives the role up.
    /// </summary>
    public static IDisposable Claim(Deployment deployment)
    {
        var pidFile = PidFile(deployment);
        Directory.CreateDirectory(Path.GetDirectoryName(pidFile)!);
        File.Delete(StopMarker(deployment));
        var pid = Environment.ProcessId;
        var record = string.Create(CultureInfo.InvariantCulture, $"{pid} {StartTime(pid)}");
        File.WriteAllText(pidFile + ".tmp", record);
        File.Move(pidFile + ".tmp", pidFile, overwrite: true);
        return new Release(pidFile, record);
    }

    /// <summary>The pid of the <c>up</c> supervising the deployment, or null when none runs.</summary>
    public static int? RunningSupervisor(Deployment deployment)
    {
        string[] parts;
        try
        {
            parts = File.ReadAllText(PidFile(deployment)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        }
        catch (IOException)
        {
            return null;
        }

        return parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            && StartTime(pid) is { } started && started == parts[1] ? pid : null;
    }

    /// <summary>
    /// Asks a supervising <c>up</c> to stop (the stop marker), waits up to <paramref name="grace"/> for it to exit, then
    /// SIGTERM and, after as long again, SIGKILL. The marker stays until <see cref="ClearStop"/>.
    /// </summary>
    public static async Task StopSupervisorAsync(Deployment deployment, TimeSpan grace, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(StopMarker(deployment))!);
        await File.WriteAllTextAsync(StopMarker(deployment), Environment.ProcessId.ToString(CultureInfo.InvariantCulture), ct);
        if (RunningSupervisor(deployment) is not { } pid)
        {
            return;
        }

        Console.WriteLine($"up (pid {pid}) is supervising this deployment: stopping it first, so that it restarts nothing");
        if (await ExitedAsync(deployment, grace, ct))
        {
            Console.WriteLine($"up (pid {pid}): stopped supervising");
            return;
        }

        _ = ServiceProcesses.Signal(pid, SigTerm);
        if (!await ExitedAsync(deployment, grace, ct))
        {
            ServiceProcesses.SendKill(pid);
            Console.WriteLine($"up (pid {pid}): did not stop within {grace.TotalSeconds:F0} s of SIGTERM; killed");
            return;
        }

        Console.WriteLine($"up (pid {pid}): stopped on SIGTERM");
    }

    /// <summary>Removes the stop marker once <c>down</c> is done.</summary>
    public static void ClearStop(Deployment deployment) => File.Delete(StopMarker(deployment));

    private static async Task<bool> ExitedAsync(Deployment deployment, TimeSpan limit, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (RunningSupervisor(deployment) is not null)
        {
            if (clock.Elapsed >= limit)
            {
                return false;
            }

            await Task.Delay(200, ct);
        }

        return true;
    }

    /// <summary>The process's start time in clock ticks since boot (field 22 of /proc/pid/stat); null when it is gone or a zombie.</summary>
    private static string? StartTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields[0] is "Z" or "X" ? null : fields[19];
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private sealed class Release(string pidFile, string record) : IDisposable
    {
        public void Dispose()
        {
            try
            {
                // Only this process's own record: a later up may have claimed the deployment meanwhile.
                if (File.ReadAllText(pidFile) == record)
                {
                    File.Delete(pidFile);
                }
            }
            catch (IOException)
            {
                // Already gone.
            }
        }
    }
}

/// <summary><c>down</c> is stopping the deployment: the supervisor gives up instead of starting anything.</summary>
internal sealed class DeploymentStoppingException(string message) : Exception(message);
