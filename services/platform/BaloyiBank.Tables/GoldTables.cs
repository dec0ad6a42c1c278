using System.Text;
using BaloyiBank.Delta;

namespace BaloyiBank.Tables;

/// <summary>
/// The gold layer's tables, each kept twice under the gold root:
/// <list type="bullet">
/// <item><c>{gold}/{table}</c>: the <b>current state</b>, exactly one row per key as of the round recorded in its
/// latest commit (what Spark, Synapse or Power BI read). Account, customer and loan tables are laid out in
/// <see cref="BucketCount"/> files by a hash of their key (<see cref="BucketOf"/>); the daily summary is partitioned
/// by <c>event_date</c>. A refresh rewrites only the files of buckets or dates whose rows changed.</item>
/// <item><c>{gold}/changes/{table}</c>: the <b>change table</b> the sink loads incrementally: every round appends
/// the new image of each row it changed, stamped with <c>gold_version</c> (the aggregator's round, the same in
/// every table); a key's current row is its image with the highest <c>gold_version</c>.</item>
/// </list>
/// Money is decimal(18,2); amounts in different currencies are never added together: currency is part of every
/// key that sums money.
/// </summary>
public static class GoldTables
{
    /// <summary>The round (gold commit) that last changed the row: the warehouse MERGEs only-if-newer on it.</summary>
    public const string VersionColumn = "gold_version";

    /// <summary>When that round committed (wall clock; lineage, not business data).</summary>
    public const string UpdatedAtColumn = "updated_at";

    /// <summary>The daily summary's sum of its transactions' latitudes in micro-degrees (round half away from zero).</summary>
    public const string LatitudeMicroSumColumn = "latitude_micro_sum";

    /// <summary>The daily summary's sum of its transactions' longitudes in micro-degrees (round half away from zero).</summary>
    public const string LongitudeMicroSumColumn = "longitude_micro_sum";

    private static readonly ColumnSchema[] Lineage =
    [
        new(VersionColumn, ColumnType.Long),
        new(UpdatedAtColumn, ColumnType.Timestamp),
    ];

    /// <summary>One row per account: reference data, balance folded from every transaction, activity.</summary>
    public static TableSchema AccountBalances { get; } = new("account_balances",
    [
        new("account_id", ColumnType.String),
        new("customer_id", ColumnType.String, Nullable: true),
        new("account_type", ColumnType.String, Nullable: true),
        new("currency", ColumnType.String),
        new("opening_balance", ColumnType.Money, Nullable: true),
        new("overdraft_limit", ColumnType.Money, Nullable: true),
        new("balance", ColumnType.Money),
        new("available_balance", ColumnType.Money),
        new("transaction_count", ColumnType.Long),
        new("total_credits", ColumnType.Money),
        new("total_debits", ColumnType.Money),
        new("first_transaction_at", ColumnType.Timestamp, Nullable: true),
        new("last_transaction_at", ColumnType.Timestamp, Nullable: true),
        new("opened_at", ColumnType.Timestamp, Nullable: true),
        new("source_partition", ColumnType.Integer),
        new("opened_source_offset", ColumnType.Long, Nullable: true),
        new("last_source_offset", ColumnType.Long),
        .. Lineage,
    ], []);

    /// <summary>One row per customer and currency: what the customer holds and owes in that currency.</summary>
    public static TableSchema CustomerPositions { get; } = new("customer_positions",
    [
        new("customer_id", ColumnType.String),
        new("currency", ColumnType.String),
        new("first_name", ColumnType.String, Nullable: true),
        new("last_name", ColumnType.String, Nullable: true),
        new("segment", ColumnType.String, Nullable: true),
        new("city", ColumnType.String, Nullable: true),
        new("country", ColumnType.String, Nullable: true),
        new("accounts", ColumnType.Integer),
        new("deposits", ColumnType.Money),
        new("loans", ColumnType.Integer),
        new("loan_principal", ColumnType.Money),
        new("loan_principal_repaid", ColumnType.Money),
        new("loans_outstanding", ColumnType.Money),
        new("loan_interest_paid", ColumnType.Money),
        new("net_position", ColumnType.Money),
        new("last_activity_at", ColumnType.Timestamp, Nullable: true),
        .. Lineage,
    ], []);

    /// <summary>One row per event date, category, place and currency.</summary>
    public static TableSchema DailyTransactionSummary { get; } = new("daily_transaction_summary",
    [
        new("event_date", ColumnType.Date),
        new("category", ColumnType.String),
        new("country", ColumnType.String),
        new("city", ColumnType.String),
        new("currency", ColumnType.String),
        new("transaction_count", ColumnType.Long),
        new("total_amount", ColumnType.Money),
        new("net_amount", ColumnType.Money),
        new("avg_amount", ColumnType.Money),
        new("min_amount", ColumnType.Money),
        new("max_amount", ColumnType.Money),
        new("distinct_accounts", ColumnType.Long),
        // Where the bucket's transactions happened: sums of round(degrees × 10^6), so the centroid of any set of rows
        // (one bucket, a city over a date range, …) is exactly SUM(sum) / SUM(transaction_count) / 10^6.
        new(LatitudeMicroSumColumn, ColumnType.Long),
        new(LongitudeMicroSumColumn, ColumnType.Long),
        .. Lineage,
    ], []);

