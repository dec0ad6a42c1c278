using BaloyiBank.Delta;
using BaloyiBank.DuckDb;

namespace BaloyiBank.Aggregator;

/// <summary>Gold rows to DuckDB staging tables (appender, schema column order) and back from query results (same order).</summary>
internal static class GoldRowCodec
{
    /// <summary>The schema's columns, quoted, in order: the SELECT list the readers below expect.</summary>
    public static string ColumnList(TableSchema schema) => string.Join(", ", schema.Columns.Select(c => $"\"{c.Name}\""));

    public static void Stage(DuckDbConnection connection, TableSchema schema, string table, GoldChangeSet changes)
    {
        DeltaFileWriter.CreateStagingTable(connection, schema, table);

        using var appender = connection.CreateAppender(table);
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
                        .Append(r.GoldVersion).Append(r.UpdatedAt).EndRow();
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

        appender.Close();
    }

    public static int RowCount(TableSchema schema, GoldChangeSet changes) => schema.Name switch
    {
        "account_balances" => changes.Accounts.Count,
        "customer_positions" => changes.Customers.Count,
        "daily_transaction_summary" => changes.Daily.Count,
        "loan_status" => changes.Loans.Count,
        _ => throw new ArgumentException($"'{schema.Name}' is not a gold table.", nameof(schema)),
    };

    public static AccountBalance ReadAccount(DuckDbResult r) => new()
    {
        AccountId = r.GetString(0),
        CustomerId = NullableString(r, 1),
        AccountType = NullableString(r, 2),
        Currency = r.GetString(3),
        OpeningBalance = NullableDecimal(r, 4),
        OverdraftLimit = NullableDecimal(r, 5),
        Balance = r.GetDecimal(6),
        AvailableBalance = r.GetDecimal(7),
        TransactionCount = r.GetInt64(8),
        TotalCredits = r.GetDecimal(9),
        TotalDebits = r.GetDecimal(10),
        FirstTransactionAt = NullableTime(r, 11),
        LastTransactionAt = NullableTime(r, 12),
        OpenedAt = NullableTime(r, 13),
        SourcePartition = r.GetInt32(14),
        OpenedSourceOffset = r.IsNull(15) ? null : r.GetInt64(15),
        LastSourceOffset = r.GetInt64(16),
        GoldVersion = r.GetInt64(17),
        UpdatedAt = r.GetTimestamp(18),
    };

    public static CustomerPosition ReadCustomer(DuckDbResult r) => new()
    {
        CustomerId = r.GetString(0),
        Currency = r.GetString(1),
        FirstName = NullableString(r, 2),
        LastName = NullableString(r, 3),
        Segment = NullableString(r, 4),
        City = NullableString(r, 5),
        Country = NullableString(r, 6),
        Accounts = r.GetInt32(7),
        Deposits = r.GetDecimal(8),
        Loans = r.GetInt32(9),
        LoanPrincipal = r.GetDecimal(10),
        LoanPrincipalRepaid = r.GetDecimal(11),
        LoansOutstanding = r.GetDecimal(12),
        LoanInterestPaid = r.GetDecimal(13),
        NetPosition = r.GetDecimal(14),
        LastActivityAt = NullableTime(r, 15),
        GoldVersion = r.GetInt64(16),
        UpdatedAt = r.GetTimestamp(17),
    };

    public static DailySummary ReadDaily(DuckDbResult r) => new()
    {
        EventDate = r.GetDate(0),
        Category = r.GetString(1),
        Country = r.GetString(2),
        City = r.GetString(3),
        Currency = r.GetString(4),
        TransactionCount = r.GetInt64(5),
        TotalAmount = r.GetDecimal(6),
        NetAmount = r.GetDecimal(7),
        AvgAmount = r.GetDecimal(8),
        MinAmount = r.GetDecimal(9),
        MaxAmount = r.GetDecimal(10),
        DistinctAccounts = r.GetInt64(11),
        GoldVersion = r.GetInt64(12),
        UpdatedAt = r.GetTimestamp(13),
    };

    public static LoanStatusRow ReadLoan(DuckDbResult r) => new()
    {
        LoanId = r.GetString(0),
        CustomerId = NullableString(r, 1),
        AccountId = NullableString(r, 2),
        Product = NullableString(r, 3),
        Currency = NullableString(r, 4),
        Principal = NullableDecimal(r, 5),
        AnnualInterestRate = NullableDecimal(r, 6),
        TermMonths = r.IsNull(7) ? null : r.GetInt32(7),
        MonthlyInstalment = NullableDecimal(r, 8),
        FirstDueDate = r.IsNull(9) ? null : r.GetDate(9),
        DisbursedAt = NullableTime(r, 10),
        InstalmentsPaid = r.GetInt64(11),
        PaidToDate = r.GetDecimal(12),
        PrincipalRepaid = r.GetDecimal(13),
        InterestPaid = r.GetDecimal(14),
        Outstanding = NullableDecimal(r, 15),
        LastPaymentAt = NullableTime(r, 16),
        NextDueDate = r.IsNull(17) ? null : r.GetDate(17),
        DaysPastDue = r.IsNull(18) ? null : r.GetInt32(18),
        AsOfDate = r.IsNull(19) ? null : r.GetDate(19),
        SourcePartition = r.GetInt32(20),
        DisbursedSourceOffset = r.IsNull(21) ? null : r.GetInt64(21),
        LastSourceOffset = r.GetInt64(22),
        GoldVersion = r.GetInt64(23),
        UpdatedAt = r.GetTimestamp(24),
    };

    private static string? NullableString(DuckDbResult r, int i) => r.IsNull(i) ? null : r.GetString(i);

    private static decimal? NullableDecimal(DuckDbResult r, int i) => r.IsNull(i) ? null : r.GetDecimal(i);

    private static DateTimeOffset? NullableTime(DuckDbResult r, int i) => r.IsNull(i) ? null : r.GetTimestamp(i);
}
