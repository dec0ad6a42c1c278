using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using BaloyiBank.Cleansing;
using BaloyiBank.Cli.Commands;
using BaloyiBank.Delta;
using BaloyiBank.EventLog.Embedded;
using BaloyiBank.Lake;

namespace BaloyiBank.Cli.Bench;

/// <summary>
/// <c>baloyi bench soak</c>: the embedded pipeline (<c>baloyi run</c> as a child process) at a steady rate for a long
/// time, sampled from outside every interval: resident memory, CPU per event, lag, files and log entries per table.
/// At the end: the RSS slope after the warm-up (least squares), the steady CPU per event next to a burst of the same
/// build in the same run, the largest lag, and the file counts. Nothing here is asserted: it prints figures.
/// </summary>
internal static class SoakBenchmark
{
    private static readonly string[] Tables =
    [
        "silver/transactions", "silver/quarantine", "bronze/bank_events", "silver/_cleansing_batches",
        "gold/account_balances", "gold/daily_transaction_summary", "gold/changes/account_balances", "gold/changes/daily_transaction_summary",
    ];

    public static Command Create()
    {
        var data = CommonOptions.Data("A fresh scratch folder for the soak and the burst (deleted afterwards unless --keep).", Path.Combine(Path.GetTempPath(), "baloyi-bench-soak"));
        var rate = CommonOptions.Number("--rate", "Events per second the generator holds steady.",
            1L, 10_000_000L, "a whole number of at least 1", "pass e.g. --rate 20000", 20_000L);
        var duration = CommonOptions.Duration("--duration", "How long the steady stream runs: 90s, 30m, 1h.", "30m", TimeSpan.FromMinutes(30));
        var warmUp = CommonOptions.Duration("--warm-up", "Samples before this are left out of the RSS slope and the steady CPU per event.", "5m", TimeSpan.FromMinutes(5));
        var every = CommonOptions.Duration("--sample", "How often to sample the running pipeline.", "30s", TimeSpan.FromSeconds(30));
        var burst = CommonOptions.Number("--burst-events", "Events of the burst run (no rate limit) whose CPU per event the steady figure is compared with.",
            10_000L, 100_000_000L, "a whole number of at least 10000", "pass e.g. --burst-events 1000000", 1_000_000L);
        var keep = new Option<bool>("--keep") { Description = "Keep the scratch folder (to run baloyi verify on it)." };
        var command = new Command("soak", "The embedded pipeline at a steady rate for a long time: RSS slope, CPU per event vs a burst, lag, files per table.")
        {
            data, rate, duration, warmUp, every, burst, keep,
        };
        command.SetAction(async (parse, ct) =>
        {
            var root = parse.GetValue(data)!.FullName;
            if (Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any())
            {
                await Console.Error.WriteLineAsync($"{root} is not empty. Fix: pass a fresh --data folder, or delete it.");
                return 2;
            }

            var settings = new Settings(parse.GetValue(rate), parse.GetValue(duration), parse.GetValue(warmUp), parse.GetValue(every), parse.GetValue(burst));
            if (settings.WarmUp >= settings.Duration)
            {
                await Console.Error.WriteLineAsync($"--warm-up ({settings.WarmUp}) must be shorter than --duration ({settings.Duration}). Fix: pass e.g. --warm-up 5m --duration 30m.");
                return 2;
            }

            try
            {
                return await RunAsync(root, settings, ct);
            }
            finally
            {
                if (!parse.GetValue(keep))
                {
                    try
                    {
                        Directory.Delete(root, recursive: true);
                    }
                    catch (IOException)
                    {
                        // Best effort: a scratch folder left behind is named in the output.
                    }
                }
            }
        });
        return command;
    }

    private sealed record Settings(long Rate, TimeSpan Duration, TimeSpan WarmUp, TimeSpan Every, long BurstEvents);

    /// <summary>One look at the running pipeline.</summary>
    private sealed record Sample(TimeSpan At, double RssMb, double CpuSeconds, long Appended, long Consumed, IReadOnlyDictionary<string, (int Files, long Versions)> Tables, int MaxFilesPerDate)
    {
        public long Lag => Appended - Consumed;
    }

