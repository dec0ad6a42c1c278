using System.Text.Json;
using BaloyiBank.Delta;
using BaloyiBank.DuckDb;
using BaloyiBank.EventLog;

namespace BaloyiBank.Cleansing;

/// <summary>
/// Puts a micro-batch's rows into DuckDB staging tables (one TEMP table per silver table, on the
/// partition's own connection) for <see cref="DeltaFileWriter"/> to turn into Parquet. Columns are
/// appended in schema order; each Append* below mirrors its table in <see cref="SilverTables"/>.
/// </summary>
internal static class SilverStaging
{
    public static string StagingName(TableSchema schema) => $"staging_{schema.Name}";

    /// <summary>Replaces the staging table of <paramref name="schema"/> with the batch's rows of it; returns the row count.</summary>
    public static int Stage(DuckDbConnection connection, TableSchema schema, MicroBatch batch, IReadOnlyList<LogRecord> records, string consumerGroup, DateTimeOffset committedAt)
    {
        var name = StagingName(schema);
        DeltaFileWriter.CreateStagingTable(connection, schema, name);
        using var appender = connection.CreateAppender(name);
        var rows = schema switch
        {
            _ when ReferenceEquals(schema, SilverTables.Transactions) => Append(appender, batch.Transactions, AppendTransaction),
            _ when ReferenceEquals(schema, SilverTables.Customers) => Append(appender, batch.Customers, AppendCustomer),
            _ when ReferenceEquals(schema, SilverTables.Accounts) => Append(appender, batch.Accounts, AppendAccount),
            _ when ReferenceEquals(schema, SilverTables.Loans) => Append(appender, batch.Loans, AppendLoan),
            _ when ReferenceEquals(schema, SilverTables.LoanPayments) => Append(appender, batch.LoanPayments, AppendLoanPayment),
            _ when ReferenceEquals(schema, SilverTables.Quarantine) => Append(appender, batch.QuarantineRows, AppendQuarantine),
            _ when ReferenceEquals(schema, BronzeTables.BankEvents) => Append(appender, records, AppendBronze),
            _ when ReferenceEquals(schema, CleansingBatchesTable.Schema) => AppendAudit(appender, batch, consumerGroup, committedAt),
            _ => throw new ArgumentException($"No staging for table {schema.Name}.", nameof(schema)),
        };
        appender.Close();
        return rows;
    }

    /// <summary>Rows of <paramref name="schema"/> in <paramref name="batch"/> (the audit table always has one).</summary>
    public static int RowCount(TableSchema schema, MicroBatch batch, IReadOnlyList<LogRecord> records) => schema switch
    {
        _ when ReferenceEquals(schema, SilverTables.Transactions) => batch.Transactions.Count,
        _ when ReferenceEquals(schema, SilverTables.Customers) => batch.Customers.Count,
        _ when ReferenceEquals(schema, SilverTables.Accounts) => batch.Accounts.Count,
        _ when ReferenceEquals(schema, SilverTables.Loans) => batch.Loans.Count,
        _ when ReferenceEquals(schema, SilverTables.LoanPayments) => batch.LoanPayments.Count,
        _ when ReferenceEquals(schema, SilverTables.Quarantine) => batch.QuarantineRows.Count,
        _ when ReferenceEquals(schema, BronzeTables.BankEvents) => records.Count,
        _ when ReferenceEquals(schema, CleansingBatchesTable.Schema) => 1,
        _ => throw new ArgumentException($"No staging for table {schema.Name}.", nameof(schema)),
    };

    private static int Append<T>(DuckDbAppender appender, IReadOnlyList<T> rows, Action<DuckDbAppender, T> append)
    {
        foreach (var row in rows)
        {
            append(appender, row);
            appender.EndRow();
        }

        return rows.Count;
    }

    private static void AppendLineage(DuckDbAppender a, SilverRow row) => a
        .Append(row.SourcePartition).Append(row.SourceOffset).Append(row.EnqueuedAt).Append(row.IngestedAt).Append(row.SchemaVersion);

