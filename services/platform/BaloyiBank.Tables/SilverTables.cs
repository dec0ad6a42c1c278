using BaloyiBank.Delta;

namespace BaloyiBank.Tables;

/// <summary>
/// The silver layer's tables. Every silver row carries its lineage (where in the log it came
/// from, when it was enqueued and ingested, which schema version wrote it), so any row can be
/// traced back to its raw event in the log or the bronze archive.
/// </summary>
public static class SilverTables
{
    private static readonly ColumnSchema[] Lineage =
    [
        new("source_partition", ColumnType.Integer),
        new("source_offset", ColumnType.Long),
        new("enqueued_at", ColumnType.Timestamp),
        new("ingested_at", ColumnType.Timestamp),
        new("schema_version", ColumnType.Integer),
    ];

    /// <summary>Money movements, partitioned by the UTC date of the fact: the big, ever-growing table.</summary>
    public static TableSchema Transactions { get; } = new("transactions",
    [
        new("transaction_id", ColumnType.String),
        new("event_id", ColumnType.String),
        new("account_id", ColumnType.String),
        new("customer_id", ColumnType.String),
        new("transaction_type", ColumnType.String),
        new("direction", ColumnType.String),
        new("amount", ColumnType.Money),
        new("signed_amount", ColumnType.Money),
        new("currency", ColumnType.String),
        new("channel", ColumnType.String),
        new("merchant_category", ColumnType.String, Nullable: true),
        new("merchant_name", ColumnType.String, Nullable: true),
        new("counterparty", ColumnType.String, Nullable: true),
        new("reference", ColumnType.String, Nullable: true),
        new("city", ColumnType.String),
        new("country", ColumnType.String),
        new("latitude", ColumnType.Double),
        new("longitude", ColumnType.Double),
        new("occurred_at", ColumnType.Timestamp),
        new("event_date", ColumnType.Date),
        .. Lineage,
    ], ["event_date"]);

    // Reference tables stay unpartitioned: they are small and read whole by the aggregator.
    public static TableSchema Customers { get; } = new("customers",
    [
        new("customer_id", ColumnType.String),
        new("event_id", ColumnType.String),
        new("first_name", ColumnType.String),
        new("last_name", ColumnType.String),
        new("email", ColumnType.String),
        new("date_of_birth", ColumnType.Date),
        new("segment", ColumnType.String),
        new("city", ColumnType.String),
        new("country", ColumnType.String),
        new("occurred_at", ColumnType.Timestamp),
        .. Lineage,
    ], []);

    public static TableSchema Accounts { get; } = new("accounts",
    [
        new("account_id", ColumnType.String),
        new("event_id", ColumnType.String),
        new("customer_id", ColumnType.String),
        new("account_type", ColumnType.String),
        new("currency", ColumnType.String),
        new("opening_balance", ColumnType.Money),
        new("overdraft_limit", ColumnType.Money),
        new("branch", ColumnType.String),
        new("occurred_at", ColumnType.Timestamp),
        .. Lineage,
    ], []);

    public static TableSchema Loans { get; } = new("loans",
    [
        new("loan_id", ColumnType.String),
        new("event_id", ColumnType.String),
        new("customer_id", ColumnType.String),
        new("account_id", ColumnType.String),
        new("product", ColumnType.String),
        new("principal", ColumnType.Money),
        new("currency", ColumnType.String),
        new("annual_interest_rate", ColumnType.Rate),
        new("term_months", ColumnType.Integer),
        new("monthly_instalment", ColumnType.Money),
        new("first_due_date", ColumnType.Date),
        new("occurred_at", ColumnType.Timestamp),
        .. Lineage,
    ], []);

    /// <summary>Instalments grow with every month of every loan, so they are partitioned like transactions.</summary>
    public static TableSchema LoanPayments { get; } = new("loan_payments",
    [
        new("payment_id", ColumnType.String),
        new("event_id", ColumnType.String),
        new("loan_id", ColumnType.String),
        new("customer_id", ColumnType.String),
        new("account_id", ColumnType.String),
        new("amount", ColumnType.Money),
        new("principal_portion", ColumnType.Money),
        new("interest_portion", ColumnType.Money),
        new("currency", ColumnType.String),
        new("due_date", ColumnType.Date),
        new("instalment_number", ColumnType.Integer),
        new("occurred_at", ColumnType.Timestamp),
        new("event_date", ColumnType.Date),
        .. Lineage,
    ], ["event_date"]);

    /// <summary>Rejected events with their raw bytes, partitioned by the UTC date they were ingested.</summary>
    public static TableSchema Quarantine { get; } = new("quarantine",
    [
        new("source_partition", ColumnType.Integer),
        new("source_offset", ColumnType.Long),
        new("enqueued_at", ColumnType.Timestamp),
        new("ingested_at", ColumnType.Timestamp),
        new("reason", ColumnType.String),
        new("detail", ColumnType.String),
        new("event_type", ColumnType.String, Nullable: true),
        new("payload", ColumnType.Binary),
        new("payload_bytes", ColumnType.Long),
        new("ingest_date", ColumnType.Date),
    ], ["ingest_date"]);

    /// <summary>Every table the cleanser writes, silver first, quarantine last.</summary>
    public static IReadOnlyList<TableSchema> All { get; } = [Transactions, Customers, Accounts, Loans, LoanPayments, Quarantine];
}
