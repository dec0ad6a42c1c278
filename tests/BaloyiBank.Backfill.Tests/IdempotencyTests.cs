using BaloyiBank.Cli.Backfill;
using BaloyiBank.EventLog.Embedded;

namespace BaloyiBank.Backfill.Tests;

public sealed class IdempotencyTests
{
    [Fact]
    public async Task A_second_backfill_appends_nothing_even_when_a_partition_holds_a_single_record()
    {
        using var scratch = new Scratch();
        var csv = Directory.CreateDirectory(scratch.Sub("csv")).FullName;
        foreach (var layout in CsvLayouts.All)
        {
            await File.WriteAllTextAsync(Path.Combine(csv, layout.FileName), layout.Header + "\n");
        }

        await File.AppendAllTextAsync(Path.Combine(csv, "customers.csv"), "CUS-1,2026-01-01T09:00:00Z,Thandi,Nkosi,thandi@example.com,1990-04-01,retail,Durban,ZA\n");
        var data = scratch.Sub("data");
        await Baloyi.RunAsync("backfill", "--from", csv, "--data", data);
        await Baloyi.RunAsync("backfill", "--from", csv, "--data", data);

        await using var log = EmbeddedEventLog.OpenExisting(Path.Combine(data, "log"));
        Assert.Equal(1, (await log.DescribeAsync()).Sum(p => p.NextOffset - p.FirstOffset));
    }
}
