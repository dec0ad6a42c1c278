using System.Text.Json;
using System.Text.Unicode;
using BaloyiBank.EventLog;

namespace BaloyiBank.Generator.Tests;

/// <summary>
/// An independent reader of the generated stream: classifies each payload from its bytes alone
/// (as a downstream cleanser would) and checks the invariants clean data must keep. Knows nothing
/// of the generator's internals.
/// </summary>
internal sealed class StreamAudit(int partitions)
{
    private static readonly HashSet<string> Iso4217 =
    [
        "ZAR", "USD", "EUR", "GBP", "BWP", "NAD", "JPY", "CHF", "CNY", "AUD", "CAD", "KES", "MZN", "ZMW", "ZWG",
        "LSL", "SZL", "MUR", "NGN", "INR", "AED", "SAR", "XAU", "XXX", "XTS",
    ];

    private static readonly string[] RequiredTransactionFields = ["amount", "accountId", "currency", "occurredAt", "transactionId"];

    private readonly Dictionary<string, AccountState> _accounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ulong> _validTransactions = new(StringComparer.Ordinal);
    private readonly long[] _byKind = new long[EventKinds.All.Count];
    private DateTimeOffset _onTime = DateTimeOffset.MinValue;

    public long Count(EventKind kind) => _byKind[(int)kind];

    public long TransactionRecords { get; private set; }

    public List<string> Violations { get; } = [];

    public EventKind Classify(long sequence, string key, ReadOnlySpan<byte> payload)
    {
        var kind = ClassifyCore(sequence, key, payload);
        _byKind[(int)kind]++;
        return kind;
    }

    private EventKind ClassifyCore(long sequence, string key, ReadOnlySpan<byte> payload)
    {
        if (!Utf8.IsValid(payload))
        {
            TransactionRecords++;
            return EventKind.MalformedJson;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(payload.ToArray());
        }
        catch (JsonException)
        {
            TransactionRecords++;
            return EventKind.MalformedJson;
        }

        using (document)
        {
            var root = document.RootElement;
            var type = root.GetProperty("type").GetString();
            if (type != "transaction.posted")
            {
                var at = root.GetProperty("occurredAt").GetDateTimeOffset();
                Require(at >= _onTime, sequence, $"reference event {type} goes back in time ({at:O} < {_onTime:O})");
                _onTime = at;
                if (type == "account.opened")
                {
                    var id = root.GetProperty("accountId").GetString()!;
                    Require(key == id, sequence, "account.opened keyed by its account id");
                    _accounts[id] = new AccountState(
                        KeyPartitioner.PartitionFor(key, partitions),
                        root.GetProperty("openingBalance").GetDecimal(),
                        root.GetProperty("overdraftLimit").GetDecimal());
                }

                return EventKind.Clean;
            }

            TransactionRecords++;
            var eventId = root.GetProperty("eventId").GetString()!;
            var fingerprint = Fnv1a(payload);
            if (_validTransactions.TryGetValue(eventId, out var earlier))
            {
                Require(earlier == fingerprint, sequence, "a re-sent event id must carry the exact same bytes");
                return EventKind.Duplicate;
            }

            foreach (var field in RequiredTransactionFields)
            {
                if (!root.TryGetProperty(field, out _))
                {
                    return EventKind.MissingField;
                }
            }

            if (!Iso4217.Contains(root.GetProperty("currency").GetString()!))
            {
                return EventKind.UnknownCurrency;
            }

            var amount = root.GetProperty("amount").GetDecimal();
            if (amount <= 0)
            {
                return EventKind.NonPositiveAmount;
            }

            var accountId = root.GetProperty("accountId").GetString()!;
            if (!_accounts.TryGetValue(accountId, out var account))
            {
                return EventKind.UnknownAccount;
            }

            var occurredAt = root.GetProperty("occurredAt").GetDateTimeOffset();
            if (occurredAt > _onTime.AddHours(12))
            {
                return EventKind.FutureTimestamp;
            }

            // A valid transaction: check what clean data promises.
            var kind = occurredAt < _onTime ? EventKind.Late : EventKind.Clean;
            if (kind == EventKind.Clean)
            {
                _onTime = occurredAt;
            }

            Require(key == accountId, sequence, "transactions are keyed by their account id");
            Require(KeyPartitioner.PartitionFor(key, partitions) == account.Partition, sequence, "transaction on the partition of its account.opened");
            Require(amount.Scale <= 2 && decimal.Round(amount, 2) == amount, sequence, $"amount {amount} has more than two decimals");
            var credit = root.GetProperty("transactionType").GetString() is "deposit" or "transfer_in" or "interest";
            account.Balance += credit ? amount : -amount;
            Require(account.Balance >= -account.Overdraft, sequence,
                $"account {accountId} at {account.Balance} is below its overdraft {account.Overdraft}");
            _validTransactions[eventId] = fingerprint;
            return kind;
        }
    }

    private void Require(bool ok, long sequence, string what)
    {
        if (!ok && Violations.Count < 20)
        {
            Violations.Add($"seq {sequence}: {what}");
        }
    }

    private static ulong Fnv1a(ReadOnlySpan<byte> bytes)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return hash;
    }

    private sealed class AccountState(int partition, decimal opening, decimal overdraft)
    {
        public int Partition { get; } = partition;
        public decimal Balance { get; set; } = opening;
        public decimal Overdraft { get; } = overdraft;
    }
}
