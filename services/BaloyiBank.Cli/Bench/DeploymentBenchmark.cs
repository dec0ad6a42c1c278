using System.CommandLine;
using System.Globalization;
using System.Runtime.CompilerServices;
using BaloyiBank.Cli.Commands;
using BaloyiBank.Cli.Deploy;
using BaloyiBank.EventLog.RabbitMq;

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
        var data = new Option<DirectoryInfo>("--data")
        {
            Description = "A fresh folder for the deployment (deleted afterwards unless --keep).",
            DefaultValueFactory = _ => new DirectoryInfo(Path.Combine(Path.GetTempPath(), "baloyi-bench-deployment")),
        };
        var events = new Option<long>("--events") { Description = "Events through the whole pipeline.", DefaultValueFactory = _ => 1_000_000 };
        var rabbitPort = new Option<int>("--rabbitmq-port") { Description = "RabbitMQ's AMQP port for this run.", DefaultValueFactory = _ => 6112 };
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
                var raw = await RabbitMqLogBenchmark.RunAsync(new RabbitMqBenchmarkSettings
                {
                    Uri = deployment.RabbitMqUri,
                    RawMessages = 200_000,
                    PackedEvents = 200_000,
                    BatchSizes = [2_000],
                    Partitions = deployment.Partitions,
                }, line => Console.WriteLine($"  {line}"), ct);
                var rate = deployment.Events!.Value / endToEnd.Value.TotalSeconds;
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
}
