using BaloyiBank.Delta;
using BaloyiBank.EventLog;
using BaloyiBank.Generator;
using BaloyiBank.Lake;
using Xunit.Abstractions;

namespace BaloyiBank.Cleansing.Tests;

/// <summary>
/// Reports managed allocation per event of each step a flush's rows go through (cleanse, buffer, Parquet per
/// table), on fresh and on reused buffers: where issue 21's bytes per event come from. Measured, never asserted.
/// </summary>
public sealed class AllocationTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("baloyibank-alloc-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Allocation_per_event_of_each_step_is_measured()
    {
        const int count = 200_000;
        var enqueuedAt = new DateTimeOffset(2026, 11, 20, 8, 0, 0, TimeSpan.Zero);
        var records = GeneratedEvents.Records(new GeneratorOptions { InitialCustomers = 2_000 }).Take(count)
            .Select((r, i) => new LogRecord(0, i, enqueuedAt, r.Key, r.Payload, EventHeaders.Empty))
            .ToArray();
        var lake = new FolderLakeStore(_root);
        using var staging = new FeedStaging();
        var cleanser = new RawEventCleanser();
        for (var round = 0; round < 3; round++)
        {
            var state = new PartitionState(0);
            long cleanse = 0, silver = 0, bronze = 0;
            for (var i = 0; i < records.Length; i++)
            {
                var record = records[i];
                var before = GC.GetAllocatedBytesForCurrentThread();
                var outcome = cleanser.Process(new RawEvent(0, record.Offset, enqueuedAt, enqueuedAt, record.Value.Span), state);
                var cleansed = GC.GetAllocatedBytesForCurrentThread();
                if (outcome.Row is { } row)
                {
                    staging.Append(row);
                }

                var appended = GC.GetAllocatedBytesForCurrentThread();
                staging.AppendBronze(record);
                bronze += GC.GetAllocatedBytesForCurrentThread() - appended;
                silver += appended - cleansed;
                cleanse += cleansed - before;
            }

            var buffers = staging.Seal();
            var line = $"round {round}: cleanse {cleanse / (double)count:N0} B/event, silver buffers {silver / (double)count:N0}, bronze buffer {bronze / (double)count:N0}; Parquet:";
            foreach (var (schema, rows) in buffers)
            {
                using var table = new DeltaTable(lake, $"r{round}/{schema.Name}");
                await table.CreateAsync(schema);
                var before = GC.GetTotalAllocatedBytes(precise: true);
                await new DeltaFileWriter(table, schema).WriteAsync([rows], "part-p0000-o000000000000-000000199999");
                line += $" {schema.Name} {rows.RowCount:N0} rows {(GC.GetTotalAllocatedBytes(precise: true) - before) / (double)count:N0}";
            }

            output.WriteLine(line);
            staging.Recycle(buffers.Values);
        }
    }
}
