using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace BaloyiBank.Cli.Deploy;

/// <summary>
/// The service processes of a deployment: started detached (their own session, so they outlive <c>up</c> and a
/// Ctrl-C in its terminal), found again by pid file (checked against <c>/proc/&lt;pid&gt;/cmdline</c> so that a
/// reused pid is never mistaken for a service), stopped with SIGTERM (graceful) and SIGKILL after a grace period.
/// </summary>
internal static partial class ServiceProcesses
{
    private const int SigTerm = 15;
    private const int SigKill = 9;

    public static int? RunningPid(Deployment deployment, string service)
    {
        var pidFile = deployment.PidFile(service);
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            return null;
        }

        return IsService(pid, service) ? pid : null;
    }

    public static bool IsService(int pid, string service)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // "pid (comm) S …": a zombie (Z) or dead (X) process is not running.
            var state = stat[(stat.LastIndexOf(')') + 2)..][0];
            if (state is 'Z' or 'X')
            {
                return false;
            }

            var cmdline = File.ReadAllText($"/proc/{pid}/cmdline");
            return cmdline.Contains(Path.GetFileName(Services.AssemblyOf(service)), StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Starts the service detached, output appended to its log; returns its pid.</summary>
    public static async Task<int> StartAsync(Deployment deployment, string service, IReadOnlyDictionary<string, string> environment, CancellationToken ct)
    {
        var assembly = Services.AssemblyOf(service);
        if (!File.Exists(assembly))
        {
            throw new InvalidOperationException($"The {service} service was not built next to the CLI ({assembly}). Fix: build the solution (./baloyi builds it).");
        }

        var work = deployment.WorkFolder(service);
        Directory.CreateDirectory(work);
        Directory.CreateDirectory(Path.GetDirectoryName(deployment.LogFile(service))!);
        Directory.CreateDirectory(Path.GetDirectoryName(deployment.PidFile(service))!);
        // setsid: a session of its own. The shell exits at once, so the service is nobody's child here.
        var info = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
            WorkingDirectory = work,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("setsid dotnet \"$0\" >>\"$1\" 2>&1 </dev/null & echo $!");
        info.ArgumentList.Add(assembly);
        info.ArgumentList.Add(deployment.LogFile(service));
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        using var shell = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {service}.");
        var output = await shell.StandardOutput.ReadToEndAsync(ct);
        await shell.WaitForExitAsync(ct);
        if (!int.TryParse(output.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            throw new InvalidOperationException($"Starting {service} printed no pid ('{output.Trim()}'); see {deployment.LogFile(service)}.");
        }

        await File.WriteAllTextAsync(deployment.PidFile(service), pid.ToString(CultureInfo.InvariantCulture), ct);
        return pid;
    }

    /// <summary>SIGTERM, then SIGKILL once <paramref name="grace"/> passed; true when it stopped gracefully.</summary>
    public static async Task<bool> StopAsync(int pid, string service, TimeSpan grace, CancellationToken ct)
    {
        _ = Kill(pid, SigTerm);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < grace)
        {
            if (!IsService(pid, service))
            {
                return true;
            }

            await Task.Delay(200, ct);
        }

        _ = Kill(pid, SigKill);
        return false;
    }

    public static bool SendKill(int pid) => Kill(pid, SigKill) == 0;

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; true when it was delivered.</summary>
    public static bool Signal(int pid, int signal) => Kill(pid, signal) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
