using System.Text;
using System.Text.Json.Nodes;

namespace BaloyiBank.Cleansing.Tests;

/// <summary>Minimal valid payloads of every event type, as the contract writes them, and a harness around one partition.</summary>
internal static class Wire
{
    public static readonly DateTimeOffset EnqueuedAt = new(2026, 3, 1, 10, 0, 5, TimeSpan.Zero);
    public static readonly DateTimeOffset IngestedAt = new(2026, 3, 1, 10, 0, 6, TimeSpan.Zero);

    public const string Transaction =
        """{"type":"transaction.posted","schemaVersion":1,"eventId":"6f1c2a9e-0000-4000-8000-000000000001","occurredAt":"2026-03-01T10:00:00.123Z","transactionId":"TXN-000000001","accountId":"ACC-00000001","customerId":"CUS-00000001","transactionType":"card_purchase","amount":123.45,"currency":"ZAR","channel":"card","merchantCategory":"groceries","merchantName":"  Pick n Pay Rosebank ","location":{"city":"Johannesburg","country":"za","latitude":-26.2041,"longitude":28.0473}}""";

    public const string Customer =
        """{"type":"customer.registered","schemaVersion":1,"eventId":"6f1c2a9e-0000-4000-8000-000000000002","occurredAt":"2026-03-01T11:30:00+02:00","customerId":"CUS-00000002","firstName":"Thandiwe","lastName":" Baloyi ","email":"thandiwe.baloyi@example.co.za","dateOfBirth":"1990-07-15","segment":"premier","city":"Pretoria","country":"ZA"}""";

    public const string Account =
        """{"type":"account.opened","schemaVersion":1,"eventId":"6f1c2a9e-0000-4000-8000-000000000003","occurredAt":"2026-03-01T09:30:00Z","accountId":"ACC-00000002","customerId":"CUS-00000002","accountType":"credit_card","currency":"ZAR","openingBalance":0.00,"overdraftLimit":15000.00,"branch":"Menlyn"}""";

    public const string Loan =
        """{"type":"loan.disbursed","schemaVersion":1,"eventId":"6f1c2a9e-0000-4000-8000-000000000004","occurredAt":"2026-03-01T09:30:00Z","loanId":"LN-00000001","customerId":"CUS-00000001","accountId":"ACC-00000001","product":"vehicle","principal":250000.00,"currency":"ZAR","annualInterestRate":0.1175,"termMonths":60,"monthlyInstalment":5529.17,"firstDueDate":"2026-04-01"}""";

    public const string LoanPayment =
        """{"type":"loan.payment_made","schemaVersion":1,"eventId":"6f1c2a9e-0000-4000-8000-000000000005","occurredAt":"2026-03-01T09:45:00Z","paymentId":"LPM-00000001","loanId":"LN-00000001","customerId":"CUS-00000001","accountId":"ACC-00000001","amount":5529.17,"principalPortion":3081.25,"interestPortion":2447.92,"currency":"ZAR","dueDate":"2026-03-01","instalmentNumber":1}""";

    public static IReadOnlyList<string> AllTypes { get; } = [Customer, Account, Transaction, Loan, LoanPayment];

    public static byte[] Bytes(string json) => Encoding.UTF8.GetBytes(json);

    /// <summary>A template with one edit applied through the DOM (tests only: the cleanser never builds one).</summary>
    public static string Edit(string json, Action<JsonObject> edit)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        edit(node);
        return node.ToJsonString();
    }

    /// <summary>A partition that knows ACC-00000001 (ZAR) and has no watermark yet.</summary>
    public static PartitionState NewState(int partition = 0, CleansingOptions? options = null)
    {
        var state = new PartitionState(partition, options);
        state.RememberAccount("ACC-00000001", "ZAR");
        return state;
    }

    public static CleansingOutcome Run(RawEventCleanser cleanser, PartitionState state, byte[] payload, long offset = 7, DateTimeOffset? enqueuedAt = null) =>
        cleanser.Process(new RawEvent(state.Partition, offset, enqueuedAt ?? EnqueuedAt, IngestedAt, payload), state);

    public static CleansingOutcome Run(string json, PartitionState? state = null, CleansingOptions? options = null) =>
        Run(new RawEventCleanser(options), state ?? NewState(), Bytes(json));
}
