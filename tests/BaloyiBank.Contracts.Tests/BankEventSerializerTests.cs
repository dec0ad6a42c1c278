using System.Text;
using System.Text.Json;
using BaloyiBank.Contracts;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace BaloyiBank.Contracts.Tests;

public sealed class BankEventSerializerTests
{
    private static readonly DateTimeOffset At = new(2026, 3, 25, 12, 30, 15, 123, TimeSpan.Zero);

    private static readonly BankEvent[] Samples =
    [
        new CustomerRegistered
        {
            EventId = "e1", OccurredAt = At, CustomerId = "C00000001", FirstName = "Thandi", LastName = "Baloyi",
            Email = "thandi.baloyi@example.co.za", DateOfBirth = new DateOnly(1990, 5, 17), Segment = CustomerSegment.Premier,
            City = "Polokwane", Country = "ZA",
        },
        new AccountOpened
        {
            EventId = "e2", OccurredAt = At, AccountId = "A000000001", CustomerId = "C00000001", AccountType = AccountType.CreditCard,
            Currency = "ZAR", OpeningBalance = 0m, OverdraftLimit = 15000.00m, Branch = "Polokwane Central",
        },
        new TransactionPosted
        {
            EventId = "e3", OccurredAt = At, TransactionId = "T000000000001", AccountId = "A000000001", CustomerId = "C00000001",
            TransactionType = TransactionType.CardPurchase, Amount = 459.90m, Currency = "ZAR", Channel = Channel.Card,
            MerchantCategory = MerchantCategory.Groceries, MerchantName = "Checkers Mall of the North",
            Location = new GeoLocation("Polokwane", "ZA", -23.9045, 29.4689),
        },
        new LoanDisbursed
        {
            EventId = "e4", OccurredAt = At, LoanId = "L00000001", CustomerId = "C00000001", AccountId = "A000000001",
            Product = LoanProduct.Vehicle, Principal = 250000.00m, Currency = "ZAR", AnnualInterestRate = 0.1175m, TermMonths = 60,
            MonthlyInstalment = 5529.34m, FirstDueDate = new DateOnly(2026, 4, 25),
        },
        new LoanPaymentMade
        {
            EventId = "e5", OccurredAt = At, PaymentId = "P00000001", LoanId = "L00000001", CustomerId = "C00000001",
            AccountId = "A000000001", Amount = 5529.34m, PrincipalPortion = 3081.42m, InterestPortion = 2447.92m, Currency = "ZAR",
            DueDate = new DateOnly(2026, 4, 25), InstalmentNumber = 1,
        },
    ];

    public static TheoryData<BankEvent> OneOfEach() => [.. Samples];

    [Theory]
    [MemberData(nameof(OneOfEach))]
    public void Every_event_type_round_trips_to_an_equal_record(BankEvent original)
    {
        var bytes = BankEventSerializer.Serialize(original);
        var parsed = BankEventSerializer.Deserialize(bytes);
        Assert.Equal(original, parsed);
    }

