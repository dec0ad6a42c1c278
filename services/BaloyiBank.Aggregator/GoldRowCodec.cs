using BaloyiBank.Delta;

namespace BaloyiBank.Aggregator;

/// <summary>Gold rows to column buffers (schema column order) for the Parquet writer, and back from column chunks a reader returns.</summary>
internal static class GoldRowCodec
{
    /// <summary>The schema's columns, quoted, in order: the SELECT list the readers below expect.</summary>
    public static string ColumnList(TableSchema schema) => string.Join(", ", schema.Columns.Select(c => $"\"{c.Name}\""));

    /// <summary>The rows of <paramref name="schema"/> in <paramref name="changes"/>, sealed, ready for <see cref="DeltaFileWriter"/>.</summary>
    public static ColumnBuffer Rows(TableSchema schema, GoldChangeSet changes)
    {
        var appender = new ColumnBuffer(schema);
        switch (schema.Name)
        {
            case "account_balances":
                foreach (var r in changes.Accounts)
                {
                    appender.Append(r.AccountId).Append(r.CustomerId).Append(r.AccountType).Append(r.Currency).Append(r.OpeningBalance).Append(r.OverdraftLimit)
                        .Append(r.Balance).Append(r.AvailableBalance).Append(r.TransactionCount).Append(r.TotalCredits).Append(r.TotalDebits)
                        .Append(r.FirstTransactionAt).Append(r.LastTransactionAt).Append(r.OpenedAt).Append(r.SourcePartition).Append(r.OpenedSourceOffset)
                        .Append(r.LastSourceOffset).Append(r.GoldVersion).Append(r.UpdatedAt).EndRow();
                }

                break;
            case "customer_positions":
                foreach (var r in changes.Customers)
                {
                    appender.Append(r.CustomerId).Append(r.Currency).Append(r.FirstName).Append(r.LastName).Append(r.Segment).Append(r.City).Append(r.Country)
                        .Append(r.Accounts).Append(r.Deposits).Append(r.Loans).Append(r.LoanPrincipal).Append(r.LoanPrincipalRepaid).Append(r.LoansOutstanding)
                        .Append(r.LoanInterestPaid).Append(r.NetPosition).Append(r.LastActivityAt).Append(r.GoldVersion).Append(r.UpdatedAt).EndRow();
                }

                break;
            case "daily_transaction_summary":
                foreach (var r in changes.Daily)
                {
                    appender.Append(r.EventDate).Append(r.Category).Append(r.Country).Append(r.City).Append(r.Currency).Append(r.TransactionCount)
                        .Append(r.TotalAmount).Append(r.NetAmount).Append(r.AvgAmount).Append(r.MinAmount).Append(r.MaxAmount).Append(r.DistinctAccounts)
                        .Append(r.LatitudeMicroSum).Append(r.LongitudeMicroSum).Append(r.GoldVersion).Append(r.UpdatedAt).EndRow();
                }

                break;
            case "loan_status":
                foreach (var r in changes.Loans)
                {
                    appender.Append(r.LoanId).Append(r.CustomerId).Append(r.AccountId).Append(r.Product).Append(r.Currency).Append(r.Principal)
                        .Append(r.AnnualInterestRate).Append(r.TermMonths).Append(r.MonthlyInstalment).Append(r.FirstDueDate).Append(r.DisbursedAt)
                        .Append(r.InstalmentsPaid).Append(r.PaidToDate).Append(r.PrincipalRepaid).Append(r.InterestPaid).Append(r.Outstanding)
                        .Append(r.LastPaymentAt).Append(r.NextDueDate).Append(r.DaysPastDue).Append(r.AsOfDate).Append(r.SourcePartition)
                        .Append(r.DisbursedSourceOffset).Append(r.LastSourceOffset).Append(r.GoldVersion).Append(r.UpdatedAt).EndRow();
                }

                break;
            default:
                throw new ArgumentException($"'{schema.Name}' is not a gold table.", nameof(schema));
        }

        appender.Seal();
        return appender;
    }

    public static int RowCount(TableSchema schema, GoldChangeSet changes) => schema.Name switch
    {
        "account_balances" => changes.Accounts.Count,
        "customer_positions" => changes.Customers.Count,
        "daily_transaction_summary" => changes.Daily.Count,
        "loan_status" => changes.Loans.Count,
        _ => throw new ArgumentException($"'{schema.Name}' is not a gold table.", nameof(schema)),
    };

    public static AccountBalance ReadAccount(ColumnChunk c, int r) => new()
    {
        AccountId = c.Strings("account_id")[r]!,
        CustomerId = c.Strings("customer_id")[r],
        AccountType = c.Strings("account_type")[r],
        Currency = c.Strings("currency")[r]!,
        OpeningBalance = Value<decimal>(c, "opening_balance", r),
        OverdraftLimit = Value<decimal>(c, "overdraft_limit", r),
        Balance = Value<decimal>(c, "balance", r)!.Value,
        AvailableBalance = Value<decimal>(c, "available_balance", r)!.Value,
        TransactionCount = Value<long>(c, "transaction_count", r)!.Value,
        TotalCredits = Value<decimal>(c, "total_credits", r)!.Value,
        TotalDebits = Value<decimal>(c, "total_debits", r)!.Value,
        FirstTransactionAt = Time(c, "first_transaction_at", r),
        LastTransactionAt = Time(c, "last_transaction_at", r),
        OpenedAt = Time(c, "opened_at", r),
        SourcePartition = Value<int>(c, "source_partition", r)!.Value,
        OpenedSourceOffset = Value<long>(c, "opened_source_offset", r),
        LastSourceOffset = Value<long>(c, "last_source_offset", r)!.Value,
        GoldVersion = Value<long>(c, "gold_version", r)!.Value,
        UpdatedAt = Time(c, "updated_at", r)!.Value,
    };

