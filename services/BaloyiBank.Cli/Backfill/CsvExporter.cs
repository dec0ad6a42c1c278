using System.Globalization;
using System.Text;
using BaloyiBank.Contracts;
using BaloyiBank.Generator;

namespace BaloyiBank.Cli.Backfill;

/// <summary>What export-csv wrote: rows per file, and the generated records left out (defects and duplicates).</summary>
internal sealed record CsvExportReport(long Records, IReadOnlyDictionary<BankFile, long> RowsByFile, long LeftOut);

/// <summary>
/// Writes a generated bank as the five CSV files in <see cref="CsvLayouts"/>: the valid records of the first N events
/// of the stream (clean and late ones: what cleansing would put in silver), so export → backfill → pipeline gives the
/// balances the generator gives directly. Duplicates and deliberately broken records are left out (counted).
/// </summary>
internal static class CsvExporter
{
    public static CsvExportReport Export(GeneratorOptions options, long events, string folder, Action<long>? progress = null, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(folder);
        var writers = CsvLayouts.All.Select(l => new CsvFileWriter(Path.Combine(folder, l.FileName), l)).ToArray();
        var rows = new long[writers.Length];
        long leftOut = 0, records = 0;
        try
        {
            foreach (var record in GeneratedEvents.Records(options))
            {
                if (records == events)
                {
                    break;
                }

                records++;
                if ((records & 0xFFFF) == 0)
                {
                    progress?.Invoke(records);
                    cancellationToken.ThrowIfCancellationRequested();
                }

                if (record.Kind is not (EventKind.Clean or EventKind.Late))
                {
                    leftOut++;
                    continue;
                }

                var bankEvent = BankEventSerializer.Deserialize(record.Payload);
                var file = Write(writers, bankEvent);
                rows[(int)file]++;
            }
        }
        finally
        {
            foreach (var writer in writers)
            {
                writer.Dispose();
            }
        }

        progress?.Invoke(records);
        return new CsvExportReport(records, CsvLayouts.All.ToDictionary(l => l.File, l => rows[(int)l.File]), leftOut);
    }

    private static BankFile Write(CsvFileWriter[] writers, BankEvent bankEvent)
    {
        switch (bankEvent)
        {
            case CustomerRegistered c:
                writers[0].Row(c.CustomerId, Instant(c.OccurredAt), c.FirstName, c.LastName, c.Email, Date(c.DateOfBirth),
                    Name(c.Segment), c.City, c.Country);
                return BankFile.Customers;
            case AccountOpened a:
                writers[1].Row(a.AccountId, Instant(a.OccurredAt), a.CustomerId, Name(a.AccountType), a.Currency,
                    Money(a.OpeningBalance), Money(a.OverdraftLimit), a.Branch);
                return BankFile.Accounts;
            case TransactionPosted t:
                writers[2].Row(t.TransactionId, Instant(t.OccurredAt), t.AccountId, t.CustomerId, Name(t.TransactionType),
                    Money(t.Amount), t.Currency, Name(t.Channel), t.MerchantCategory is { } m ? Name(m) : "",
                    t.MerchantName ?? "", t.Counterparty ?? "", t.Reference ?? "", t.Location.City, t.Location.Country,
                    t.Location.Latitude.ToString("R", CultureInfo.InvariantCulture), t.Location.Longitude.ToString("R", CultureInfo.InvariantCulture));
                return BankFile.Transactions;
            case LoanDisbursed l:
                writers[3].Row(l.LoanId, Instant(l.OccurredAt), l.CustomerId, l.AccountId, Name(l.Product), Money(l.Principal),
                    l.Currency, l.AnnualInterestRate.ToString(CultureInfo.InvariantCulture), l.TermMonths.ToString(CultureInfo.InvariantCulture),
                    Money(l.MonthlyInstalment), Date(l.FirstDueDate));
                return BankFile.Loans;
            case LoanPaymentMade p:
                writers[4].Row(p.PaymentId, Instant(p.OccurredAt), p.LoanId, p.CustomerId, p.AccountId, Money(p.Amount),
                    Money(p.PrincipalPortion), Money(p.InterestPortion), p.Currency, Date(p.DueDate),
                    p.InstalmentNumber.ToString(CultureInfo.InvariantCulture));
                return BankFile.LoanPayments;
            default:
                throw new ArgumentOutOfRangeException(nameof(bankEvent), bankEvent.GetType().Name, "Not a bank event.");
        }
    }

    private static string Name<TEnum>(TEnum value) where TEnum : struct, Enum => CsvRowParser.WireNames<TEnum>.Name(value);

    private static string Instant(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static string Date(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Money(decimal amount) => amount.ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>RFC 4180 rows: a field is quoted when it holds a comma, quote, line break or edge space.</summary>
    private sealed class CsvFileWriter : IDisposable
    {
        private readonly StreamWriter _writer;

        public CsvFileWriter(string path, CsvLayout layout)
        {
            _writer = new StreamWriter(path, append: false, new UTF8Encoding(false), 1 << 16) { NewLine = "\n" };
            _writer.WriteLine(layout.Header);
        }

        public void Row(params ReadOnlySpan<string> fields)
        {
            for (var i = 0; i < fields.Length; i++)
            {
                if (i > 0)
                {
                    _writer.Write(',');
                }

                var field = fields[i];
                if (field.AsSpan().IndexOfAny(",\"\r\n") >= 0 || (field.Length > 0 && (field[0] == ' ' || field[^1] == ' ')))
                {
                    _writer.Write('"');
                    _writer.Write(field.Replace("\"", "\"\"", StringComparison.Ordinal));
                    _writer.Write('"');
                }
                else
                {
                    _writer.Write(field);
                }
            }

            _writer.WriteLine();
        }

        public void Dispose() => _writer.Dispose();
    }
}
