namespace BaloyiBank.Aggregator;

// What the fold takes in: the columns of the silver rows that gold depends on, with the row's position in
// the log (source partition, offset). Money is decimal with two places, as in silver.

/// <summary>A silver <c>transactions</c> row.</summary>
public readonly record struct TransactionFact(
    string AccountId,
    string TransactionType,
    bool IsCredit,
    decimal Amount,
    string Currency,
    string? MerchantCategory,
    string City,
    string Country,
    DateTimeOffset OccurredAt,
    int SourcePartition,
    long SourceOffset,
    double Latitude = 0,
    double Longitude = 0)
{
    /// <summary>The daily summary's category: the merchant category of a card purchase, else the transaction type.</summary>
    public string Category => MerchantCategory ?? TransactionType;

    /// <summary>Silver's <c>event_date</c>: the UTC date of the fact.</summary>
    public DateOnly EventDate => DateOnly.FromDateTime(OccurredAt.UtcDateTime);
}

/// <summary>A silver <c>accounts</c> row (the account's opening).</summary>
public sealed record AccountFact(
    string AccountId,
    string CustomerId,
    string AccountType,
    string Currency,
    decimal OpeningBalance,
    decimal OverdraftLimit,
    DateTimeOffset OpenedAt,
    int SourcePartition,
    long SourceOffset);

/// <summary>A silver <c>customers</c> row (the customer's registration).</summary>
public sealed record CustomerFact(
    string CustomerId,
    string FirstName,
    string LastName,
    string Segment,
    string City,
    string Country,
    DateTimeOffset RegisteredAt,
    int SourcePartition,
    long SourceOffset);

/// <summary>A silver <c>loans</c> row (a disbursement with its terms).</summary>
public sealed record LoanFact(
    string LoanId,
    string CustomerId,
    string AccountId,
    string Product,
    decimal Principal,
    string Currency,
    decimal AnnualInterestRate,
    int TermMonths,
    decimal MonthlyInstalment,
    DateOnly FirstDueDate,
    DateTimeOffset DisbursedAt,
    int SourcePartition,
    long SourceOffset);

/// <summary>A silver <c>loan_payments</c> row (one instalment, split into principal and interest).</summary>
public readonly record struct LoanPaymentFact(
    string LoanId,
    decimal Amount,
    decimal PrincipalPortion,
    decimal InterestPortion,
    DateTimeOffset OccurredAt,
    int SourcePartition,
    long SourceOffset);

/// <summary>
/// A silver <c>transactions</c> row with its account and daily bucket dictionary-encoded as a <see cref="GoldFold"/>'s
/// slots (<see cref="GoldFold.EncodeAccount"/>, <see cref="GoldFold.EncodeBucket"/>), money as whole cents and its time
/// as microseconds since the Unix epoch, its place as micro-degrees (<see cref="Units.MicroDegrees"/>): what the fold's hot loop takes.
/// </summary>
public readonly record struct EncodedTransaction(int Account, int Bucket, long Cents, bool IsCredit, long OccurredAtMicros, int SourcePartition, long SourceOffset,
    int LatitudeMicro, int LongitudeMicro);

/// <summary>The key of a daily summary row.</summary>
public readonly record struct DailyKey(DateOnly EventDate, string Category, string Country, string City, string Currency);
