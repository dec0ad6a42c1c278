using BaloyiBank.Delta;
using BaloyiBank.Warehouse;

namespace BaloyiBank.Sink;

/// <summary>
/// What the sink keeps in the warehouse: one table per business gold table (same columns, gold's keys, MERGEd
/// only when <c>gold_version</c> is newer) and the reporting views the dashboards read. The place view carries each
/// place's centroid from gold's latitude/longitude sums.
/// </summary>
public static class SinkModel
{
    /// <summary>Accounts: the large table, distributed by account on Synapse.</summary>
    public static WarehouseTable AccountBalances { get; } = Table(GoldTables.AccountBalances) with
    {
        Distribution = SynapseDistribution.Hash("account_id"),
    };

    /// <summary>One row per customer and currency: distributed by customer.</summary>
    public static WarehouseTable CustomerPositions { get; } = Table(GoldTables.CustomerPositions) with
    {
        Distribution = SynapseDistribution.Hash("customer_id"),
    };

    /// <summary>Days × categories × places × currencies: small enough to replicate to every Synapse node.</summary>
    public static WarehouseTable DailyTransactionSummary { get; } = Table(GoldTables.DailyTransactionSummary) with
    {
        Distribution = SynapseDistribution.Replicate,
    };

    /// <summary>Loans: distributed by loan.</summary>
    public static WarehouseTable LoanStatus { get; } = Table(GoldTables.LoanStatus) with
    {
        Distribution = SynapseDistribution.Hash("loan_id"),
    };

    /// <summary>Every warehouse table, in gold's commit order.</summary>
    public static IReadOnlyList<WarehouseTable> Tables { get; } = [AccountBalances, CustomerPositions, DailyTransactionSummary, LoanStatus];

    /// <summary>How many customers per currency <c>top_customers_by_net_position</c> keeps.</summary>
    public const int TopCustomers = 100;

    /// <summary>
    /// The reporting views the dashboards read (portable SQL: DuckDB, PostgreSQL and T-SQL alike; no ORDER BY in a view).
    /// Each keeps the columns a dashboard filters on (event date, category, country, currency), so a reader narrows it
    /// with WHERE and sums what is left; every money column stays per currency.
    /// </summary>
    public static IReadOnlyList<WarehouseView> Views { get; } =
    [
        new("transaction_trends_daily", d =>
            $"SELECT {Cols(d, "event_date", "category", "country", "currency")}, {Sums(d)} FROM {d.Table("daily_transaction_summary")} " +
            $"GROUP BY {Cols(d, "event_date", "category", "country", "currency")}"),
        new("totals_by_category", d =>
            $"SELECT {Cols(d, "category", "event_date", "country", "currency")}, {Sums(d)} FROM {d.Table("daily_transaction_summary")} " +
            $"GROUP BY {Cols(d, "category", "event_date", "country", "currency")}"),
        new("amounts_by_place", d =>
            $"SELECT {Cols(d, "country", "city", "event_date", "category", "currency")}, {Sums(d)}, " +
            $"SUM({d.Quote(GoldTables.LatitudeMicroSumColumn)}) AS {d.Quote(GoldTables.LatitudeMicroSumColumn)}, " +
            $"SUM({d.Quote(GoldTables.LongitudeMicroSumColumn)}) AS {d.Quote(GoldTables.LongitudeMicroSumColumn)}, " +
            $"{Centroid(d, GoldTables.LatitudeMicroSumColumn)} AS {d.Quote("latitude")}, {Centroid(d, GoldTables.LongitudeMicroSumColumn)} AS {d.Quote("longitude")} " +
            $"FROM {d.Table("daily_transaction_summary")} GROUP BY {Cols(d, "country", "city", "event_date", "category", "currency")}"),
        new("top_customers_by_net_position", d =>
            $"SELECT {Cols(d, "currency", "position_rank", "country_rank", "customer_id", "first_name", "last_name", "segment", "country", "city", "deposits", "loans_outstanding", "net_position")} " +
            $"FROM (SELECT {Cols(d, "currency", "customer_id", "first_name", "last_name", "segment", "country", "city", "deposits", "loans_outstanding", "net_position")}, " +
            $"ROW_NUMBER() OVER (PARTITION BY {d.Quote("currency")} ORDER BY {d.Quote("net_position")} DESC, {d.Quote("customer_id")}) AS {d.Quote("position_rank")}, " +
            $"ROW_NUMBER() OVER (PARTITION BY {d.Quote("currency")}, {d.Quote("country")} ORDER BY {d.Quote("net_position")} DESC, {d.Quote("customer_id")}) AS {d.Quote("country_rank")} " +
            $"FROM {d.Table("customer_positions")}) {d.Quote("ranked")} WHERE {d.Quote("position_rank")} <= {TopCustomers} OR {d.Quote("country_rank")} <= {TopCustomers}"),
    ];

