using System.Globalization;

namespace BaloyiBank.Cli.Deploy;

/// <summary>
/// CPU seconds per part of a local deployment, read from <c>/proc</c>: each service process (by pid file), and the
/// RabbitMQ, Azurite and PostgreSQL processes of this deployment (a process whose command line names the deployment's
/// folder, and every process below it). Two snapshots give what each part used in between; the machine's own counter
/// (<c>/proc/stat</c>) gives the whole, so that what no part accounts for (this CLI, the kernel, other processes) shows.
/// </summary>
internal sealed class ProcessCpu
{
    private static readonly double TicksPerSecond = 100; // USER_HZ, 100 on Linux for every architecture .NET runs on.

    private ProcessCpu(IReadOnlyDictionary<string, double> parts, double machine)
    {
        Parts = parts;
        Machine = machine;
    }

    /// <summary>CPU seconds per part since its processes started.</summary>
    public IReadOnlyDictionary<string, double> Parts { get; }

    /// <summary>CPU seconds of the whole machine (all cores, user + system) since boot.</summary>
    public double Machine { get; }

    public static IReadOnlyList<string> PartNames { get; } = [.. Services.All, "rabbitmq", "azurite", "postgres"];

    /// <summary>Now, or an empty snapshot where there is no <c>/proc</c>.</summary>
    public static ProcessCpu Take(Deployment deployment)
    {
        if (!OperatingSystem.IsLinux())
        {
            return new ProcessCpu(new Dictionary<string, double>(), 0);
        }

        var processes = new Dictionary<int, (int Parent, double Seconds)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && ReadStat(pid) is { } stat)
            {
                processes[pid] = stat;
            }
        }

        var roots = new Dictionary<int, string>();
        foreach (var process in deployment.Processes)
        {
            if (ServiceProcesses.RunningPid(deployment, process) is { } pid)
            {
                // Several cleansing instances count as one part, the cleansing.
                roots[pid] = Services.ServiceOf(process);
            }
        }

        foreach (var pid in processes.Keys.Where(p => !roots.ContainsKey(p)))
        {
            if (ServerOf(pid, deployment.Root) is { } server)
            {
                roots[pid] = server;
            }
        }

        var parts = PartNames.ToDictionary(p => p, _ => 0.0, StringComparer.Ordinal);
        foreach (var (pid, (_, seconds)) in processes)
        {
            // The nearest root above (or at) the process names its part; a server's workers (postgres backends,
            // Erlang's port programs) are below the process whose command line names the folder.
            for (var at = pid; at > 1 && processes.TryGetValue(at, out var up); at = up.Parent)
            {
                if (roots.TryGetValue(at, out var part))
                {
                    parts[part] += seconds;
                    break;
                }
            }
        }

        return new ProcessCpu(parts, MachineSeconds());
    }

    /// <summary>What each part used between <paramref name="before"/> and this snapshot (a part started in between counts whole).</summary>
    public IReadOnlyDictionary<string, double> Since(ProcessCpu before) =>
        PartNames.ToDictionary(
            p => p,
            p => Math.Max(0, Parts.GetValueOrDefault(p) - before.Parts.GetValueOrDefault(p)),
            StringComparer.Ordinal);

    /// <summary>"cleansing 20.1 s (20.1 µs/event, 45 %) · …" for the parts between two snapshots, and what is left over.</summary>
    public string Describe(ProcessCpu before, long events)
    {
        var used = Since(before);
        var machine = Machine - before.Machine;
        if (machine <= 0)
        {
            return "CPU per part: not measured (no /proc).";
        }

        var rest = Math.Max(0, machine - used.Values.Sum());
        var parts = used.Where(p => p.Value > 0).OrderByDescending(p => p.Value).Select(p => Part(p.Key, p.Value)).Append(Part("other", rest));
        return string.Create(CultureInfo.InvariantCulture,
            $"CPU {machine:F1} s in all ({machine * 1e6 / events:F1} µs per event): {string.Join(" · ", parts)}");

        string Part(string name, double seconds) => string.Create(CultureInfo.InvariantCulture,
            $"{name} {seconds:F1} s ({seconds * 1e6 / events:F1} µs/event, {seconds / machine:P0})");
    }

    private static string? ServerOf(int pid, string root)
    {
        string cmdline;
        try
        {
            cmdline = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        if (!cmdline.Contains(root, StringComparison.Ordinal))
        {
            return null;
        }

        return cmdline.Contains("azurite", StringComparison.Ordinal) ? "azurite"
            : cmdline.Contains("beam", StringComparison.Ordinal) || cmdline.Contains("rabbit", StringComparison.Ordinal) ? "rabbitmq"
            : cmdline.Contains("postgres", StringComparison.Ordinal) ? "postgres"
            : null;
    }

    private static (int Parent, double Seconds)? ReadStat(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // "pid (comm) S ppid …": fields after the command's closing parenthesis; utime and stime are the 14th and
            // 15th fields of the whole line, the 12th and 13th after it.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var parent = int.Parse(fields[1], CultureInfo.InvariantCulture);
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return (parent, ticks / TicksPerSecond);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null; // gone meanwhile, or not ours to read
        }
    }

    private static double MachineSeconds()
    {
        // "cpu  user nice system idle iowait irq softirq steal …": busy = all but idle and iowait.
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var values = fields.Skip(1).Take(8).Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        var busy = values.Sum() - values[3] - values[4];
        return busy / TicksPerSecond;
    }
}
