using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BaloyiBank.Contracts;
using Sylvan.Data.Csv;

namespace BaloyiBank.Cli.Backfill;

/// <summary>Why backfill refused a row before it reached the log (the <c>reason</c> in the rejected-row record and the summary).</summary>
internal static class RejectReasons
{
    /// <summary>The row has more or fewer fields than the header.</summary>
    public const string WrongColumnCount = "wrong_column_count";
    /// <summary>The row's bytes are not valid UTF-8 (decoded as U+FFFD).</summary>
    public const string BadEncoding = "bad_encoding";
    /// <summary>The key column (the first: customer_id, account_id, …) is empty.</summary>
    public const string MissingKey = "missing_key";
    /// <summary>A required column other than the key is empty.</summary>
    public const string MissingValue = "missing_value";
    /// <summary>An amount, rate, coordinate or whole number does not parse (or has too many decimal places).</summary>
    public const string BadNumber = "bad_number";
    /// <summary>An instant or date does not parse in its format (instants need Z or an offset).</summary>
    public const string BadDate = "bad_date";
    /// <summary>A segment, type, channel, category or product is not one of its snake_case names.</summary>
    public const string BadEnum = "bad_enum";
    /// <summary>The currency is not an active ISO 4217 code in upper case.</summary>
    public const string UnknownCurrency = "unknown_currency";
    /// <summary>A key already seen earlier in the same file: the first row stands.</summary>
    public const string DuplicateKey = "duplicate_key";

    public static IReadOnlyList<string> All { get; } =
        [WrongColumnCount, BadEncoding, MissingKey, MissingValue, BadNumber, BadDate, BadEnum, UnknownCurrency, DuplicateKey];
}

/// <summary>A row refused by backfill: the reason code and a detail naming the column and value.</summary>
internal sealed class RowRejectedException(string reason, string detail) : Exception(detail)
{
    public string Reason { get; } = reason;
}

/// <summary>
/// Turns one CSV row into the wire event the generator would have produced, or refuses it with a reason. Only the
/// layout is checked here (columns, encoding, numbers, dates, enums, currencies); business rules (positive amounts,
/// known accounts, …) stay with cleansing, which sees the row's file and line in the event's <c>backfill</c> property.
/// </summary>
internal sealed class CsvRowParser(CsvLayout layout)
{
    private readonly string[] _values = new string[layout.Columns.Count];

    /// <summary>The UUID-shaped event id of a row: SHA-256 over the file and the row's key, so a re-run finds the same id.</summary>
    public static string EventId(string fileName, string key) => Uuid(Encoding.UTF8.GetBytes(fileName + "\n" + key));