    /// <summary>One row per loan: terms, repayments, what is outstanding and how late, as of the data's own date.</summary>
    public static TableSchema LoanStatus { get; } = new("loan_status",
    [
        new("loan_id", ColumnType.String),
        new("customer_id", ColumnType.String, Nullable: true),
        new("account_id", ColumnType.String, Nullable: true),
        new("product", ColumnType.String, Nullable: true),
        new("currency", ColumnType.String, Nullable: true),
        new("principal", ColumnType.Money, Nullable: true),
        new("annual_interest_rate", ColumnType.Rate, Nullable: true),
        new("term_months", ColumnType.Integer, Nullable: true),
        new("monthly_instalment", ColumnType.Money, Nullable: true),
        new("first_due_date", ColumnType.Date, Nullable: true),
        new("disbursed_at", ColumnType.Timestamp, Nullable: true),
        new("instalments_paid", ColumnType.Long),
        new("paid_to_date", ColumnType.Money),
        new("principal_repaid", ColumnType.Money),
        new("interest_paid", ColumnType.Money),
        new("outstanding", ColumnType.Money, Nullable: true),
        new("last_payment_at", ColumnType.Timestamp, Nullable: true),
        new("next_due_date", ColumnType.Date, Nullable: true),
        new("days_past_due", ColumnType.Integer, Nullable: true),
        new("as_of_date", ColumnType.Date, Nullable: true),
        new("source_partition", ColumnType.Integer),
        new("disbursed_source_offset", ColumnType.Long, Nullable: true),
        new("last_source_offset", ColumnType.Long),
        .. Lineage,
    ], []);

    /// <summary>The four business tables, in commit order.</summary>
    public static IReadOnlyList<TableSchema> Business { get; } = [AccountBalances, CustomerPositions, DailyTransactionSummary, LoanStatus];

    /// <summary>
    /// Every table a gold round commits. The aggregator's (bucket, account) memory behind <c>distinct_accounts</c> is
    /// not persisted: the aggregator rebuilds it from silver on start.
    /// </summary>
    public static IReadOnlyList<TableSchema> All { get; } = Business;

    /// <summary>The lake path of a table's current state (one row per key): <c>{gold}/{table}</c>.</summary>
    public static string TablePath(string goldRoot, TableSchema schema)
    {
        ArgumentNullException.ThrowIfNull(goldRoot);
        ArgumentNullException.ThrowIfNull(schema);
        return $"{goldRoot.TrimEnd('/')}/{schema.Name}";
    }

    /// <summary>The lake path of a table's change table (every round's changed rows): <c>{gold}/changes/{table}</c>.</summary>
    public static string ChangeTablePath(string goldRoot, TableSchema schema)
    {
        ArgumentNullException.ThrowIfNull(goldRoot);
        ArgumentNullException.ThrowIfNull(schema);
        return $"{goldRoot.TrimEnd('/')}/{ChangesFolder}/{schema.Name}";
    }

    /// <summary>
    /// SQL (DuckDB) for the current rows of a change table's files <paramref name="from"/>: the latest image per key with
    /// gold_version ≤ <paramref name="throughRound"/>, in key order.
    /// </summary>
    public static string CurrentRowsSql(TableSchema schema, string from, long throughRound = long.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var key = string.Join(", ", KeyOf(schema).Select(k => $"\"{k}\""));
        var columns = string.Join(", ", schema.Columns.Select(c => $"\"{c.Name}\""));
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"SELECT {columns} FROM {from} WHERE {VersionColumn} <= {throughRound} " +
            $"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY {VersionColumn} DESC) = 1 ORDER BY {key}");
    }

    /// <summary>The folder under the gold root that holds the change tables.</summary>
    public const string ChangesFolder = "changes";

    /// <summary>Files per bucketed current-state table: a refresh rewrites the buckets its changed keys hash to.</summary>
    public const int BucketCount = 16;

    /// <summary>The current-state table's schema: the daily summary is partitioned by event date, the others are not.</summary>
    public static TableSchema CurrentLayout(TableSchema table)
    {
        ArgumentNullException.ThrowIfNull(table);
        return table.Name == DailyTransactionSummary.Name ? table with { PartitionColumns = ["event_date"] } : table;
    }

    /// <summary>The column a bucketed current-state table hashes (null for the daily summary, which is partitioned).</summary>
    public static string? BucketColumn(TableSchema table)
    {
        ArgumentNullException.ThrowIfNull(table);
        return table.Name switch
        {
            "account_balances" => "account_id",
            "customer_positions" => "customer_id", // every currency of a customer in the same file
            "loan_status" => "loan_id",
            "daily_transaction_summary" => null,
            _ => throw new ArgumentException($"'{table.Name}' is not a gold table.", nameof(table)),
        };
    }

    /// <summary>
    /// The bucket of a key: 32-bit FNV-1a of its UTF-8 bytes, modulo <see cref="BucketCount"/> (stable across
    /// processes and languages, so another engine can compute it too).
    /// </summary>
    public static int BucketOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Span<byte> buffer = stackalloc byte[256];
        var bytes = Encoding.UTF8.GetMaxByteCount(key.Length) <= buffer.Length ? buffer[..Encoding.UTF8.GetBytes(key, buffer)] : Encoding.UTF8.GetBytes(key);
        var hash = 2166136261u;
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * 16777619u;
        }

        return (int)(hash % BucketCount);
    }

    /// <summary>The key columns of each table: at most one current row per key.</summary>
    public static IReadOnlyList<string> KeyOf(TableSchema table)
    {
        ArgumentNullException.ThrowIfNull(table);
        return table.Name switch
        {
            "account_balances" => ["account_id"],
            "customer_positions" => ["customer_id", "currency"],
            "daily_transaction_summary" => ["event_date", "category", "country", "city", "currency"],
            "loan_status" => ["loan_id"],
            _ => throw new ArgumentException($"'{table.Name}' is not a gold table.", nameof(table)),
        };
    }
}
