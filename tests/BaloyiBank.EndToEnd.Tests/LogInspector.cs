using BaloyiBank.EventLog;
using BaloyiBank.EventLog.Embedded;

namespace BaloyiBank.EndToEnd.Tests;

/// <summary>Reads a whole embedded log back, as an independent check of what the CLI wrote.</summary>
internal static class LogInspector
{
    public static async Task<IReadOnlyList<LogRecord>[]> ReadAllAsync(string dataDirectory)
    {
        await using var log = EmbeddedEventLog.OpenExisting(Path.Combine(dataDirectory, "log"));
        var partitions = new IReadOnlyList<LogRecord>[log.PartitionCount];
        for (var p = 0; p < log.PartitionCount; p++)
        {
            var records = new List<LogRecord>();
            await using var reader = log.OpenReader(p, StartPosition.Earliest);
            while (true)
            {
                var batch = await reader.ReadAsync(50_000, TimeSpan.Zero);
                if (batch.Count == 0)
                {
                    break;
                }

                records.AddRange(batch);
            }

            partitions[p] = records;
        }

        return partitions;
    }

    public static long Sequence(LogRecord record) =>
        long.Parse(record.Headers["bb-seq"] ?? throw new InvalidOperationException($"Record {record.Position} has no bb-seq header."), System.Globalization.CultureInfo.InvariantCulture);
}