    /// <summary>
    /// Versioned changes for warehouses created before them (a fresh warehouse's CREATE TABLE already has the columns,
    /// so each statement is a no-op there). Rows loaded before v1 hold NULL sums until gold is rebuilt and reloaded.
    /// </summary>
    public static IReadOnlyList<WarehouseMigration> Migrations { get; } =
    [
        new(1, "daily_transaction_summary: latitude_micro_sum, longitude_micro_sum", d =>
            [.. new[] { GoldTables.LatitudeMicroSumColumn, GoldTables.LongitudeMicroSumColumn }.Select(column => AddColumnIfMissing(d, "daily_transaction_summary", column, "BIGINT"))]),
    ];

    /// <summary>The warehouse model the sink ensures on start.</summary>
    public static WarehouseModel Model { get; } = new(Tables, Migrations, Views);

    /// <summary>The warehouse table of a gold table.</summary>
    public static WarehouseTable For(TableSchema gold)
    {
        ArgumentNullException.ThrowIfNull(gold);
        return Tables.FirstOrDefault(t => t.Name == gold.Name) ?? throw new ArgumentException($"'{gold.Name}' is not loaded into the warehouse.", nameof(gold));
    }

    private static WarehouseTable Table(TableSchema gold) => new(gold, GoldTables.KeyOf(gold), GoldTables.VersionColumn);

    private static string Cols(Warehouse.SqlDialect d, params string[] names) => string.Join(", ", names.Select(d.Quote));

    // Σ micro-degrees / Σ transactions / 10^6 as a double: exact for any set of rows a reader sums (weighted centroid).
    private static string Centroid(Warehouse.SqlDialect d, string sumColumn) =>
        $"CAST(SUM({d.Quote(sumColumn)}) AS {d.TypeName(new ColumnSchema(sumColumn, ColumnType.Double))}) / NULLIF(SUM({d.Quote("transaction_count")}), 0) / 1000000";

    private static string AddColumnIfMissing(Warehouse.SqlDialect d, string table, string column, string type) => d.Engine switch
    {
        WarehouseEngine.DuckDb or WarehouseEngine.PostgreSql => $"ALTER TABLE {d.Table(table)} ADD COLUMN IF NOT EXISTS {d.Quote(column)} {type}",
        _ => $"IF COL_LENGTH(N'{d.Schema}.{table}', N'{column}') IS NULL ALTER TABLE {d.Table(table)} ADD {d.Quote(column)} {type} NULL;",
    };

    private static string Sums(Warehouse.SqlDialect d) =>
        $"SUM({d.Quote("transaction_count")}) AS {d.Quote("transaction_count")}, SUM({d.Quote("total_amount")}) AS {d.Quote("total_amount")}, " +
        $"SUM({d.Quote("net_amount")}) AS {d.Quote("net_amount")}, MIN({d.Quote("min_amount")}) AS {d.Quote("min_amount")}, MAX({d.Quote("max_amount")}) AS {d.Quote("max_amount")}";
}
