using System.Globalization;
using BaloyiBank.EventLog;
using BaloyiBank.EventLog.Embedded;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace BaloyiBank.Generator.Tests;

/// <summary>Runs the generator as the service runs it (AddEventLog + AddGenerator in a host) on a real embedded log.</summary>
internal static class GeneratorHost
{
    public const int Partitions = 4;

    /// <param name="stopAfterAppended">Stop the host (as Ctrl-C does) once the generator has appended at least this many
    /// events, instead of waiting for a limit (a condition, not a timer: on a loaded machine the worker may not even have
    /// started after a fixed delay).</param>
    public static async Task<GeneratorProgressSnapshot> RunAsync(string directory, IReadOnlyDictionary<string, string> generator, long? stopAfterAppended = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        var settings = new Dictionary<string, string?>
        {
            ["EventLog:Embedded:Directory"] = directory,
            ["EventLog:Partitions"] = Partitions.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in generator)
        {
            settings["Generator:" + key] = value;
        }

        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddEventLog(builder.Configuration);
        builder.Services.AddGenerator(builder.Configuration);
        using var host = builder.Build();
        var progress = host.Services.GetRequiredService<GeneratorProgress>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
        var watch = stopAfterAppended is { } enough ? StopOnceAppendedAsync(progress, enough, stop, timeout.Token) : Task.CompletedTask;
        try
        {
            // Returns when the worker stops the application (or fails and the host stops).
            await host.RunAsync(stop.Token);
        }
        catch (Exception) when (progress.Failure is not null)
        {
        }

        await watch;
        Assert.False(timeout.IsCancellationRequested, stopAfterAppended is null ? "the generator did not stop by itself" : "the generator did not append enough to be stopped");
        return progress.Snapshot();
    }

    private static async Task StopOnceAppendedAsync(GeneratorProgress progress, long enough, CancellationTokenSource stop, CancellationToken timeout)
    {
        while (progress.Appended < enough && !progress.IsFinished && !timeout.IsCancellationRequested)
        {
            await Task.Delay(10, CancellationToken.None);
        }

        await stop.CancelAsync();
    }

    /// <summary>Every record of every partition, in offset order.</summary>
    public static async Task<List<LogRecord>[]> ReadAllAsync(string directory)
    {
        await using var log = EmbeddedEventLog.Open(new EmbeddedEventLogOptions { Directory = directory, Partitions = Partitions });
        var partitions = new List<LogRecord>[Partitions];
        foreach (var info in await log.DescribeAsync())
        {
            var records = partitions[info.Partition] = [];
            await using var reader = log.OpenReader(info.Partition, StartPosition.Earliest);
            while (records.Count < info.NextOffset - info.FirstOffset)
            {
                records.AddRange(await reader.ReadAsync(10_000, TimeSpan.FromSeconds(1)));
            }
        }

        return partitions;
    }

    /// <summary>What must be equal between two logs of the same stream: key, payload and headers other than trace context.</summary>
    public static List<string>[] Comparable(List<LogRecord>[] log) =>
        [.. log.Select(partition => partition.Select(r =>
            r.Key + "|" + Convert.ToBase64String(r.Value.Span) + "|" +
            string.Join(";", r.Headers.Where(h => h.Key is not (EventHeaders.TraceParent or EventHeaders.TraceState)).Select(h => h.Key + "=" + h.Value))).ToList())];

    public static long Sequence(LogRecord record) => long.Parse(record.Headers[GeneratorHeaders.Sequence]!, CultureInfo.InvariantCulture);
}

/// <summary>A folder that disappears after the test.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("bb-generator-").FullName;

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
