using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using BaloyiBank.Cli.Commands;
using BaloyiBank.Cli.Deploy;
using BaloyiBank.EventLog.RabbitMq;
using BaloyiBank.Lake;
using Microsoft.Extensions.DependencyInjection;

namespace BaloyiBank.Cli.Bench;

/// <summary>
/// <c>baloyi bench deployment</c>: the multi-process deployment end to end (events/s from the generator's first event
/// to the warehouse holding the last), then the raw RabbitMQ stream publish and consume rates on the same broker, in
/// the same run, so the two can be compared.
/// </summary>
internal static class DeploymentBenchmark
{
    public static Command Create()
    {
        var data = CommonOptions.Data("A fresh folder for the deployment (deleted afterwards unless --keep).", Path.Combine(Path.GetTempPath(), "baloyi-bench-deployment"));
        var events = CommonOptions.Number("--events", "Events through the whole pipeline.",
            1L, long.MaxValue, "a whole number of at least 1", "pass e.g. --events 1000000", 1_000_000L);
        // Azurite and PostgreSQL take ports at the same offset from 10000 and 55432 (so at most 65535).
        var rabbitPort = CommonOptions.PortWithDefault("--rabbitmq-port", "RabbitMQ's AMQP port for this run.", 65535 - 55432 + 5672, 6112);
        var keep = new Option<bool>("--keep") { Description = "Leave the deployment running and its folder in place." };
        var command = new Command("deployment", "Four service processes on RabbitMQ + Azurite + PostgreSQL: events/s generated to warehouse, and raw RabbitMQ stream rates in the same run.")
        {
            data, events, rabbitPort, keep,
        };
        command.SetAction(async (parse, ct) =>
        {
            var root = parse.GetValue(data)!.FullName;
            if (Deployment.Exists(root))
            {
                await Console.Error.WriteLineAsync($"{root} already holds a deployment. Fix: pass a fresh --data folder, or run baloyi down --data {root} and delete it.");
                return 2;
            }

            Directory.CreateDirectory(root);
            if (!OperatingSystem.IsWindows())
            {
                // PostgreSQL runs as its own user and must reach its folder below this one.
                File.SetUnixFileMode(root, (UnixFileMode)0b111_101_101);
            }
            var port = parse.GetValue(rabbitPort);
            var deployment = Deployment.Create(root);
            deployment.RabbitMqPort = port;
            deployment.AzuritePort = 10000 + port - 5672;
            deployment.PostgresPort = 55432 + port - 5672;
            deployment.Events = parse.GetValue(events);
            deployment.Save();
            try
            {
                var endToEnd = new StrongBox<TimeSpan>();
                var exit = await UpCommand.UpAsync(deployment, generatorChanged: false, TimeSpan.FromMinutes(60), endToEnd, ct);
                if (exit != 0)
                {
                    return exit;
                }

                Console.WriteLine("Raw RabbitMQ streams on the same broker (one event per message, publisher confirms):");
                var phaseStart = (Broker: ProcessCpu.Take(deployment), Client: Environment.CpuUsage.TotalTime);
                var packed = (Broker: 0.0, Client: 0.0); // µs per event, append + read through the event log
                var raw = await RabbitMqLogBenchmark.RunAsync(new RabbitMqBenchmarkSettings
                {
                    Uri = deployment.RabbitMqUri,
                    RawMessages = 200_000,
                    PackedEvents = 500_000,
                    BatchSizes = [2_000],
                    Partitions = deployment.Partitions,
                }, line =>
                {
                    // Each line ends a phase (publish, consume, append, read): what the broker and this client
                    // spent on it, per message or event, is the floor those parts of the pipeline cannot go below.
                    var now = (Broker: ProcessCpu.Take(deployment), Client: Environment.CpuUsage.TotalTime);
                    var broker = now.Broker.Since(phaseStart.Broker)["rabbitmq"];
                    var client = (now.Client - phaseStart.Client).TotalSeconds;
                    var count = RateCount(line);
                    if (count is { } c && line.StartsWith("event log ", StringComparison.Ordinal))
                    {
                        packed.Broker += broker * 1e6 / c;
                        packed.Client += client * 1e6 / c;
                    }

                    Console.WriteLine(count is { } n
                        ? string.Create(CultureInfo.InvariantCulture, $"  {line}; CPU: broker {broker:F2} s ({broker * 1e6 / n:F1} µs each), this client {client:F2} s ({client * 1e6 / n:F1} µs each)")
                        : $"  {line}");
                    phaseStart = (ProcessCpu.Take(deployment), Environment.CpuUsage.TotalTime);
                }, ct);
                var rate = deployment.Events!.Value / endToEnd.Value.TotalSeconds;
                var stored = new DirectoryInfo(deployment.ServersFolder("azurite")).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
                var perEvent = (double)stored / deployment.Events.Value;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Azurite holds {stored / 1e6:N0} MB for the run's {deployment.Events:N0} events ({perEvent:N0} B per event: bronze, silver, gold, commits)."));
                Console.WriteLine("Raw Azurite on the same server (Put Blob of whole files through the lake client, as cleansing uploads its Parquet):");
                var lake = await RawLakeAsync(deployment, files: 16, fileBytes: 8 << 20, ct);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  raw lake put: {lake.Bytes / 1e6:N0} MB in {lake.Seconds:F2} s = {lake.Bytes / 1e6 / lake.Seconds:N0} MB/s; CPU: Azurite {lake.ServerSeconds:F2} s ({lake.ServerSeconds * 1e9 / lake.Bytes:F1} ns per byte = {lake.ServerSeconds * 1e6 * perEvent / lake.Bytes:F1} µs per event at the run's {perEvent:N0} B), this client {lake.ClientSeconds:F2} s"));
                var lakeFloor = lake.ServerSeconds * 1e6 * perEvent / lake.Bytes;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Per event, the servers alone at their best in this run: RabbitMQ {packed.Broker:F1} µs to take and hand out a packed event (its clients {packed.Client:F1} µs), Azurite {lakeFloor:F1} µs to store the run's bytes; 100,000 events/s on {Environment.ProcessorCount} cores leaves {Environment.ProcessorCount * 10.0:F0} µs of CPU per event for everything."));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"End to end {rate:N0} events/s ({deployment.Events:N0} events in {endToEnd.Value.TotalSeconds:F1} s); raw stream publish {raw.RawPublish.MessagesPerSecond:N0} msg/s, consume {raw.RawConsume.MessagesPerSecond:N0} msg/s; end to end = {rate / raw.RawPublish.MessagesPerSecond:F2}× raw publish. Load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}."));
                return 0;
            }
            finally
            {
                if (!parse.GetValue(keep))
                {
                    await DownCommand.StopAsync(deployment, keepServers: false, CancellationToken.None);
                    Directory.Delete(root, recursive: true);
                }
            }
        });
        return command;
    }

    /// <summary>Uploads <paramref name="files"/> files of random bytes to the deployment's lake and deletes them; Azurite's and this process's CPU meanwhile.</summary>
    private static async Task<(long Bytes, double Seconds, double ServerSeconds, double ClientSeconds)> RawLakeAsync(Deployment deployment, int files, int fileBytes, CancellationToken ct)
    {
        await using var services = deployment.LakeServices();
        var lake = services.GetRequiredService<ILakeStore>();
        var local = Path.Combine(deployment.Root, "raw-lake.bin");
        var content = new byte[fileBytes];
        Random.Shared.NextBytes(content); // incompressible, like Parquet pages
        await File.WriteAllBytesAsync(local, content, ct);
        var prefix = string.Create(CultureInfo.InvariantCulture, $"_bench/raw-{Environment.ProcessId}/");
        var server = ProcessCpu.Take(deployment);
        var client = Environment.CpuUsage.TotalTime;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < files; i++)
        {
            await lake.PutFileAsync(string.Create(CultureInfo.InvariantCulture, $"{prefix}{i:D4}.bin"), local, ct);
        }

        var seconds = clock.Elapsed.TotalSeconds;
        var serverSeconds = ProcessCpu.Take(deployment).Since(server)["azurite"];
        var clientSeconds = (Environment.CpuUsage.TotalTime - client).TotalSeconds;
        for (var i = 0; i < files; i++)
        {
            await lake.DeleteAsync(string.Create(CultureInfo.InvariantCulture, $"{prefix}{i:D4}.bin"), ct);
        }

        File.Delete(local);
        return ((long)files * fileBytes, seconds, serverSeconds, clientSeconds);
    }

    /// <summary>The count of a rate line ("raw stream publish (confirmed): 200,000 in 6.09 s = …"), null for other lines.</summary>
    private static long? RateCount(string line)
    {
        var colon = line.IndexOf(": ", StringComparison.Ordinal);
        var inAt = line.IndexOf(" in ", StringComparison.Ordinal);
        return colon > 0 && inAt > colon
            && long.TryParse(line.AsSpan(colon + 2, inAt - colon - 2), NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : null;
    }
}
