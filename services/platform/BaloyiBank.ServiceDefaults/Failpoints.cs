using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace BaloyiBank.ServiceDefaults;

/// <summary>
/// Named crash points for crash tests: <c>BALOYI_FAILPOINTS=cleansing.after-files=3</c> makes the process kill
/// itself with SIGKILL (no shutdown code runs, as in a power cut) the 3rd time it reaches
/// <c>cleansing.after-files</c>. Several points are separated by ';'. Unset (always, outside tests) every
/// <see cref="Hit"/> is one dictionary miss on an empty table.
/// </summary>
public static class Failpoints
{
    public const string Variable = "BALOYI_FAILPOINTS";

    private static readonly IReadOnlyDictionary<string, int> Armed = Parse(Environment.GetEnvironmentVariable(Variable));
    private static readonly ConcurrentDictionary<string, int> Hits = new(StringComparer.Ordinal);

    /// <summary>Counts a pass through <paramref name="name"/>; kills the process on the armed pass.</summary>
    public static void Hit(string name)
    {
        if (Armed.Count == 0 || !Armed.TryGetValue(name, out var at))
        {
            return;
        }

        if (Hits.AddOrUpdate(name, 1, (_, n) => n + 1) == at)
        {
            Console.Error.WriteLine($"failpoint {name} reached (pass {at}): killing the process");
            using var self = Process.GetCurrentProcess();
            self.Kill();
        }
    }

    internal static IReadOnlyDictionary<string, int> Parse(string? value)
    {
        var armed = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in (value ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var cut = entry.LastIndexOf('=');
            if (cut > 0 && int.TryParse(entry[(cut + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var pass) && pass > 0)
            {
                armed[entry[..cut]] = pass;
            }
            else
            {
                throw new InvalidOperationException($"{Variable} entry '{entry}' is not name=pass (e.g. cleansing.after-files=3). Fix: correct or unset {Variable}.");
            }
        }

        return armed;
    }
}