    private static void AppendTransaction(DuckDbAppender a, TransactionRow r)
    {
        a.Append(r.TransactionId).Append(r.EventId).Append(r.AccountId).Append(r.CustomerId).Append(r.TransactionType)
            .Append(r.Direction).Append(r.Amount).Append(r.SignedAmount).Append(r.Currency).Append(r.Channel)
            .Append(r.MerchantCategory).Append(r.MerchantName).Append(r.Counterparty).Append(r.Reference)
            .Append(r.City).Append(r.Country).Append(r.Latitude).Append(r.Longitude).Append(r.OccurredAt).Append(r.EventDate);
        AppendLineage(a, r);
    }

    private static void AppendCustomer(DuckDbAppender a, CustomerRow r)
    {
        a.Append(r.CustomerId).Append(r.EventId).Append(r.FirstName).Append(r.LastName).Append(r.Email).Append(r.DateOfBirth)
            .Append(r.Segment).Append(r.City).Append(r.Country).Append(r.OccurredAt);
        AppendLineage(a, r);
    }

    private static void AppendAccount(DuckDbAppender a, AccountRow r)
    {
        a.Append(r.AccountId).Append(r.EventId).Append(r.CustomerId).Append(r.AccountType).Append(r.Currency)
            .Append(r.OpeningBalance).Append(r.OverdraftLimit).Append(r.Branch).Append(r.OccurredAt);
        AppendLineage(a, r);
    }

    private static void AppendLoan(DuckDbAppender a, LoanRow r)
    {
        a.Append(r.LoanId).Append(r.EventId).Append(r.CustomerId).Append(r.AccountId).Append(r.Product).Append(r.Principal)
            .Append(r.Currency).Append(r.AnnualInterestRate).Append(r.TermMonths).Append(r.MonthlyInstalment)
            .Append(r.FirstDueDate).Append(r.OccurredAt);
        AppendLineage(a, r);
    }

    private static void AppendLoanPayment(DuckDbAppender a, LoanPaymentRow r)
    {
        a.Append(r.PaymentId).Append(r.EventId).Append(r.LoanId).Append(r.CustomerId).Append(r.AccountId).Append(r.Amount)
            .Append(r.PrincipalPortion).Append(r.InterestPortion).Append(r.Currency).Append(r.DueDate)
            .Append(r.InstalmentNumber).Append(r.OccurredAt).Append(r.EventDate);
        AppendLineage(a, r);
    }

    private static void AppendQuarantine(DuckDbAppender a, QuarantineRow r) => a
        .Append(r.SourcePartition).Append(r.SourceOffset).Append(r.EnqueuedAt).Append(r.IngestedAt).Append(r.Reason)
        .Append(r.Detail).Append(r.EventType).Append(r.Payload.Span).Append(r.PayloadBytes).Append(r.IngestDate);

    private static void AppendBronze(DuckDbAppender a, LogRecord r)
    {
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in r.Headers)
        {
            headers[name] = value;
        }

        a.Append(r.Partition).Append(r.Offset).Append(r.EnqueuedAt).Append(r.Key)
            .Append(JsonSerializer.Serialize(headers, CleansingJsonContext.Default.SortedDictionaryStringString))
            .Append(r.Value.Span).Append(DateOnly.FromDateTime(r.EnqueuedAt.UtcDateTime));
    }

    private static int AppendAudit(DuckDbAppender a, MicroBatch batch, string consumerGroup, DateTimeOffset committedAt)
    {
        // Sorted, so a replayed batch writes byte-identical JSON.
        var reasons = JsonSerializer.Serialize(
            new SortedDictionary<string, long>(batch.QuarantineByReason.ToDictionary(), StringComparer.Ordinal),
            CleansingJsonContext.Default.SortedDictionaryStringInt64);
        a.Append(batch.Partition).Append(batch.FirstOffset).Append(batch.LastOffset).Append(batch.Consumed).Append(batch.Valid)
            .Append(batch.Quarantined).Append(batch.Duplicates).Append(reasons).Append(batch.MinEventTime).Append(batch.MaxEventTime)
            .Append(consumerGroup).Append(committedAt);
        a.EndRow();
        return 1;
    }
}