    private static async Task<int> RunAsync(string root, Settings settings, CancellationToken ct)
    {
        Directory.CreateDirectory(root);
        Console.WriteLine($"Burst: {settings.BurstEvents:N0} events through the embedded pipeline, no rate limit (same build, same machine)...");
        var burstFolder = Path.Combine(root, "burst");
        var burstExit = await RunChildAsync(["run", "--data", burstFolder, "--events", settings.BurstEvents.ToString(CultureInfo.InvariantCulture), "--rate", "0", "--summary-json", Path.Combine(burstFolder, "summary.json")], burstFolder, null, ct);
        if (burstExit != 0)
        {
            await Console.Error.WriteLineAsync($"The burst run failed (exit {burstExit}); its output is in {burstFolder}.out and .err.");
            return 1;
        }

        var burstSummary = ReadSummary(Path.Combine(burstFolder, "summary.json"));
        var burstMicros = burstSummary.CpuSeconds / burstSummary.Consumed * 1e6;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Burst: {burstSummary.Consumed:N0} events in {burstSummary.Elapsed:N1} s, {burstSummary.CpuSeconds:N1} CPU-s: {burstMicros:N1} µs of CPU per event, peak RSS {burstSummary.PeakRssMb:N0} MB"));
        Directory.Delete(burstFolder, recursive: true);

        var soakFolder = Path.Combine(root, "soak");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Soak: {settings.Rate:N0} events/s for {settings.Duration}, sampled every {settings.Every} (warm-up {settings.WarmUp} left out of the slope)"));
        Console.WriteLine("     time   RSS MB   CPU µs/event  events/s        lag   silver tx files (max/date)   gold files (current/changes)   log entries (silver tx, gold ab)");
        List<Sample> samples = [];
        var exit = await RunChildAsync(
            ["run", "--data", soakFolder, "--rate", settings.Rate.ToString(CultureInfo.InvariantCulture), "--duration", $"{(long)settings.Duration.TotalSeconds}s", "--summary-json", Path.Combine(soakFolder, "summary.json")],
            soakFolder,
            async (pid, clock, token) =>
            {
                if (await TakeAsync(pid, soakFolder, clock.Elapsed, token) is { } sample)
                {
                    var previous = samples.Count > 0 ? samples[^1] : null;
                    samples.Add(sample);
                    Print(sample, previous);
                }
            },
            ct,
            settings.Every);
        if (exit != 0)
        {
            await Console.Error.WriteLineAsync($"The soak run failed (exit {exit}); its output is in {soakFolder}.out and .err.");
            return 1;
        }

        var steady = samples.Where(s => s.At >= settings.WarmUp).ToList();
        if (steady.Count < 2)
        {
            await Console.Error.WriteLineAsync("Fewer than two samples after the warm-up: nothing to fit. Fix: a longer --duration, a shorter --warm-up or --sample.");
            return 1;
        }

        var slope = Slope(steady.Select(s => (s.At.TotalMinutes, s.RssMb)).ToList());
        var events = steady[^1].Consumed - steady[0].Consumed;
        var steadyMicros = events > 0 ? (steady[^1].CpuSeconds - steady[0].CpuSeconds) / events * 1e6 : double.NaN;
        var last = samples[^1];
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RSS slope after the warm-up: {slope:+0.0;-0.0} MB/min over {steady.Count} samples ({steady[0].RssMb:N0} → {steady[^1].RssMb:N0} MB)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"CPU per event: steady {steadyMicros:N1} µs, burst {burstMicros:N1} µs: {steadyMicros / burstMicros:N2}× the burst"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Largest lag: {samples.Max(s => s.Lag):N0} events; at the last sample {last.Lag:N0}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Files at the end: {string.Join(", ", last.Tables.Select(t => $"{t.Key} {t.Value.Files:N0} ({t.Value.Versions:N0} log entries)"))}; at most {last.MaxFilesPerDate:N0} silver transaction files for one event date"));
        return 0;
    }

    private static void Print(Sample s, Sample? previous)
    {
        var events = previous is null ? s.Consumed : s.Consumed - previous.Consumed;
        var cpu = previous is null ? s.CpuSeconds : s.CpuSeconds - previous.CpuSeconds;
        var seconds = previous is null ? s.At.TotalSeconds : (s.At - previous.At).TotalSeconds;
        var micros = events > 0 ? cpu / events * 1e6 : double.NaN;
        var t = s.Tables;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{s.At,9:hh\\:mm\\:ss} {s.RssMb,8:N0} {micros,14:N1} {events / seconds,9:N0} {s.Lag,10:N0}   {t["silver/transactions"].Files,10:N0} ({s.MaxFilesPerDate,4:N0})            {t["gold/account_balances"].Files,8:N0} / {t["gold/changes/account_balances"].Files,-8:N0}           {t["silver/transactions"].Versions,8:N0}, {t["gold/account_balances"].Versions:N0}"));
    }

    /// <summary>Least-squares slope of y over x.</summary>
    internal static double Slope(IReadOnlyList<(double X, double Y)> points)
    {
        var n = points.Count;
        var mx = points.Average(p => p.X);
        var my = points.Average(p => p.Y);
        var sxx = points.Sum(p => (p.X - mx) * (p.X - mx));
        return n < 2 || sxx == 0 ? 0 : points.Sum(p => (p.X - mx) * (p.Y - my)) / sxx;
    }

