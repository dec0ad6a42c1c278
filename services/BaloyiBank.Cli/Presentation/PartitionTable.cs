using System.Globalization;
using BaloyiBank.EventLog;
using Spectre.Console;

namespace BaloyiBank.Cli.Presentation;

/// <summary>The event log's partitions as a person checks them: offsets, record counts, last enqueue time.</summary>
internal static class PartitionTable
{
    public static Table Create(string logName, string directory, IReadOnlyList<PartitionInfo> partitions)
    {
        var table = new Table().Title($"Event log '{logName}' at {directory}").Border(TableBorder.Simple)
            .AddColumn("partition").AddColumn(new TableColumn("first offset").RightAligned()).AddColumn(new TableColumn("next offset").RightAligned())
            .AddColumn(new TableColumn("records").RightAligned()).AddColumn("last enqueued (UTC)");
        foreach (var p in partitions)
        {
            table.AddRow(N(p.Partition), N(p.FirstOffset), N(p.NextOffset), N(p.NextOffset - p.FirstOffset),
                p.LastEnqueuedAt?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture) ?? "-");
        }

        table.AddRow("total", "", "", N(partitions.Sum(p => p.NextOffset - p.FirstOffset)), "");
        return table;
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
