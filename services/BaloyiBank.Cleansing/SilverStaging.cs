using System.Buffers;
using System.Text.Json;
using BaloyiBank.Delta;
using BaloyiBank.EventLog;

namespace BaloyiBank.Cleansing;

/// <summary>
/// Puts a micro-batch's rows where <see cref="DeltaFileWriter"/> turns them into Parquet: the partition
/// feeds' column buffers (<see cref="FeedStaging"/>) or, for tables staged at flush time, a buffer built then. Columns
/// are appended in schema order; each Append* below mirrors its table in <see cref="SilverTables"/>.
/// </summary>
internal static class SilverStaging
{
    /// <summary>Tables whose rows each partition feed writes into column buffers as it cleanses (<see cref="FeedStaging"/>).</summary>
    public static IReadOnlyList<TableSchema> FedTables { get; } =
        [SilverTables.Transactions, SilverTables.Customers, SilverTables.Accounts, SilverTables.Loans, SilverTables.LoanPayments, BronzeTables.BankEvents];

    /// <summary>
    /// The rows of a table staged at flush time (quarantine, the audit) from <paramref name="batches"/>, sealed.
    /// </summary>
    public static ColumnBuffer Stage(TableSchema schema, IReadOnlyList<SealedBatch> batches, string consumerGroup, DateTimeOffset committedAt)
    {
        ArgumentNullException.ThrowIfNull(batches);
        var rows = new ColumnBuffer(schema);
        foreach (var sealedBatch in batches)
        {
            var batch = sealedBatch.Batch;
            _ = schema switch
            {
                _ when ReferenceEquals(schema, SilverTables.Quarantine) => Append(rows, batch.QuarantineRows, AppendQuarantine),
                _ when ReferenceEquals(schema, CleansingBatchesTable.Schema) => AppendAudit(rows, batch, consumerGroup, committedAt),
                _ => throw new ArgumentException($"Table {schema.Name} is staged by the partition feeds, not at flush time.", nameof(schema)),
            };
        }

        rows.Seal();
        return rows;
    }

    /// <summary>Rows of <paramref name="schema"/> in a flush of <paramref name="batches"/>.</summary>
    public static int RowCount(TableSchema schema, IReadOnlyList<SealedBatch> batches) => batches.Sum(b => RowCount(schema, b.Batch));

    /// <summary>Rows of <paramref name="schema"/> in <paramref name="batch"/> (bronze has every record; the audit table always one).</summary>
    public static int RowCount(TableSchema schema, MicroBatch batch) => schema switch
    {
        _ when ReferenceEquals(schema, SilverTables.Transactions) => batch.TransactionCount,
        _ when ReferenceEquals(schema, SilverTables.Customers) => batch.CustomerCount,
        _ when ReferenceEquals(schema, SilverTables.Accounts) => batch.AccountCount,
        _ when ReferenceEquals(schema, SilverTables.Loans) => batch.LoanCount,
        _ when ReferenceEquals(schema, SilverTables.LoanPayments) => batch.LoanPaymentCount,
        _ when ReferenceEquals(schema, SilverTables.Quarantine) => batch.QuarantineRows.Count,
        _ when ReferenceEquals(schema, BronzeTables.BankEvents) => checked((int)batch.Consumed),
        _ when ReferenceEquals(schema, CleansingBatchesTable.Schema) => 1,
        _ => throw new ArgumentException($"No staging for table {schema.Name}.", nameof(schema)),
    };

    /// <summary>The silver table a valid row belongs to.</summary>
    public static TableSchema TableOf(SilverRow row) => row switch
    {
        TransactionRow => SilverTables.Transactions,
        CustomerRow => SilverTables.Customers,
        AccountRow => SilverTables.Accounts,
        LoanRow => SilverTables.Loans,
        LoanPaymentRow => SilverTables.LoanPayments,
        _ => throw new ArgumentException($"No silver table takes a {row.GetType().Name}.", nameof(row)),
    };

    /// <summary>Appends one valid row (all its columns, then ends the row) to an appender of its table.</summary>
    public static void AppendRow(ColumnBuffer appender, SilverRow row)
    {
        switch (row)
        {
            case TransactionRow r:
                AppendTransaction(appender, r);
                break;
            case CustomerRow r:
                AppendCustomer(appender, r);
                break;
            case AccountRow r:
                AppendAccount(appender, r);
                break;
            case LoanRow r:
                AppendLoan(appender, r);
                break;
            case LoanPaymentRow r:
                AppendLoanPayment(appender, r);
                break;
            default:
                throw new ArgumentException($"No silver table takes a {row.GetType().Name}.", nameof(row));
        }

        appender.EndRow();
    }

    private static int Append<T>(ColumnBuffer appender, IReadOnlyList<T> rows, Action<ColumnBuffer, T> append)
    {
        foreach (var row in rows)
        {
            append(appender, row);
            appender.EndRow();
        }

        return rows.Count;
    }

    private static void AppendLineage(ColumnBuffer a, SilverRow row) => a
        .Append(row.SourcePartition).Append(row.SourceOffset).Append(row.EnqueuedAt).Append(row.IngestedAt).Append(row.SchemaVersion);

