using System.CommandLine;
using BaloyiBank.EventLog;
using BaloyiBank.EventLog.Embedded;

namespace BaloyiBank.Cli.Commands;

/// <summary><c>baloyi status</c>: what the data folder holds, read without disturbing a running pipeline.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var data = CommonOptions.Data();
        var command = new Command("status", "Show the event log's partitions: first and next offsets, records, last enqueue time.") { data };
        command.SetAction(async (parse, ct) =>
        {
            var directory = Path.Combine(parse.GetValue(data)!.FullName, "log");
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
