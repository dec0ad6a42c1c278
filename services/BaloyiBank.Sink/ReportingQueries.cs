using System.Data.Common;
using System.Globalization;
using System.Text;
using BaloyiBank.Warehouse;
using DuckDB.NET.Data;
using Npgsql;

namespace BaloyiBank.Sink;

/// <summary>What a dashboard narrows every figure to; a null member does not filter.</summary>
public sealed record ReportFilter(DateOnly? From = null, DateOnly? To = null, string? Category = null, string? Country = null, string? Currency = null);

/// <summary>The values each filter can take: the date range and the distinct categories, countries and currencies.</summary>
public sealed record ReportFacets(DateOnly? FirstDate, DateOnly? LastDate, IReadOnlyList<string> Categories, IReadOnlyList<string> Countries, IReadOnlyList<string> Currencies);

/// <summary>Transactions of one day in one currency.</summary>
public sealed record TrendPoint(DateOnly Date, string Currency, long TransactionCount, decimal TotalAmount, decimal NetAmount);

/// <summary>Transactions of one category in one currency.</summary>
public sealed record CategoryTotal(string Category, string Currency, long TransactionCount, decimal TotalAmount, decimal NetAmount);

/// <summary>Transactions of one city in one currency, at the centroid of where they happened.</summary>
public sealed record PlaceAmount(string Country, string City, string Currency, long TransactionCount, decimal TotalAmount, double Latitude, double Longitude);

/// <summary>A customer's net position in one currency and their rank in it (among all customers, or in the filtered country).</summary>
public sealed record TopCustomer(string Currency, long Rank, string CustomerId, string? FirstName, string? LastName, string? Segment, string? Country, string? City,
    decimal Deposits, decimal LoansOutstanding, decimal NetPosition);

/// <summary>
/// The dashboards' questions, asked of the warehouse's reporting views only (<see cref="SinkModel.Views"/>), never of
/// its tables: each narrows a view with the filter (parameters, not text) and sums what is left per currency, so money
/// in different currencies is never added up. One instance per connection; not thread-safe.
/// </summary>
public sealed class ReportingQueries : IDisposable
{
    private readonly DbConnection _connection;
    private readonly SqlDialect _dialect;

    private ReportingQueries(DbConnection connection, SqlDialect dialect) => (_connection, _dialect) = (connection, dialect);