    public static CustomerPosition ReadCustomer(ColumnChunk c, int r) => new()
    {
        CustomerId = c.Strings("customer_id")[r]!,
        Currency = c.Strings("currency")[r]!,
        FirstName = c.Strings("first_name")[r],
        LastName = c.Strings("last_name")[r],
        Segment = c.Strings("segment")[r],
        City = c.Strings("city")[r],
        Country = c.Strings("country")[r],
        Accounts = Value<int>(c, "accounts", r)!.Value,
        Deposits = Value<decimal>(c, "deposits", r)!.Value,
        Loans = Value<int>(c, "loans", r)!.Value,
        LoanPrincipal = Value<decimal>(c, "loan_principal", r)!.Value,
        LoanPrincipalRepaid = Value<decimal>(c, "loan_principal_repaid", r)!.Value,
        LoansOutstanding = Value<decimal>(c, "loans_outstanding", r)!.Value,
        LoanInterestPaid = Value<decimal>(c, "loan_interest_paid", r)!.Value,
        NetPosition = Value<decimal>(c, "net_position", r)!.Value,
        LastActivityAt = Time(c, "last_activity_at", r),
        GoldVersion = Value<long>(c, "gold_version", r)!.Value,
        UpdatedAt = Time(c, "updated_at", r)!.Value,
    };

    public static DailySummary ReadDaily(ColumnChunk c, int r) => new()
    {
        EventDate = Value<DateOnly>(c, "event_date", r)!.Value,
        Category = c.Strings("category")[r]!,
        Country = c.Strings("country")[r]!,
        City = c.Strings("city")[r]!,
        Currency = c.Strings("currency")[r]!,
        TransactionCount = Value<long>(c, "transaction_count", r)!.Value,
        TotalAmount = Value<decimal>(c, "total_amount", r)!.Value,
        NetAmount = Value<decimal>(c, "net_amount", r)!.Value,
        AvgAmount = Value<decimal>(c, "avg_amount", r)!.Value,
        MinAmount = Value<decimal>(c, "min_amount", r)!.Value,
        MaxAmount = Value<decimal>(c, "max_amount", r)!.Value,
        DistinctAccounts = Value<long>(c, "distinct_accounts", r)!.Value,
        LatitudeMicroSum = Value<long>(c, "latitude_micro_sum", r)!.Value,
        LongitudeMicroSum = Value<long>(c, "longitude_micro_sum", r)!.Value,
        GoldVersion = Value<long>(c, "gold_version", r)!.Value,
        UpdatedAt = Time(c, "updated_at", r)!.Value,
    };

    public static LoanStatusRow ReadLoan(ColumnChunk c, int r) => new()
    {
        LoanId = c.Strings("loan_id")[r]!,
        CustomerId = c.Strings("customer_id")[r],
        AccountId = c.Strings("account_id")[r],
        Product = c.Strings("product")[r],
        Currency = c.Strings("currency")[r],
        Principal = Value<decimal>(c, "principal", r),
        AnnualInterestRate = Value<decimal>(c, "annual_interest_rate", r),
        TermMonths = Value<int>(c, "term_months", r),
        MonthlyInstalment = Value<decimal>(c, "monthly_instalment", r),
        FirstDueDate = Value<DateOnly>(c, "first_due_date", r),
        DisbursedAt = Time(c, "disbursed_at", r),
        InstalmentsPaid = Value<long>(c, "instalments_paid", r)!.Value,
        PaidToDate = Value<decimal>(c, "paid_to_date", r)!.Value,
        PrincipalRepaid = Value<decimal>(c, "principal_repaid", r)!.Value,
        InterestPaid = Value<decimal>(c, "interest_paid", r)!.Value,
        Outstanding = Value<decimal>(c, "outstanding", r),
        LastPaymentAt = Time(c, "last_payment_at", r),
        NextDueDate = Value<DateOnly>(c, "next_due_date", r),
        DaysPastDue = Value<int>(c, "days_past_due", r),
        AsOfDate = Value<DateOnly>(c, "as_of_date", r),
        SourcePartition = Value<int>(c, "source_partition", r)!.Value,
        DisbursedSourceOffset = Value<long>(c, "disbursed_source_offset", r),
        LastSourceOffset = Value<long>(c, "last_source_offset", r)!.Value,
        GoldVersion = Value<long>(c, "gold_version", r)!.Value,
        UpdatedAt = Time(c, "updated_at", r)!.Value,
    };

    /// <summary>A value of a nullable or NOT NULL column alike.</summary>
    private static T? Value<T>(ColumnChunk c, string column, int r)
        where T : struct => c.Column(column) switch
        {
            T[] values => values[r],
            T?[] values => values[r],
            var other => throw new InvalidOperationException($"Gold column '{column}' holds {other.GetType().Name}, not {typeof(T).Name}."),
        };

    private static DateTimeOffset? Time(ColumnChunk c, string column, int r) =>
        Value<DateTime>(c, column, r) is { } utc ? new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)) : null;
}
