using BaloyiBank.Delta;

namespace BaloyiBank.Cleansing;

// One type per silver table, one property per column (snake_case column = PascalCase property).
// Money is decimal with the table's scale, instants are UTC DateTimeOffsets cut to microseconds
// (Delta's timestamp precision), enums are their snake_case wire names.

/// <summary>A row of one silver table, with the lineage and event time every silver row carries.</summary>
public abstract record SilverRow
{
    /// <summary>The table this row belongs to (not a column).</summary>
    public abstract TableSchema Table { get; }

    public required DateTimeOffset OccurredAt { get; init; }
    public required int SourcePartition { get; init; }
    public required long SourceOffset { get; init; }
    public required DateTimeOffset EnqueuedAt { get; init; }
    public required DateTimeOffset IngestedAt { get; init; }
    public required int SchemaVersion { get; init; }
}

public sealed record TransactionRow : SilverRow
{
    public override TableSchema Table => SilverTables.Transactions;

    public required string TransactionId { get; init; }
    public required string EventId { get; init; }
    public required string AccountId { get; init; }
    public required string CustomerId { get; init; }
    public required string TransactionType { get; init; }
    /// <summary><c>credit</c> or <c>debit</c>, from the transaction type.</summary>
    public required string Direction { get; init; }
    /// <summary>The positive magnitude, as on the wire.</summary>
    public required decimal Amount { get; init; }
    /// <summary>Negative for debits: what the movement does to the balance.</summary>
    public required decimal SignedAmount { get; init; }
    public required string Currency { get; init; }
    public required string Channel { get; init; }
    public string? MerchantCategory { get; init; }
    public string? MerchantName { get; init; }
    public string? Counterparty { get; init; }
    public string? Reference { get; init; }
    public required string City { get; init; }
    public required string Country { get; init; }
    public required double Latitude { get; init; }
    public required double Longitude { get; init; }
    /// <summary>The UTC date of <see cref="SilverRow.OccurredAt"/> (the partition column).</summary>
    public required DateOnly EventDate { get; init; }
}

public sealed record CustomerRow : SilverRow
{
    public override TableSchema Table => SilverTables.Customers;

    public required string CustomerId { get; init; }
    public required string EventId { get; init; }
    public required string FirstName { get; init; }
    public required string LastName { get; init; }
    public required string Email { get; init; }
    public required DateOnly DateOfBirth { get; init; }
    public required string Segment { get; init; }
    public required string City { get; init; }
    public required string Country { get; init; }
}

public sealed record AccountRow : SilverRow
{
    public override TableSchema Table => SilverTables.Accounts;

    public required string AccountId { get; init; }
    public required string EventId { get; init; }
    public required string CustomerId { get; init; }
    public required string AccountType { get; init; }
    public required string Currency { get; init; }
    public required decimal OpeningBalance { get; init; }
    public required decimal OverdraftLimit { get; init; }
    public required string Branch { get; init; }
}

public sealed record LoanRow : SilverRow
{
    public override TableSchema Table => SilverTables.Loans;

    public required string LoanId { get; init; }
    public required string EventId { get; init; }
    public required string CustomerId { get; init; }
    public required string AccountId { get; init; }
    public required string Product { get; init; }
    public required decimal Principal { get; init; }
    public required string Currency { get; init; }
    public required decimal AnnualInterestRate { get; init; }
    public required int TermMonths { get; init; }
    public required decimal MonthlyInstalment { get; init; }
    public required DateOnly FirstDueDate { get; init; }
}

public sealed record LoanPaymentRow : SilverRow
{
    public override TableSchema Table => SilverTables.LoanPayments;

    public required string PaymentId { get; init; }
    public required string EventId { get; init; }
    public required string LoanId { get; init; }
    public required string CustomerId { get; init; }
    public required string AccountId { get; init; }
    public required decimal Amount { get; init; }
    public required decimal PrincipalPortion { get; init; }
    public required decimal InterestPortion { get; init; }
    public required string Currency { get; init; }
    public required DateOnly DueDate { get; init; }
    public required int InstalmentNumber { get; init; }
    public required DateOnly EventDate { get; init; }
}

/// <summary>A quarantined event: why, and its raw bytes (cut to the payload limit) for a later fix and replay.</summary>
public sealed record QuarantineRow
{
    public required int SourcePartition { get; init; }
    public required long SourceOffset { get; init; }
    public required DateTimeOffset EnqueuedAt { get; init; }
    public required DateTimeOffset IngestedAt { get; init; }
    public required string Reason { get; init; }
    public required string Detail { get; init; }
    public string? EventType { get; init; }
    public required ReadOnlyMemory<byte> Payload { get; init; }
    /// <summary>The full payload length, also when <see cref="Payload"/> was cut.</summary>
    public required long PayloadBytes { get; init; }
    public required DateOnly IngestDate { get; init; }

    /// <summary>The row for a quarantined outcome; copies the payload (the log's buffer is not ours to keep).</summary>
    public static QuarantineRow From(in RawEvent raw, in CleansingOutcome outcome, int maxPayloadBytes)
    {
        if (outcome.Kind != OutcomeKind.Quarantined)
        {
            throw new ArgumentException($"Only quarantined outcomes have a quarantine row (got {outcome.Kind}).", nameof(outcome));
        }

        var payload = raw.Payload;
        return new QuarantineRow
        {
            SourcePartition = raw.Partition,
            SourceOffset = raw.Offset,
            EnqueuedAt = raw.EnqueuedAt,
            IngestedAt = raw.IngestedAt,
            Reason = outcome.Reason!,
            Detail = outcome.Detail!,
            EventType = outcome.EventType,
            Payload = payload[..Math.Min(payload.Length, maxPayloadBytes)].ToArray(),
            PayloadBytes = payload.Length,
            IngestDate = DateOnly.FromDateTime(raw.IngestedAt.UtcDateTime),
        };
    }
}