    /// <summary>
    /// The embedded DuckDB warehouse file, opened <b>read-only</b> (<c>ACCESS_MODE=READ_ONLY</c>): DuckDB allows one
    /// writing process per file, so this fails while a pipeline (<c>baloyi run</c>) holds it, and never blocks one.
    /// </summary>
    public static ReportingQueries OpenDuckDb(string path, string schema = "baloyi")
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No DuckDB warehouse at {path}: run the pipeline first (baloyi run --data …).", path);
        }

        var builder = new DuckDBConnectionStringBuilder { DataSource = Path.GetFullPath(path) };
        builder["access_mode"] = "READ_ONLY";
        var connection = new DuckDBConnection(builder.ConnectionString);
        try
        {
            connection.Open();
        }
        catch (Exception e) when (e is DuckDBException or InvalidOperationException)
        {
            connection.Dispose();
            throw new InvalidOperationException(
                $"Could not open the DuckDB warehouse {path} read-only ({e.Message}). DuckDB lets one process write a file and no other open it meanwhile: " +
                "stop the pipeline writing it (baloyi run) first, or use a PostgreSQL warehouse.", e);
        }

        return new(connection, new DuckDbSqlDialect(schema));
    }

    /// <summary>A PostgreSQL warehouse (<c>postgres://…</c> or Npgsql keywords).</summary>
    public static ReportingQueries OpenPostgres(string connectionString, string schema = "baloyi")
    {
        var connection = new NpgsqlConnection(PostgresWarehouse.ToKeywords(connectionString));
        try
        {
            connection.Open();
        }
        catch
        {
            connection.Dispose();
            throw;
        }

        return new(connection, new PostgresSqlDialect(schema));
    }

    public ReportFacets Facets()
    {
        DateOnly? first = null, last = null;
        using (var reader = Read($"SELECT MIN({Q("event_date")}), MAX({Q("event_date")}) FROM {View("transaction_trends_daily")}", []))
        {
            if (reader.Read() && !reader.IsDBNull(0))
            {
                (first, last) = (reader.GetFieldValue<DateOnly>(0), reader.GetFieldValue<DateOnly>(1));
            }
        }

        return new(first, last, Distinct("totals_by_category", "category"), Distinct("amounts_by_place", "country"), Distinct("transaction_trends_daily", "currency"));
    }

    /// <summary>Count, amount and net per day and currency (<c>transaction_trends_daily</c>), by date then currency.</summary>
    public IReadOnlyList<TrendPoint> Trends(ReportFilter filter)
    {
        var (where, values) = Where(filter, withDates: true);
        List<TrendPoint> rows = [];
        using var reader = Read(
            $"SELECT {Q("event_date")}, {Q("currency")}, {Sums()} FROM {View("transaction_trends_daily")}{where} " +
            $"GROUP BY {Q("event_date")}, {Q("currency")} ORDER BY {Q("event_date")}, {Q("currency")}", values);
        while (reader.Read())
        {
            rows.Add(new(reader.GetFieldValue<DateOnly>(0), reader.GetString(1), reader.GetInt64(2), reader.GetDecimal(3), reader.GetDecimal(4)));
        }

        return rows;
    }

    /// <summary>Count, amount and net per category and currency (<c>totals_by_category</c>), largest amount first.</summary>
    public IReadOnlyList<CategoryTotal> Categories(ReportFilter filter)
    {
        var (where, values) = Where(filter, withDates: true);
        List<CategoryTotal> rows = [];
        using var reader = Read(
            $"SELECT {Q("category")}, {Q("currency")}, {Sums()} FROM {View("totals_by_category")}{where} " +
            $"GROUP BY {Q("category")}, {Q("currency")} ORDER BY {Q("currency")}, 5 DESC, {Q("category")}", values);
        while (reader.Read())
        {
            rows.Add(new(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetDecimal(3), reader.GetDecimal(4)));
        }

        return rows;
    }

    /// <summary>Count and amount per city and currency (<c>amounts_by_place</c>), with the centroid of the filtered rows.</summary>
    public IReadOnlyList<PlaceAmount> Places(ReportFilter filter)
    {
        var (where, values) = Where(filter, withDates: true);
        var count = $"SUM({Q("transaction_count")})";
        var degrees = _dialect.TypeName(new Delta.ColumnSchema("latitude", Delta.ColumnType.Double));
        List<PlaceAmount> rows = [];
        using var reader = Read(
            $"SELECT {Q("country")}, {Q("city")}, {Q("currency")}, CAST({count} AS BIGINT), SUM({Q("total_amount")}), " +
            $"CAST(SUM({Q("latitude_micro_sum")}) AS {degrees}) / {count} / 1000000, CAST(SUM({Q("longitude_micro_sum")}) AS {degrees}) / {count} / 1000000 " +
            $"FROM {View("amounts_by_place")}{where} GROUP BY {Q("country")}, {Q("city")}, {Q("currency")} " +
            $"ORDER BY {Q("currency")}, 5 DESC, {Q("country")}, {Q("city")}", values);
        while (reader.Read())
        {
            rows.Add(new(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3), reader.GetDecimal(4), reader.GetDouble(5), reader.GetDouble(6)));
        }

        return rows;
    }

    /// <summary>
    /// The <paramref name="limit"/> customers with the highest net position per currency (<c>top_customers_by_net_position</c>);
    /// with a country filter, the top of that country (its own rank). Positions are current state: the date and
    /// category filters do not apply to them.
    /// </summary>
    public IReadOnlyList<TopCustomer> TopCustomers(ReportFilter filter, int limit = 10)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, SinkModel.TopCustomers);
        var rank = filter.Country is null ? "position_rank" : "country_rank";
        var (where, values) = Where(filter with { Category = null }, withDates: false);
        where = (where.Length == 0 ? " WHERE " : where + " AND ") + $"{Q(rank)} <= {limit.ToString(CultureInfo.InvariantCulture)}";
        List<TopCustomer> rows = [];
        using var reader = Read(
            $"SELECT {Q("currency")}, CAST({Q(rank)} AS BIGINT), {Q("customer_id")}, {Q("first_name")}, {Q("last_name")}, {Q("segment")}, {Q("country")}, {Q("city")}, " +
            $"{Q("deposits")}, {Q("loans_outstanding")}, {Q("net_position")} FROM {View("top_customers_by_net_position")}{where} ORDER BY {Q("currency")}, 2", values);
        while (reader.Read())
        {
            rows.Add(new(reader.GetString(0), reader.GetInt64(1), reader.GetString(2), Text(reader, 3), Text(reader, 4), Text(reader, 5), Text(reader, 6), Text(reader, 7),
                reader.GetDecimal(8), reader.GetDecimal(9), reader.GetDecimal(10)));
        }

        return rows;
    }

    public void Dispose() => _connection.Dispose();

    private List<string> Distinct(string view, string column)
    {
        List<string> values = [];
        using var reader = Read($"SELECT DISTINCT {Q(column)} FROM {View(view)} WHERE {Q(column)} IS NOT NULL ORDER BY {Q(column)}", []);
        while (reader.Read())
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }

    private (string Sql, List<object> Values) Where(ReportFilter filter, bool withDates)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var sql = new StringBuilder();
        List<object> values = [];
        void Add(string column, string op, object? value)
        {
            if (value is null)
            {
                return;
            }

            values.Add(value);
            sql.Append(sql.Length == 0 ? " WHERE " : " AND ").Append(Q(column)).Append(' ').Append(op).Append(' ').Append(_dialect.Parameter(values.Count));
        }

        if (withDates)
        {
            Add("event_date", ">=", filter.From);
            Add("event_date", "<=", filter.To);
        }

        Add("category", "=", filter.Category);
        Add("country", "=", filter.Country);
        Add("currency", "=", filter.Currency);
        return (sql.ToString(), values);
    }

    private DbDataReader Read(string sql, IReadOnlyList<object> values)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (var value in values)
        {
            var parameter = command.CreateParameter();
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        return command.ExecuteReader();
    }

    private string Sums() =>
        $"CAST(SUM({Q("transaction_count")}) AS BIGINT), SUM({Q("total_amount")}), SUM({Q("net_amount")})";

    private string Q(string name) => _dialect.Quote(name);

    private string View(string name) => _dialect.Table(name);

    private static string? Text(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
