using System.Diagnostics;
using BaloyiBank.Delta;
using BaloyiBank.EventLog;
using BaloyiBank.Generator;
using BaloyiBank.Lake;
using Xunit.Abstractions;

namespace BaloyiBank.Cleansing.Tests;

/// <summary>
/// Reports CPU time and managed allocation per event of each step one feed's events go through (cleanse, stage
/// into column buffers, Parquet per table), after a warm-up round so the JIT has settled: where cleansing's CPU per
/// event goes, with less noise than the whole benchmark on a shared machine. Measured, never asserted.
/// </summary>
public sealed class StepCostTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("baloyibank-steps-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Cpu_and_allocation_per_event_of_each_step_are_measured()
    {
        const int count = 200_000;
        var enqueuedAt = new DateTimeOffset(2026, 11, 20, 8, 0, 0, TimeSpan.Zero);
        var headers = new EventHeaders(
            new KeyValuePair<string, string>("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            new KeyValuePair<string, string>("content-type", "application/json"));
        var records = GeneratedEvents.Records(new GeneratorOptions { InitialCustomers = 2_000 }).Take(count)
            .Select((r, i) => new LogRecord(0, i, enqueuedAt, r.Key, r.Payload, headers))
            .ToArray();
        var lake = new FolderLakeStore(_root);
        using var staging = new FeedStaging();
        var cleanser = new RawEventCleanser();
        var process = Process.GetCurrentProcess();
        for (var round = 0; round < 4; round++)
        {
            var state = new PartitionState(0);
            TimeSpan cleanse = default, stage = default, bronze = default;
            long cleanseBytes = 0, stageBytes = 0;
            // Chunks of 1,000 records (one log read), timed as a whole: the clock is too coarse per event.
            for (var from = 0; from < records.Length; from += 1000)
            {
                var outcomes = new CleansingOutcome[1000];
                process.Refresh();
                var cpu = process.TotalProcessorTime;
                var bytes = GC.GetAllocatedBytesForCurrentThread();
                for (var i = from; i < from + 1000; i++)
                {
                    var record = records[i];
                    outcomes[i - from] = cleanser.Process(new RawEvent(0, record.Offset, enqueuedAt, enqueuedAt, record.Value.Span), state);
                }

                process.Refresh();
                var cleansed = process.TotalProcessorTime;
                var cleansedBytes = GC.GetAllocatedBytesForCurrentThread();
                for (var i = from; i < from + 1000; i++)
                {
                    if (outcomes[i - from].Row is { } row)
                    {
                        staging.Append(row);
                    }
                }

                process.Refresh();
                var staged = process.TotalProcessorTime;
                for (var i = from; i < from + 1000; i++)
                {
                    staging.AppendBronze(records[i]);
                }

                process.Refresh();
                stage += staged - cleansed;
                bronze += process.TotalProcessorTime - staged;
                cleanse += cleansed - cpu;
                stageBytes += GC.GetAllocatedBytesForCurrentThread() - cleansedBytes;
                cleanseBytes += cleansedBytes - bytes;
            }

            var buffers = staging.Seal();
            var line = $"round {round}: cleanse {Micros(cleanse, count)} µs {cleanseBytes / count:N0} B, stage silver {Micros(stage, count)} µs + bronze {Micros(bronze, count)} µs, {stageBytes / count:N0} B per event; Parquet (µs, B per event):";
            var total = cleanse + stage + bronze;
            foreach (var (schema, rows) in buffers.OrderByDescending(b => b.Value.RowCount))
            {
                using var table = new DeltaTable(lake, $"r{round}/{schema.Name}");
                await table.CreateAsync(schema);
                process.Refresh();
                var cpu = process.TotalProcessorTime;
                var before = GC.GetTotalAllocatedBytes(precise: true);
                var adds = await new DeltaFileWriter(table, schema).WriteAsync([rows], "part-p0000-o000000000000-000000199999");
                process.Refresh();
                var spent = process.TotalProcessorTime - cpu;
                total += spent;
                line += $" {schema.Name} {Micros(spent, count)} {(GC.GetTotalAllocatedBytes(precise: true) - before) / count:N0} ({adds.Sum(a => a.Size) / 1e6:N1} MB);";
            }

            output.WriteLine($"{line} all {Micros(total, count)} µs per event");
            staging.Recycle(buffers.Values);
        }
    }

    private static string Micros(TimeSpan cpu, int events) => (cpu.TotalMicroseconds / events).ToString("N2", System.Globalization.CultureInfo.InvariantCulture);
}