    private static async Task<Sample?> TakeAsync(int pid, string folder, TimeSpan at, CancellationToken ct)
    {
        if (ReadProc(pid) is not { } proc || !Directory.Exists(Path.Combine(folder, "log")))
        {
            return null;
        }

        long appended = 0, consumed = 0;
        var lake = new FolderLakeStore(Path.Combine(folder, "lake"));
        using (var audit = new DeltaTable(lake, $"silver/{CleansingBatchesTable.FolderName}"))
        await using (var log = EmbeddedEventLog.OpenExisting(Path.Combine(folder, "log")))
        {
            // What cleansing committed first, then the log's end: read the other way round, events appended in between
            // would show as a negative lag.
            var snapshot = await audit.TryLoadAsync(ct);
            var partitions = await log.DescribeAsync(ct);
            appended = partitions.Sum(p => p.NextOffset);
            var group = new CleansingOptions().ConsumerGroup; // progress txn appIds are {group}-p{partition}
            consumed = snapshot is null ? 0 : partitions.Sum(p => (snapshot.TransactionVersion($"{group}-p{p.Partition}") ?? -1) + 1);
        }

        Dictionary<string, (int, long)> tables = new(StringComparer.Ordinal);
        var maxPerDate = 0;
        var store = new FolderLakeStore(Path.Combine(folder, "lake"));
        foreach (var path in Tables)
        {
            using var table = new DeltaTable(store, path);
            var snapshot = await table.TryLoadAsync(ct);
            tables[path] = (snapshot?.Files.Count ?? 0, (snapshot?.Version ?? -1) + 1);
            if (path == "silver/transactions" && snapshot is not null && snapshot.Files.Count > 0)
            {
                maxPerDate = snapshot.Files.Values.GroupBy(f => f.PartitionValues.GetValueOrDefault("event_date") ?? "").Max(g => g.Count());
            }
        }

        return new Sample(at, proc.RssMb, proc.CpuSeconds, appended, consumed, tables, maxPerDate);
    }

    /// <summary>Resident set size and CPU seconds (user + system) of a live process, from /proc; null once it is gone.</summary>
    private static (double RssMb, double CpuSeconds)? ReadProc(int pid)
    {
        try
        {
            var status = File.ReadAllLines($"/proc/{pid}/status");
            var rss = status.First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            var kb = long.Parse(rss["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the command name; in clock ticks of 1/100 s.
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return (kb / 1024.0, ticks / 100.0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    private sealed record RunFigures(long Consumed, double Elapsed, double CpuSeconds, double PeakRssMb);

    private static RunFigures ReadSummary(string path)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        var root = json.RootElement;
        return new RunFigures(
            root.GetProperty("cleansing").GetProperty("consumed").GetInt64(),
            root.GetProperty("elapsedSeconds").GetDouble(),
            root.GetProperty("cpuSeconds").GetDouble(),
            root.GetProperty("peakWorkingSetBytes").GetInt64() / 1e6);
    }

    /// <summary>Runs this CLI as a child (its output in <c>{folder}.out</c> and <c>.err</c>), calling <paramref name="onSample"/> every <paramref name="every"/> while it runs.</summary>
    private static async Task<int> RunChildAsync(string[] args, string folder, Func<int, Stopwatch, CancellationToken, Task>? onSample, CancellationToken ct, TimeSpan? every = null)
    {
        Directory.CreateDirectory(folder);
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(typeof(SoakBenchmark).Assembly.Location);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["NO_COLOR"] = "1";
        using var child = Process.Start(info) ?? throw new InvalidOperationException("Could not start the pipeline's child process.");
        await using var output = File.Create($"{folder}.out");
        await using var errors = File.Create($"{folder}.err");
        var copyOut = child.StandardOutput.BaseStream.CopyToAsync(output, ct);
        var copyErr = child.StandardError.BaseStream.CopyToAsync(errors, ct);
        var clock = Stopwatch.StartNew();
        try
        {
            if (onSample is not null)
            {
                using var timer = new PeriodicTimer(every ?? TimeSpan.FromSeconds(30));
                var exited = child.WaitForExitAsync(ct);
                while (!exited.IsCompleted)
                {
                    var tick = timer.WaitForNextTickAsync(ct).AsTask();
                    if (await Task.WhenAny(tick, exited) == tick)
                    {
                        await onSample(child.Id, clock, ct);
                    }
                }
            }

            await child.WaitForExitAsync(ct);
            await Task.WhenAll(copyOut, copyErr);
            return child.ExitCode;
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill(entireProcessTree: true);
            }
        }
    }
}
