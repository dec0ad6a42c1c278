namespace BaloyiBank.Cli.Backfill;

/// <summary>The five files of the bank's estate, in the order they are read and written.</summary>
internal enum BankFile
{
    Customers,
    Accounts,
    Transactions,
    Loans,
    LoanPayments,
}

/// <summary>One CSV column: its header name, whether a value is required, and the format a person reads in the README.</summary>
internal sealed record CsvColumn(string Name, bool Required, string Format);

/// <summary>One file's layout: its name, the event each row becomes, and its columns in order (the header must match exactly).</summary>
internal sealed record CsvLayout(BankFile File, string FileName, string EventType, IReadOnlyList<CsvColumn> Columns)
{
    public string Header => string.Join(',', Columns.Select(c => c.Name));

    public int IndexOf(string column)
    {
        for (var i = 0; i < Columns.Count; i++)
        {
            if (Columns[i].Name == column)
            {
                return i;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(column), column, $"{FileName} has no column {column}.");
    }
}

/// <summary>
/// The CSV layout of each file (documented in the README, section "Backfill from CSV"): comma separated, UTF-8, one
/// header row, RFC 4180 quoting. Instants are ISO 8601 with <c>Z</c> or an offset; dates <c>yyyy-MM-dd</c>; money a
/// decimal with a point and at most two places; enums their snake_case wire names; currencies ISO 4217 in upper case.
/// </summary>
internal static class CsvLayouts
{
    private const string Id = "text, 1–64 printable ASCII characters";
    private const string Instant = "ISO 8601 instant with Z or an offset, e.g. 2026-01-01T09:30:00.1234567Z";
    private const string Date = "date yyyy-MM-dd";
    private const string Money = "decimal, point separator, at most 2 places, e.g. 1250.50";
    private const string Currency = "ISO 4217 code in upper case, e.g. ZAR";
    private const string Text = "text";
    private const string Optional = "text, may be empty";

    private static CsvColumn Req(string name, string format) => new(name, true, format);

    private static CsvColumn Opt(string name, string format) => new(name, false, format);

    public static CsvLayout Customers { get; } = new(BankFile.Customers, "customers.csv", "customer.registered",
    [
        Req("customer_id", Id), Req("registered_at", Instant), Req("first_name", Text), Req("last_name", Text), Req("email", Text),
        Req("date_of_birth", Date), Req("segment", "retail | premier | business | student"), Req("city", Text),
        Req("country", "ISO 3166-1 alpha-2, e.g. ZA"),
    ]);

    public static CsvLayout Accounts { get; } = new(BankFile.Accounts, "accounts.csv", "account.opened",
    [
        Req("account_id", Id), Req("opened_at", Instant), Req("customer_id", Id),
        Req("account_type", "cheque | savings | credit_card | business"), Req("currency", Currency),
        Req("opening_balance", Money), Req("overdraft_limit", Money), Req("branch", Text),
    ]);

    public static CsvLayout Transactions { get; } = new(BankFile.Transactions, "transactions.csv", "transaction.posted",
    [
        Req("transaction_id", Id), Req("occurred_at", Instant), Req("account_id", Id), Req("customer_id", Id),
        Req("transaction_type", "deposit | withdrawal | card_purchase | transfer_in | transfer_out | fee | interest"),
        Req("amount", Money + " (a positive magnitude; the type gives the direction)"), Req("currency", Currency),
        Req("channel", "branch | atm | card | online | mobile | system"),
        Opt("merchant_category", "groceries | restaurants | fuel | transport | travel | utilities | telecoms | health | clothing | electronics | entertainment | education | home_garden | insurance | other, or empty"),
        Opt("merchant_name", Optional), Opt("counterparty", Optional), Opt("reference", Optional),
        Req("city", Text), Req("country", "ISO 3166-1 alpha-2"),
        Req("latitude", "decimal degrees, e.g. -26.2041"), Req("longitude", "decimal degrees, e.g. 28.0473"),
    ]);

    public static CsvLayout Loans { get; } = new(BankFile.Loans, "loans.csv", "loan.disbursed",
    [
        Req("loan_id", Id), Req("disbursed_at", Instant), Req("customer_id", Id), Req("account_id", Id),
        Req("product", "personal | vehicle | home | business"), Req("principal", Money), Req("currency", Currency),
        Req("annual_interest_rate", "decimal fraction, at most 6 places, e.g. 0.1175"), Req("term_months", "whole number"),
        Req("monthly_instalment", Money), Req("first_due_date", Date),
    ]);

    public static CsvLayout LoanPayments { get; } = new(BankFile.LoanPayments, "loan_payments.csv", "loan.payment_made",
    [
        Req("payment_id", Id), Req("paid_at", Instant), Req("loan_id", Id), Req("customer_id", Id), Req("account_id", Id),
        Req("amount", Money), Req("principal_portion", Money), Req("interest_portion", Money), Req("currency", Currency),
        Req("due_date", Date), Req("instalment_number", "whole number"),
    ]);

    public static IReadOnlyList<CsvLayout> All { get; } = [Customers, Accounts, Transactions, Loans, LoanPayments];

    public static CsvLayout Of(BankFile file) => All[(int)file];
}
