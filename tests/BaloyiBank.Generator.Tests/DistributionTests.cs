using System.Text.Json;
using Xunit;

namespace BaloyiBank.Generator.Tests;

/// <summary>
/// Does the stream look like a bank? Forty simulated days (a payday included) at a low pace,
/// read back from the payloads, in South African time.
/// </summary>
public sealed class DistributionTests
{
    private static readonly TimeSpan Sast = TimeSpan.FromHours(2);

    private static readonly Lazy<List<Row>> Rows = new(() =>
    {
        var options = new GeneratorOptions { InitialCustomers = 400, EventsPerSimulatedDay = 5_000 };
        var rows = new List<Row>();
        foreach (var record in GeneratedEvents.Records(options).Take(200_000))
        {
            if (record.Kind is not (EventKind.Clean or EventKind.Late))
            {
                continue;
            }

            using var document = JsonDocument.Parse(record.Payload);
            var root = document.RootElement;
            var at = root.GetProperty("occurredAt").GetDateTimeOffset().ToOffset(Sast);
            string? Text(string name) => root.TryGetProperty(name, out var value) ? value.ToString() : null;
            rows.Add(new Row(
                record.Kind, Text("type")!, at, Text("transactionType"), Text("currency"), Text("merchantCategory"),
                root.TryGetProperty("amount", out var amount) ? amount.GetDecimal() : 0m, Text("reference"), Text("customerId"),
                root.TryGetProperty("location", out var location) ? location.GetProperty("city").GetString() : Text("city"),
                root.TryGetProperty("location", out var l2) ? l2.GetProperty("country").GetString() : Text("country")));
        }

        return rows;
    });

    private static IEnumerable<Row> Transactions => Rows.Value.Where(r => r.Type == "transaction.posted" && r.Kind == EventKind.Clean);

    // Customer-driven activity (system postings such as salaries and fees run on their own schedule).
    private static IEnumerable<Row> Activity => Transactions.Where(r => r.Reference is null || !r.Reference.Contains(' ', StringComparison.Ordinal) || r.Reference.StartsWith("CARD", StringComparison.Ordinal));

    [Fact]
    public void Lunch_is_busier_than_the_small_hours_and_evenings_peak_too()
    {
        var byHour = new int[24];
        foreach (var row in Activity)
        {
            byHour[row.At.Hour]++;
        }

        Assert.True(byHour[12] > 8 * byHour[2], $"12:00 {byHour[12]} vs 02:00 {byHour[2]}");
        Assert.True(byHour[18] > 2 * byHour[22], $"18:00 {byHour[18]} vs 22:00 {byHour[22]}");
        Assert.True(byHour[12] > byHour[15] && byHour[18] > byHour[15], "peaks at lunch and early evening");
    }

    [Fact]
    public void Friday_and_Saturday_are_busier_than_Sunday_and_payday_spikes()
    {
        var byDate = Activity.GroupBy(r => DateOnly.FromDateTime(r.At.DateTime)).ToDictionary(g => g.Key, g => g.Count());
        double Mean(Func<DateOnly, bool> which) => byDate.Where(p => which(p.Key) && p.Key.Day != 25 && p.Key.Day != 26).Average(p => p.Value);
        var friSat = Mean(d => d.DayOfWeek is DayOfWeek.Friday or DayOfWeek.Saturday);
        var sunday = Mean(d => d.DayOfWeek is DayOfWeek.Sunday);
        var ordinary = Mean(_ => true);
        Assert.True(friSat > 1.4 * sunday, $"Fri/Sat {friSat:F0} vs Sunday {sunday:F0}");

        // 25 January 2026 is a Sunday: busier than any day of the week all the same, and twice an ordinary Sunday.
        var payday = byDate[new DateOnly(2026, 1, 25)];
        Assert.True(payday > 1.3 * ordinary, $"25 January {payday} vs an ordinary day {ordinary:F0}");
        Assert.True(payday > 1.8 * sunday, $"25 January {payday} vs an ordinary Sunday {sunday:F0}");

        var salaries = Transactions.Where(r => r.Reference?.StartsWith("SALARY", StringComparison.Ordinal) == true).ToList();
        Assert.NotEmpty(salaries);
        Assert.All(salaries, s => Assert.Equal(25, s.At.Day));
    }

    [Fact]
    public void Money_is_mostly_rand_and_spent_mostly_at_home()
    {
        var transactions = Transactions.ToList();
        var zar = transactions.Count(r => r.Currency == "ZAR") / (double)transactions.Count;
        Assert.InRange(zar, 0.7, 0.95);
        Assert.Contains(transactions, r => r.Currency == "USD");
        Assert.Contains(transactions, r => r.Currency is "BWP" or "NAD");

        var home = Rows.Value.Where(r => r.Type == "customer.registered").ToDictionary(r => r.CustomerId!, r => r.City);
        var purchases = transactions.Where(r => r.TransactionType == "card_purchase").ToList();
        var atHome = purchases.Count(r => home[r.CustomerId!] == r.City) / (double)purchases.Count;
        var abroad = purchases.Count(r => r.Country != "ZA" && r.Country != "BW" && r.Country != "NA") / (double)purchases.Count;
        Assert.InRange(atHome, 0.75, 0.95);
        Assert.InRange(abroad, 0.005, 0.08);
    }

    [Fact]
    public void Amounts_are_log_normal_per_merchant_category()
    {
        var rand = Transactions.Where(r => r.Currency == "ZAR" && r.TransactionType == "card_purchase").ToList();
        decimal Median(string category)
        {
            var amounts = rand.Where(r => r.Category == category).Select(r => r.Amount).Order().ToList();
            return amounts[amounts.Count / 2];
        }

        Assert.InRange(Median("groceries"), 150m, 700m);
        Assert.InRange(Median("transport"), 15m, 120m);
        Assert.True(Median("electronics") > 3 * Median("restaurants"));
        var groceries = rand.Where(r => r.Category == "groceries").Select(r => (double)r.Amount).ToList();
        var logs = groceries.Select(a => Math.Log(a)).ToList();
        var mean = logs.Average();
        var sd = Math.Sqrt(logs.Average(l => (l - mean) * (l - mean)));
        Assert.InRange(sd, 0.5, 1.1);
        Assert.True(groceries.Average() > groceries.Order().ElementAt(groceries.Count / 2), "right-skewed");
    }

    [Fact]
    public void Card_purchases_dominate_and_every_type_of_event_occurs()
    {
        var transactions = Transactions.ToList();
        var purchases = transactions.Count(r => r.TransactionType == "card_purchase") / (double)transactions.Count;
        Assert.InRange(purchases, 0.4, 0.75);
        foreach (var type in new[] { "deposit", "withdrawal", "card_purchase", "transfer_in", "transfer_out", "fee", "interest" })
        {
            Assert.Contains(transactions, r => r.TransactionType == type);
        }

        foreach (var type in new[] { "customer.registered", "account.opened", "loan.disbursed", "loan.payment_made" })
        {
            Assert.Contains(Rows.Value, r => r.Type == type);
        }

        Assert.Contains(Rows.Value, r => r.Kind == EventKind.Late);
    }

    private sealed record Row(
        EventKind Kind, string Type, DateTimeOffset At, string? TransactionType, string? Currency, string? Category,
        decimal Amount, string? Reference, string? CustomerId, string? City, string? Country);
}