    [Theory]
    [MemberData(nameof(OneOfEach))]
    public void The_wire_shape_starts_with_type_then_schema_version(BankEvent original)
    {
        var json = Encoding.UTF8.GetString(BankEventSerializer.Serialize(original));
        Assert.StartsWith("{\"type\":\"", json, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(json);
        var names = doc.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(["type", "schemaVersion", "eventId", "occurredAt"], names[..4]);
        Assert.Equal(EventTypes.CurrentSchemaVersion, doc.RootElement.GetProperty("schemaVersion").GetInt32());
        Assert.DoesNotContain("partitionKey", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Transactions_use_snake_case_enums_utc_instants_and_exact_two_place_amounts()
    {
        var json = Encoding.UTF8.GetString(BankEventSerializer.Serialize(Samples.OfType<TransactionPosted>().Single() with { Amount = 12.30m }));
        Assert.Contains("\"type\":\"transaction.posted\"", json, StringComparison.Ordinal);
        Assert.Contains("\"transactionType\":\"card_purchase\"", json, StringComparison.Ordinal);
        Assert.Contains("\"merchantCategory\":\"groceries\"", json, StringComparison.Ordinal);
        Assert.Contains("\"amount\":12.30", json, StringComparison.Ordinal);
        Assert.Contains("\"occurredAt\":\"2026-03-25T12:30:15.123Z\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public void An_instant_with_an_offset_is_read_as_the_same_utc_instant()
    {
        var json = """{"type":"customer.registered","schemaVersion":1,"eventId":"e","occurredAt":"2026-03-25T14:30:15+02:00","customerId":"C1","firstName":"A","lastName":"B","email":"a@b.c","dateOfBirth":"1990-01-01","segment":"retail","city":"Durban","country":"ZA"}""";
        var parsed = BankEventSerializer.Deserialize(Encoding.UTF8.GetBytes(json));
        Assert.Equal(new DateTimeOffset(2026, 3, 25, 12, 30, 15, TimeSpan.Zero), parsed.OccurredAt);
        Assert.Equal(TimeSpan.Zero, parsed.OccurredAt.Offset);
    }

    [Theory]
    [InlineData("""{"type":"account.closed","schemaVersion":1,"eventId":"e","occurredAt":"2026-01-01T00:00:00Z"}""")]
    [InlineData("""{"type":"transaction.posted","schemaVersion":1,"eventId":"e","occurredAt":"2026-01-01T00:00:00Z","transactionId":"T1"}""")]
    [InlineData("""{"type":"transaction.posted","schemaVersion":1,"eventId":"e","occurredAt":"2026-01-01T00:00:00Z","transactionId":"T1","accountId":"A1","customerId":"C1","transactionType":"card_purchase","amount":"12.00","currency":"ZAR","channel":"card","location":{"city":"x","country":"ZA","latitude":0,"longitude":0}}""")]
    [InlineData("""{"type":"transaction.posted""")]
    [InlineData("null")]
    public void Malformed_or_unknown_payloads_fail_with_a_json_exception(string json) =>
        Assert.ThrowsAny<JsonException>(() => BankEventSerializer.Deserialize(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void Integer_enum_values_are_rejected_so_meaning_never_depends_on_member_order()
    {
        var json = Encoding.UTF8.GetString(BankEventSerializer.Serialize(Samples[0]))
            .Replace("\"segment\":\"premier\"", "\"segment\":1", StringComparison.Ordinal);
        Assert.ThrowsAny<JsonException>(() => BankEventSerializer.Deserialize(Encoding.UTF8.GetBytes(json)));
    }

    [Fact]
    public void Any_two_place_amount_in_decimal_18_2_range_round_trips_exactly() =>
        Prop.ForAll(
            Gen.Choose(0, int.MaxValue).Two().Select(t => ((long)t.Item1 * 4_000_000_000L + t.Item2) % 100_000_000_000_000_000L).ToArbitrary(),
            Gen.Elements(TransactionType.Deposit, TransactionType.Fee, TransactionType.Interest).ToArbitrary(),
            (cents, type) =>
            {
                var amount = cents / 100m;
                var tx = Samples.OfType<TransactionPosted>().Single() with { Amount = amount, TransactionType = type };
                var back = (TransactionPosted)BankEventSerializer.Deserialize(BankEventSerializer.Serialize(tx));
                return back.Amount == amount && back.Amount.Scale == amount.Scale && back.TransactionType == type;
            }).QuickCheckThrowOnFailure();

    [Theory]
    [InlineData(TransactionType.Deposit, true)]
    [InlineData(TransactionType.TransferIn, true)]
    [InlineData(TransactionType.Interest, true)]
    [InlineData(TransactionType.Withdrawal, false)]
    [InlineData(TransactionType.CardPurchase, false)]
    [InlineData(TransactionType.TransferOut, false)]
    [InlineData(TransactionType.Fee, false)]
    public void Direction_follows_the_transaction_type(TransactionType type, bool credit) =>
        Assert.Equal(credit, TransactionTypes.IsCredit(type));
}