    /// <summary>The event id of a refused row: its file, line and exact text.</summary>
    public static string RejectedEventId(string fileName, int line, string raw) =>
        Uuid(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"rejected\n{fileName}\n{line}\n{raw}")));

    private static string Uuid(byte[] input)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input, hash);
        // RFC 9562 version 8 (custom) with the RFC variant: a valid UUID whatever the hash.
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        var hex = Convert.ToHexStringLower(hash[..16]);
        return $"{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..32]}";
    }

    /// <summary>The key (first column) of the current row, or null when it is empty or the row is short.</summary>
    public static string? KeyOf(CsvDataReader reader) => reader.RowFieldCount > 0 && reader.GetFieldSpan(0).Trim().Length > 0 ? reader.GetString(0).Trim() : null;

    /// <summary>Parses the current row; throws <see cref="RowRejectedException"/> when the row breaks the layout.</summary>
    public BankEvent Parse(CsvDataReader reader)
    {
        if (reader.RowFieldCount != layout.Columns.Count)
        {
            throw new RowRejectedException(RejectReasons.WrongColumnCount,
                $"{reader.RowFieldCount} fields, the header has {layout.Columns.Count}");
        }

        for (var i = 0; i < _values.Length; i++)
        {
            var span = reader.GetFieldSpan(i);
            if (span.Contains('\uFFFD'))
            {
                throw new RowRejectedException(RejectReasons.BadEncoding, $"column {layout.Columns[i].Name} holds bytes that are not UTF-8");
            }

            span = span.Trim();
            if (span.Length == 0 && layout.Columns[i].Required)
            {
                throw i == 0
                    ? new RowRejectedException(RejectReasons.MissingKey, $"column {layout.Columns[i].Name} (the key) is empty")
                    : new RowRejectedException(RejectReasons.MissingValue, $"column {layout.Columns[i].Name} is empty");
            }

            _values[i] = span.Length == 0 ? "" : span.ToString();
        }

        return layout.File switch
        {
            BankFile.Customers => Customer(),
            BankFile.Accounts => Account(),
            BankFile.Transactions => Transaction(),
            BankFile.Loans => Loan(),
            _ => Payment(),
        };
    }

    private CustomerRegistered Customer() => new()
    {
        EventId = EventId(layout.FileName, _values[0]),
        OccurredAt = Instant(1),
        CustomerId = _values[0],
        FirstName = _values[2],
        LastName = _values[3],
        Email = _values[4],
        DateOfBirth = Date(5),
        Segment = Enum<CustomerSegment>(6),
        City = _values[7],
        Country = _values[8],
    };

    private AccountOpened Account() => new()
    {
        EventId = EventId(layout.FileName, _values[0]),
        OccurredAt = Instant(1),
        AccountId = _values[0],
        CustomerId = _values[2],
        AccountType = Enum<AccountType>(3),
        Currency = Currency(4),
        OpeningBalance = Decimal(5, 2),
        OverdraftLimit = Decimal(6, 2),
        Branch = _values[7],
    };

    private TransactionPosted Transaction() => new()
    {
        EventId = EventId(layout.FileName, _values[0]),
        OccurredAt = Instant(1),
        TransactionId = _values[0],
        AccountId = _values[2],
        CustomerId = _values[3],
        TransactionType = Enum<TransactionType>(4),
        Amount = Decimal(5, 2),
        Currency = Currency(6),
        Channel = Enum<Channel>(7),
        MerchantCategory = _values[8].Length == 0 ? null : Enum<MerchantCategory>(8),
        MerchantName = Optional(9),
        Counterparty = Optional(10),
        Reference = Optional(11),
        Location = new GeoLocation(_values[12], _values[13], Double(14), Double(15)),
    };

    private LoanDisbursed Loan() => new()
    {
        EventId = EventId(layout.FileName, _values[0]),
        OccurredAt = Instant(1),
        LoanId = _values[0],
        CustomerId = _values[2],
        AccountId = _values[3],
        Product = Enum<LoanProduct>(4),
        Principal = Decimal(5, 2),
        Currency = Currency(6),
        AnnualInterestRate = Decimal(7, 6),
        TermMonths = Int(8),
        MonthlyInstalment = Decimal(9, 2),
        FirstDueDate = Date(10),
    };

    private LoanPaymentMade Payment() => new()
    {
        EventId = EventId(layout.FileName, _values[0]),
        OccurredAt = Instant(1),
        PaymentId = _values[0],
        LoanId = _values[2],
        CustomerId = _values[3],
        AccountId = _values[4],
        Amount = Decimal(5, 2),
        PrincipalPortion = Decimal(6, 2),
        InterestPortion = Decimal(7, 2),
        Currency = Currency(8),
        DueDate = Date(9),
        InstalmentNumber = Int(10),
    };

    private string? Optional(int i) => _values[i].Length == 0 ? null : _values[i];

    private string Column(int i) => layout.Columns[i].Name;

    private DateTimeOffset Instant(int i)
    {
        var text = _values[i];
        // An offset is required: a wall-clock time without one names no instant.
        var hasOffset = text.EndsWith('Z') || (text.Length > 6 && text[^6] is '+' or '-' && text[^3] == ':');
        if (!hasOffset || !DateTimeOffset.TryParseExact(text, "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", CultureInfo.InvariantCulture, DateTimeStyles.None, out var value))
        {
            throw new RowRejectedException(RejectReasons.BadDate, $"column {Column(i)}: '{Shorten(text)}' is not an ISO 8601 instant with Z or an offset");
        }

        return value.ToUniversalTime();
    }

    private DateOnly Date(int i) =>
        DateOnly.TryParseExact(_values[i], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var value)
            ? value
            : throw new RowRejectedException(RejectReasons.BadDate, $"column {Column(i)}: '{Shorten(_values[i])}' is not a date yyyy-MM-dd");

    private decimal Decimal(int i, int places)
    {
        var text = _values[i];
        if (!decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
        {
            throw new RowRejectedException(RejectReasons.BadNumber, $"column {Column(i)}: '{Shorten(text)}' is not a decimal number");
        }

        if (value.Scale > places)
        {
            throw new RowRejectedException(RejectReasons.BadNumber, $"column {Column(i)}: '{Shorten(text)}' has more than {places} decimal places");
        }

        return value;
    }

    private double Double(int i) =>
        double.TryParse(_values[i], NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var value)
            && double.IsFinite(value)
            ? value
            : throw new RowRejectedException(RejectReasons.BadNumber, $"column {Column(i)}: '{Shorten(_values[i])}' is not a number");

    private int Int(int i) =>
        int.TryParse(_values[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new RowRejectedException(RejectReasons.BadNumber, $"column {Column(i)}: '{Shorten(_values[i])}' is not a whole number");

    private string Currency(int i) =>
        CurrencyCodes.Find(_values[i])
            ?? throw new RowRejectedException(RejectReasons.UnknownCurrency, $"column {Column(i)}: '{Shorten(_values[i])}' is not an active ISO 4217 code in upper case");

    private TEnum Enum<TEnum>(int i) where TEnum : struct, Enum =>
        WireNames<TEnum>.ByName.TryGetValue(_values[i], out var value)
            ? value
            : throw new RowRejectedException(RejectReasons.BadEnum, $"column {Column(i)}: '{Shorten(_values[i])}' is not one of {string.Join(", ", WireNames<TEnum>.ByName.Keys)}");

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";

    /// <summary>An enum's snake_case wire names, exactly as the contracts write them.</summary>
    public static class WireNames<TEnum> where TEnum : struct, Enum
    {
        public static Dictionary<string, TEnum> ByName { get; } =
            System.Enum.GetValues<TEnum>().ToDictionary(v => JsonNamingPolicy.SnakeCaseLower.ConvertName(v.ToString()), v => v, StringComparer.Ordinal);

        private static readonly Dictionary<TEnum, string> Names = ByName.ToDictionary(p => p.Value, p => p.Key);

        public static string Name(TEnum value) => Names[value];
    }
}
