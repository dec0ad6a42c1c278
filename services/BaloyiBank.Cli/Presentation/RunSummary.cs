using System.Text;
using System.Text.Json;
using BaloyiBank.EventLog;

namespace BaloyiBank.Cli.Presentation;

/// <summary>The figures a run ends with: what was generated, by kind and type, and what the log holds per partition.</summary>
internal sealed record RunSummary(string DataDirectory, RunSnapshot Run, string LogName, IReadOnlyList<PartitionInfo> Partitions)
{
    /// <summary>Gold after the run (null when the aggregator did not run or failed; see <see cref="GoldError"/>).</summary>
    public Gold.GoldReport? Gold { get; init; }

    public string? GoldError { get; init; }

    /// <summary>The warehouse after the sink caught up, compared with gold (null when gold failed; see <see cref="WarehouseError"/>).</summary>
    public Gold.WarehouseReport? Warehouse { get; init; }

    public string? WarehouseError { get; init; }

    /// <summary>Where the log is when it is not the folder's embedded one (no secret).</summary>
    public string? LogLocation { get; init; }

    public string? Error => Run.Error;

    public static async Task<RunSummary> CreateAsync(string dataDirectory, RunSnapshot run, IEventLog log) =>
        new(dataDirectory, run, log.Name, await log.DescribeAsync());

    public async Task WriteJsonAsync(string path)
    {
        var buffer = new MemoryStream();
        await using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("dataDirectory", DataDirectory);
            json.WriteNumber("generated", Run.Generated);
            json.WriteNumber("appended", Run.Appended);
            json.WriteNumber("catchUp", Run.CatchUp);
            json.WriteNumber("elapsedSeconds", Math.Round(Run.Elapsed.TotalSeconds, 3));
            json.WriteNumber("eventsPerSecond", Math.Round(Run.EventsPerSecond, 1));
            // The whole process (every service of the run): what CPU per event and memory figures are built from.
            using (var self = System.Diagnostics.Process.GetCurrentProcess())
            {
                json.WriteNumber("cpuSeconds", Math.Round(Environment.CpuUsage.TotalTime.TotalSeconds, 3));
                json.WriteNumber("peakWorkingSetBytes", self.PeakWorkingSet64);
            }

            if (Run.SimulatedFrom is { } from)
            {
                json.WriteString("simulatedFrom", from);
            }

            if (Run.SimulatedClock is { } clock)
            {
                json.WriteString("simulatedTo", clock);
            }

            WriteCounts(json, "byKind", Run.ByKind);
            WriteCounts(json, "byType", Run.ByType);
            if (Run.Cleansing is { } c)
            {
                json.WriteStartObject("cleansing");
                json.WriteNumber("consumed", c.Consumed);
                json.WriteNumber("valid", c.Valid);
                json.WriteNumber("quarantined", c.Quarantined);
                json.WriteNumber("duplicates", c.Duplicates);
                json.WriteNumber("batches", c.Batches);
                json.WriteNumber("lag", c.Lag);
                WriteCounts(json, "quarantinedByReason", c.QuarantinedByReason);
                json.WriteStartArray("byGeneratorKind");
                foreach (var k in c.ByGeneratorKind)
                {
                    json.WriteStartObject();
                    json.WriteString("kind", k.Kind);
                    json.WriteNumber("generated", k.Generated);
                    json.WriteString("expected", k.Expected);
                    json.WriteNumber("observed", k.Observed);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            if (Gold is { } gold)
            {
                json.WriteStartObject("gold");
                json.WriteNumber("round", gold.Round);
                WriteCounts(json, "rows", gold.Rows);
                json.WriteStartArray("balances");
                foreach (var total in gold.Balances)
                {
                    json.WriteStartObject();
                    json.WriteString("currency", total.Currency);
                    json.WriteNumber("accounts", total.Accounts);
                    json.WriteNumber("balance", total.Balance);
                    json.WriteNumber("transactions", total.Transactions);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            if (GoldError is { } goldError)
            {
                json.WriteString("goldError", goldError);
            }

            if (Warehouse is { } warehouse)
            {
                json.WriteStartObject("warehouse");
                json.WriteString("kind", warehouse.Kind);
                json.WriteNumber("watermark", warehouse.Verification.Watermark);
                json.WriteNumber("inserted", warehouse.Inserted);
                json.WriteNumber("updated", warehouse.Updated);
                json.WriteNumber("differences", warehouse.Verification.Differences);
                json.WriteStartObject("rows");
                foreach (var table in warehouse.Verification.Tables)
                {
                    json.WriteNumber(table.Table, table.WarehouseRows);
                }

                json.WriteEndObject();
                json.WriteEndObject();
            }

            if (WarehouseError is { } warehouseError)
            {
                json.WriteString("warehouseError", warehouseError);
            }

            json.WriteString("log", LogName);
            json.WriteStartArray("partitions");
            foreach (var p in Partitions)
            {
                json.WriteStartObject();
                json.WriteNumber("partition", p.Partition);
                json.WriteNumber("firstOffset", p.FirstOffset);
                json.WriteNumber("nextOffset", p.NextOffset);
                if (p.LastEnqueuedAt is { } last)
                {
                    json.WriteString("lastEnqueuedAt", last);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            if (Error is not null)
            {
                json.WriteString("error", Error);
            }

            json.WriteEndObject();
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await File.WriteAllTextAsync(path, Encoding.UTF8.GetString(buffer.ToArray()), Encoding.UTF8);
    }

    private static void WriteCounts(Utf8JsonWriter json, string name, IReadOnlyDictionary<string, long> counts)
    {
        json.WriteStartObject(name);
        foreach (var (key, value) in counts)
        {
            json.WriteNumber(key, value);
        }

        json.WriteEndObject();
    }
}
