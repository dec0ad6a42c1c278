using BaloyiBank.EventLog.Embedded;

namespace BaloyiBank.Backfill.Tests;

/// <summary>
/// Acceptance 1 of issue 19: export-csv of a generated bank, backfill into an empty data folder, the pipeline without
/// the generator: the warehouse's balances equal the pipeline's run straight from the generator with the same seed;
/// a second backfill (and pipeline run) changes nothing in the log, silver, gold or the warehouse.
/// </summary>
public sealed class RoundTripTests
{
    private static readonly string[] SilverTables =
        ["silver/customers", "silver/accounts", "silver/transactions", "silver/loans", "silver/loan_payments", "silver/quarantine", "silver/_cleansing_batches"];

    private static readonly string[] GoldTables =
    [
        "gold/account_balances", "gold/customer_positions", "gold/daily_transaction_summary", "gold/loan_status",
        "gold/changes/account_balances", "gold/changes/customer_positions", "gold/changes/daily_transaction_summary", "gold/changes/loan_status",
    ];

    [Fact]
    public async Task Export_backfill_and_the_pipeline_give_the_generators_balances_and_a_second_backfill_changes_nothing()
    {
        using var scratch = new Scratch();
        // A small bank on a faster simulated clock: 20k events reach the first morning's loan instalments. (Much slower
        // clocks leave partitions quiet for hours of event time that are enqueued within a second, which cleansing's
        // watermark rule reads as future events, in the direct run as much as here.)
        Environment.SetEnvironmentVariable("Generator__InitialCustomers", "1000");
        Environment.SetEnvironmentVariable("Generator__EventsPerSimulatedDay", "50000");
        try
        {
            var direct = scratch.Sub("direct");
            var csv = scratch.Sub("csv");
            var backfilled = scratch.Sub("backfilled");
            await Baloyi.RunAsync("run", "--data", direct, "--events", "20000", "--seed", "7");
            await Baloyi.RunAsync("export-csv", "--to", csv, "--events", "20000", "--seed", "7");
            Assert.True(File.ReadLines(Path.Combine(csv, "loan_payments.csv")).Count() > 1, "the export holds no loan payments");

            await Baloyi.RunAsync("backfill", "--from", csv, "--data", backfilled);
            await Baloyi.RunAsync("run", "--no-generator", "--data", backfilled);

            var expected = Lakehouse.WarehouseBalances(direct);
            Assert.NotEmpty(expected);
            Assert.Equal(expected, Lakehouse.WarehouseBalances(backfilled));
            // The same silver facts, whatever their lineage (offsets and ingest times differ).
            const string Facts = "transaction_id, account_id, transaction_type, amount, currency, occurred_at, merchant_category, city, country, latitude, longitude";
            Assert.Equal(await Lakehouse.RowsAsync(direct, "silver/transactions", Facts), await Lakehouse.RowsAsync(backfilled, "silver/transactions", Facts));
            var payments = await Lakehouse.RowsAsync(direct, "silver/loan_payments", "payment_id, amount");
            Assert.NotEmpty(payments);
            Assert.Equal(payments, await Lakehouse.RowsAsync(backfilled, "silver/loan_payments", "payment_id, amount"));
            Assert.Empty(await Lakehouse.RowsAsync(backfilled, "silver/quarantine", "reason"));

            var before = await StateAsync(backfilled);
            await Baloyi.RunAsync("backfill", "--from", csv, "--data", backfilled);
            await Baloyi.RunAsync("run", "--no-generator", "--data", backfilled);
            var after = await StateAsync(backfilled);
            Assert.Equal(before.Log, after.Log);
            Assert.Equal(before.Versions, after.Versions);
            Assert.Equal(before.Warehouse, after.Warehouse);
        }
        finally
        {
            Environment.SetEnvironmentVariable("Generator__InitialCustomers", null);
            Environment.SetEnvironmentVariable("Generator__EventsPerSimulatedDay", null);
        }
    }

    private static async Task<(string Log, string Versions, IReadOnlyList<string> Warehouse)> StateAsync(string data)
    {
        string log;
        await using (var opened = EmbeddedEventLog.OpenExisting(Path.Combine(data, "log")))
        {
            log = string.Join(' ', (await opened.DescribeAsync()).Select(p => $"{p.Partition}:{p.FirstOffset}-{p.NextOffset}"));
        }

        var versions = new List<string>();
        foreach (var table in SilverTables.Concat(GoldTables))
        {
            versions.Add($"{table}@{await Lakehouse.VersionAsync(data, table)}");
        }

        var warehouse = new List<string>();
        foreach (var table in new[] { "account_balances", "customer_positions", "daily_transaction_summary", "loan_status" })
        {
            warehouse.AddRange(Lakehouse.WarehouseTable(data, table).Select(row => table + "|" + row));
        }

        return (log, string.Join(' ', versions), warehouse);
    }
}