    private static void AppendTransaction(ColumnBuffer a, TransactionRow r)
    {
        a.Append(r.TransactionId).Append(r.EventId).Append(r.AccountId).Append(r.CustomerId).Append(r.TransactionType)
            .Append(r.Direction).Append(r.Amount).Append(r.SignedAmount).Append(r.Currency).Append(r.Channel)
            .Append(r.MerchantCategory).Append(r.MerchantName).Append(r.Counterparty).Append(r.Reference)
            .Append(r.City).Append(r.Country).Append(r.Latitude).Append(r.Longitude).Append(r.OccurredAt).Append(r.EventDate);
        AppendLineage(a, r);
    }

    private static void AppendCustomer(ColumnBuffer a, CustomerRow r)
    {
        a.Append(r.CustomerId).Append(r.EventId).Append(r.FirstName).Append(r.LastName).Append(r.Email).Append(r.DateOfBirth)
            .Append(r.Segment).Append(r.City).Append(r.Country).Append(r.OccurredAt);
        AppendLineage(a, r);
    }

    private static void AppendAccount(ColumnBuffer a, AccountRow r)
    {
        a.Append(r.AccountId).Append(r.EventId).Append(r.CustomerId).Append(r.AccountType).Append(r.Currency)
            .Append(r.OpeningBalance).Append(r.OverdraftLimit).Append(r.Branch).Append(r.OccurredAt);
        AppendLineage(a, r);
    }

    private static void AppendLoan(ColumnBuffer a, LoanRow r)
    {
        a.Append(r.LoanId).Append(r.EventId).Append(r.CustomerId).Append(r.AccountId).Append(r.Product).Append(r.Principal)
            .Append(r.Currency).Append(r.AnnualInterestRate).Append(r.TermMonths).Append(r.MonthlyInstalment)
            .Append(r.FirstDueDate).Append(r.OccurredAt);
        AppendLineage(a, r);
    }

    private static void AppendLoanPayment(ColumnBuffer a, LoanPaymentRow r)
    {
        a.Append(r.PaymentId).Append(r.EventId).Append(r.LoanId).Append(r.CustomerId).Append(r.AccountId).Append(r.Amount)
            .Append(r.PrincipalPortion).Append(r.InterestPortion).Append(r.Currency).Append(r.DueDate)
            .Append(r.InstalmentNumber).Append(r.OccurredAt).Append(r.EventDate);
        AppendLineage(a, r);
    }

    private static void AppendQuarantine(ColumnBuffer a, QuarantineRow r) => a
        .Append(r.SourcePartition).Append(r.SourceOffset).Append(r.EnqueuedAt).Append(r.IngestedAt).Append(r.Reason)
        .Append(r.Detail).Append(r.EventType).Append(r.Payload.Span).Append(r.PayloadBytes).Append(r.IngestDate);

    private static int AppendAudit(ColumnBuffer a, MicroBatch batch, string consumerGroup, DateTimeOffset committedAt)
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

/// <summary>
/// Appends raw records to the bronze table: positions, key, headers as a JSON object with names in ordinal
/// order (so a replayed batch writes identical bytes; of a repeated name the last value wins), the payload bytes.
/// One per feed; reuses its buffer. Not thread-safe.
/// </summary>
internal sealed class BronzeEncoder : IDisposable
{
    private readonly ArrayBufferWriter<byte> _buffer = new(256);
    private readonly Utf8JsonWriter _json;
    private readonly List<int> _order = new(8);

    public BronzeEncoder() => _json = new Utf8JsonWriter(_buffer);

    public void Append(ColumnBuffer appender, LogRecord record)
    {
        _buffer.ResetWrittenCount();
        _json.Reset(_buffer);
        _order.Clear();
        var headers = record.Headers;
        for (var i = 0; i < headers.Count; i++)
        {
            _order.Add(i);
        }

        // Insertion sort by name, then position (stable): a handful of headers, and no closure allocated per record.
        for (var i = 1; i < _order.Count; i++)
        {
            var item = _order[i];
            var j = i - 1;
            while (j >= 0 && string.CompareOrdinal(headers[_order[j]].Key, headers[item].Key) > 0)
            {
                _order[j + 1] = _order[j];
                j--;
            }

            _order[j + 1] = item;
        }

        _json.WriteStartObject();
        for (var k = 0; k < _order.Count; k++)
        {
            var (name, value) = headers[_order[k]];
            if (k + 1 == _order.Count || !string.Equals(name, headers[_order[k + 1]].Key, StringComparison.Ordinal))
            {
                _json.WriteString(name, value);
            }
        }

        _json.WriteEndObject();
        _json.Flush();
        appender.Append(record.Partition).Append(record.Offset).Append(record.EnqueuedAt).Append(record.Key)
            .AppendUtf8(_buffer.WrittenSpan)
            .Append(record.Value.Span).Append(DateOnly.FromDateTime(record.EnqueuedAt.UtcDateTime));
        appender.EndRow();
    }

    public void Dispose() => _json.Dispose();
}
