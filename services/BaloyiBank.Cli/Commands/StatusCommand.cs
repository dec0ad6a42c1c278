using System.CommandLine;
using BaloyiBank.EventLog;
using BaloyiBank.EventLog.Embedded;
using Microsoft.Extensions.DependencyInjection;

namespace BaloyiBank.Cli.Commands;

/// <summary><c>baloyi status</c>: what the data folder holds, read without disturbing a running pipeline.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var data = CommonOptions.ExistingData(DataAccess.Read);
        var eventLog = EventLogChoice.Option("The event log the run used, when not embedded: the same --event-log given to run (its secret is not kept in the folder).");
        var command = new Command("status", "Show the event log's partitions (first and next offsets, records, last enqueue time) and, for a baloyi up deployment, each service's health.") { data, eventLog };
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
                Presentation.RunConsole.CreateConsole().Write(Presentation.PartitionTable.Create(recorded.Name, record.Location, await recorded.DescribeAsync(ct)));
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
            var table = Presentation.PartitionTable.Create(log.Name, directory, partitions);
            Presentation.RunConsole.CreateConsole().Write(table);
            return 0;
        });
        return command;
    }
}
