using System.CommandLine;
using BaloyiBank.Cli.Gold;
using BaloyiBank.EventLog;
using BaloyiBank.EventLog.Embedded;
using BaloyiBank.Lake;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace BaloyiBank.Cli.Commands;

/// <summary><c>baloyi status</c>: what the data folder holds, read without disturbing a running pipeline.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var data = CommonOptions.ExistingData(DataAccess.Read);
        var eventLog = EventLogChoice.Option("The event log the run used, when not embedded: the same --event-log given to run (its secret is not kept in the folder).");
        var command = new Command("status", "Show the event log's partitions (first and next offsets, records, last enqueue time), then each stage: cleansing's committed offset and lag per partition, gold's round and the silver commits it has not folded, the warehouse's watermark and the gold rounds it trails; for a baloyi up deployment, each service's health.") { data, eventLog };
        command.SetAction(async (parse, ct) =>
        {
            var root = parse.GetValue(data)!.FullName;
            if (Deploy.Deployment.Exists(root))
            {
                // A baloyi up deployment: its services' health, then the RabbitMQ log's partitions.
                var deployment = Deploy.Deployment.Load(root);
                using (var probe = new Deploy.HealthProbe())
                {
                    await UpCommand.ShowStatusAsync(deployment, probe, ct);
                }

                var streams = await Deploy.DeploymentLog.DescribeAsync(deployment, ct);
                Presentation.RunConsole.CreateConsole().Write(Presentation.PartitionTable.Create(Deploy.Deployment.HubName, deployment.RabbitMqUri.Replace("guest:guest", "guest:***", StringComparison.Ordinal), streams));
                return 0;
            }

            if (EventLogChoice.ReadRecord(root) is { } record)
            {
                await using var services = EventLogChoice.OpenRecorded(record, parse.GetValue(eventLog), out var problem);
                if (services is null)
                {
                    await Console.Error.WriteLineAsync(problem);
                    return 1;
                }

                var recorded = services.GetRequiredService<IEventLog>();
                var described = await recorded.DescribeAsync(ct);
                var console = Presentation.RunConsole.CreateConsole();
                console.Write(Presentation.PartitionTable.Create(recorded.Name, record.Location, described));
                await WriteStagesAsync(console, root, described, ct);
                return 0;
            }

            var directory = Path.Combine(root, "log");
            EmbeddedEventLog log;
            try
            {
                log = EmbeddedEventLog.OpenExisting(directory);
            }
            catch (EventLogConfigurationException problem)
            {
                await Console.Error.WriteLineAsync(problem.Message);
                return 1;
            }

            await using var _ = log;
            var partitions = await log.DescribeAsync(ct);
            var output = Presentation.RunConsole.CreateConsole();
            output.Write(Presentation.PartitionTable.Create(log.Name, directory, partitions));
            await WriteStagesAsync(output, root, partitions, ct);
            return 0;
        });
        return command;
    }

    /// <summary>Cleansing, gold and the warehouse as far as the folder's lake and DuckDB warehouse show them (nothing when there is no lake).</summary>
    private static async Task WriteStagesAsync(IAnsiConsole console, string root, IReadOnlyList<PartitionInfo> log, CancellationToken ct)
    {
        var lakeFolder = Path.Combine(root, "lake");
        if (!Directory.Exists(lakeFolder))
        {
            console.MarkupLineInterpolated($"No lake at {lakeFolder}: no stage after the log has run yet.");
            return;
        }

        var stages = await StageStatus.ReadAsync(new FolderLakeStore(lakeFolder), log, Path.Combine(root, "warehouse.duckdb"), ct);
        console.Write(stages.ToTable());
    }
}
