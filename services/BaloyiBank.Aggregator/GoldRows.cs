namespace BaloyiBank.Aggregator;

// One record per gold table, one property per column (snake_case column = PascalCase property), in column
// order. GoldVersion and UpdatedAt are lineage: equal business content compares equal with them cleared.

/// <summary>A row of <c>account_balances</c>. Reference columns are null until the account's opening is folded.</summary>
public sealed record AccountBalance
{
    public required string AccountId { get; init; }
    public string? CustomerId { get; init; }
    public string? AccountType { get; init; }
    public required string Currency { get; init; }
    public decimal? OpeningBalance { get; init; }
    public decimal? OverdraftLimit { get; init; }
    /// <summary>opening balance (0 while unknown) + credits − debits.</summary>
    public required decimal Balance { get; init; }
    /// <summary>balance + overdraft limit (0 while unknown).</summary>
    public required decimal AvailableBalance { get; init; }
    public required long TransactionCount { get; init; }
    public required decimal TotalCredits { get; init; }
    public required decimal TotalDebits { get; init; }
    public DateTimeOffset? FirstTransactionAt { get; init; }
    public DateTimeOffset? LastTransactionAt { get; init; }
    public DateTimeOffset? OpenedAt { get; init; }
    public required int SourcePartition { get; init; }
    public long? OpenedSourceOffset { get; init; }
    /// <summary>The highest log offset of any silver row of this account folded in: the last silver position applied.</summary>
    public required long LastSourceOffset { get; init; }
    public long GoldVersion { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>A row of <c>customer_positions</c>: one customer in one currency.</summary>
public sealed record CustomerPosition
{
    public required string CustomerId { get; init; }
    public required string Currency { get; init; }
    public string? FirstName { get; init; }
    public string? LastName { get; init; }
    public string? Segment { get; init; }
    public string? City { get; init; }
    public string? Country { get; init; }
    public required int Accounts { get; init; }
    /// <summary>The sum of the balances of the customer's accounts in this currency (negative when overdrawn).</summary>
    public required decimal Deposits { get; init; }
    public required int Loans { get; init; }
    public required decimal LoanPrincipal { get; init; }
    public required decimal LoanPrincipalRepaid { get; init; }
    /// <summary>Principal disbursed − principal repaid (interest is tracked separately).</summary>
    public required decimal LoansOutstanding { get; init; }
    public required decimal LoanInterestPaid { get; init; }
    /// <summary>Deposits − loans outstanding.</summary>
    public required decimal NetPosition { get; init; }
    public DateTimeOffset? LastActivityAt { get; init; }
    public long GoldVersion { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>A row of <c>daily_transaction_summary</c>.</summary>
public sealed record DailySummary
{
    public required DateOnly EventDate { get; init; }
    public required string Category { get; init; }
    public required string Country { get; init; }
    public required string City { get; init; }
    public required string Currency { get; init; }
    public required long TransactionCount { get; init; }
    /// <summary>The sum of the (positive) amounts.</summary>
    public required decimal TotalAmount { get; init; }
    /// <summary>Credits − debits.</summary>
    public required decimal NetAmount { get; init; }
    /// <summary>total / count, rounded half away from zero to the cent.</summary>
    public required decimal AvgAmount { get; init; }
    public required decimal MinAmount { get; init; }
    public required decimal MaxAmount { get; init; }
    public required long DistinctAccounts { get; init; }
    /// <summary>Σ round(latitude × 10^6) over the bucket's transactions: the centroid is this / count / 10^6.</summary>
    public long LatitudeMicroSum { get; init; }
    /// <summary>Σ round(longitude × 10^6) over the bucket's transactions.</summary>
    public long LongitudeMicroSum { get; init; }
    public long GoldVersion { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }

    public DailyKey Key => new(EventDate, Category, Country, City, Currency);
}

/// <summary>A row of <c>loan_status</c>. Terms are null until the disbursement is folded.</summary>
public sealed record LoanStatusRow
{
    public required string LoanId { get; init; }
    public string? CustomerId { get; init; }
    public string? AccountId { get; init; }
    public string? Product { get; init; }
    public string? Currency { get; init; }
    public decimal? Principal { get; init; }
    public decimal? AnnualInterestRate { get; init; }
    public int? TermMonths { get; init; }
    public decimal? MonthlyInstalment { get; init; }
    public DateOnly? FirstDueDate { get; init; }
    public DateTimeOffset? DisbursedAt { get; init; }
    public required long InstalmentsPaid { get; init; }
    public required decimal PaidToDate { get; init; }
    public required decimal PrincipalRepaid { get; init; }
    public required decimal InterestPaid { get; init; }
    /// <summary>Principal − principal repaid; null while the principal is unknown.</summary>
    public decimal? Outstanding { get; init; }
    public DateTimeOffset? LastPaymentAt { get; init; }
    /// <summary>first due date + instalments paid months; null once every instalment is paid or the terms are unknown.</summary>
    public DateOnly? NextDueDate { get; init; }
    /// <summary>Days from the next due date to <see cref="AsOfDate"/> when positive, else 0; null without a next due date.</summary>
    public int? DaysPastDue { get; init; }
    /// <summary>The UTC date of the latest event time in everything folded (the data's own clock, so a replay agrees).</summary>
    public DateOnly? AsOfDate { get; init; }
    public required int SourcePartition { get; init; }
    public long? DisbursedSourceOffset { get; init; }
    public required long LastSourceOffset { get; init; }
    public long GoldVersion { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>Everything one gold round changed, stamped with its version.</summary>
public sealed record GoldChangeSet(
    long GoldVersion,
    IReadOnlyList<AccountBalance> Accounts,
    IReadOnlyList<CustomerPosition> Customers,
    IReadOnlyList<DailySummary> Daily,
    IReadOnlyList<LoanStatusRow> Loans)
{
    public long TotalRows => Accounts.Count + Customers.Count + Daily.Count + Loans.Count;

    /// <summary>Changed rows per business table name.</summary>
    public IReadOnlyDictionary<string, long> RowsByTable => new Dictionary<string, long>
    {
        [GoldTables.AccountBalances.Name] = Accounts.Count,
        [GoldTables.CustomerPositions.Name] = Customers.Count,
        [GoldTables.DailyTransactionSummary.Name] = Daily.Count,
        [GoldTables.LoanStatus.Name] = Loans.Count,
    };
}
