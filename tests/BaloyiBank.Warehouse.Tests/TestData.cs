using BaloyiBank.Delta;

namespace BaloyiBank.Warehouse.Tests;

/// <summary>A folder under the temp directory, deleted on dispose.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "baloyi-wh-" + Guid.NewGuid().ToString("N")[..12]);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>One row of the test table <c>accounts</c> (every column type the money path uses).</summary>
public sealed record AccountRow(
    string AccountId, string CustomerId, decimal Balance, decimal Rate, DateOnly OpenedOn, DateTimeOffset UpdatedAt,
    string? City, double Latitude, long Version, bool Deleted = false)
{
    public static AccountRow Sample(int i, long version, bool deleted = false) => new(
        $"acc-{i:D6}", $"cus-{i % 97:D4}", (i * 1234.56m) % 100000m - 5000m, 0.0525m + (i % 7) / 1000000m,
        new DateOnly(2020, 1, 1).AddDays(i % 1000), new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(i * 10_000_010L + (version * 10)),
        i % 5 == 0 ? null : $"city-{i % 11}", -26.2041 + i / 1e6, version, deleted);
}

public static class TestTables
{
    public static TableSchema AccountsSchema { get; } = new("accounts",
    [
        new("account_id", ColumnType.String),
        new("customer_id", ColumnType.String),
        new("balance", ColumnType.Money),
        new("rate", ColumnType.Rate),
        new("opened_on", ColumnType.Date),
        new("updated_at", ColumnType.Timestamp),
        new("city", ColumnType.String, Nullable: true),
        new("latitude", ColumnType.Double),
        new("version", ColumnType.Long),
        new("deleted", ColumnType.Boolean),
    ], []);

    public static WarehouseTable Accounts { get; } = new(AccountsSchema, ["account_id"], "version", "deleted")
    {
        Distribution = SynapseDistribution.Hash("account_id"),
    };

    /// <summary>A second table with a composite key and no deleted flag: daily positions.</summary>
    public static WarehouseTable Positions { get; } = new(new TableSchema("positions",
    [
        new("account_id", ColumnType.String),
        new("as_of", ColumnType.Date),
        new("net", ColumnType.Money),
        new("order", ColumnType.Integer),
        new("gold_version", ColumnType.Long),
    ], []), ["account_id", "as_of"], "gold_version")
    {
        Distribution = SynapseDistribution.Replicate,
        Index = SynapseIndex.Heap,
    };

    /// <summary>The warehouse table's columns (what Export reads).</summary>
    public static TableSchema TargetOf(WarehouseTable table) => new(table.Name, table.TargetColumns, []);
}

/// <summary>Writes change files the way gold does: DuckDB, Parquet (zstd), the table's column types.</summary>
public static class ChangeFileWriter
{
    public static string WriteAccounts(string path, IEnumerable<AccountRow> rows, string? overrideBalanceType = null)
    {
        using var connection = DuckDbConnections.Open();
        connection.Execute($"""
            CREATE TABLE f (account_id VARCHAR, customer_id VARCHAR, balance {overrideBalanceType ?? "DECIMAL(18,2)"}, rate DECIMAL(18,6),
                opened_on DATE, updated_at TIMESTAMPTZ, city VARCHAR, latitude DOUBLE, version BIGINT, deleted BOOLEAN)
            """);
        using (var appender = connection.CreateAppender("f"))
        {
            foreach (var r in rows)
            {
                appender.CreateRow().AppendValue(r.AccountId).AppendValue(r.CustomerId).AppendValue(r.Balance).AppendValue(r.Rate).AppendValue(r.OpenedOn)
                    .AppendValue(r.UpdatedAt).AppendValue(r.City).AppendValue(r.Latitude).AppendValue(r.Version).AppendValue(r.Deleted).EndRow();
            }
        }

        connection.Execute($"COPY f TO '{path}' (FORMAT parquet, COMPRESSION zstd)");
        return path;
    }

    /// <summary>An accounts file whose one row has a NULL customer_id (a NOT NULL column): a load of it must fail.</summary>
    public static string WriteAccountsWithNullCustomer(string path, IEnumerable<AccountRow> rows, string nullForAccount)
    {
        using var connection = DuckDbConnections.Open();
        WriteAccounts(path + ".tmp.parquet", rows);
        connection.Execute($"COPY (SELECT * REPLACE (CASE WHEN account_id = '{nullForAccount}' THEN NULL ELSE customer_id END AS customer_id) FROM read_parquet('{path}.tmp.parquet')) TO '{path}' (FORMAT parquet)");
        File.Delete(path + ".tmp.parquet");
        return path;
    }

    public static string WritePositions(string path, IEnumerable<(string Account, DateOnly AsOf, decimal Net, int Order, long Version)> rows)
    {
        using var connection = DuckDbConnections.Open();
        connection.Execute("CREATE TABLE f (account_id VARCHAR, as_of DATE, net DECIMAL(18,2), \"order\" INTEGER, gold_version BIGINT)");
        using (var appender = connection.CreateAppender("f"))
        {
            foreach (var r in rows)
            {
                appender.CreateRow().AppendValue(r.Account).AppendValue(r.AsOf).AppendValue(r.Net).AppendValue(r.Order).AppendValue(r.Version).EndRow();
            }
        }

        connection.Execute($"COPY f TO '{path}' (FORMAT parquet)");
        return path;
    }

    /// <summary>
    /// Reads an exported table back: one value array per row, ordered by the first column(s); NULL as null,
    /// timestamps as UTC <see cref="DateTimeOffset"/>, dates as <see cref="DateOnly"/>, blobs as byte arrays.
    /// </summary>
    public static List<object?[]> ReadParquet(string path, string orderBy)
    {
        using var connection = DuckDbConnections.Open();
        using var command = connection.Command($"SELECT * FROM read_parquet('{path}') ORDER BY {orderBy}");
        using var result = command.ExecuteReader();
        var rows = new List<object?[]>();
        while (result.Read())
        {
            var row = new object?[result.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = result.IsDBNull(i) ? null : result.GetFieldType(i) switch
                {
                    var t when t == typeof(DateTime) => result.GetFieldValue<DateTimeOffset>(i),
                    var t when t == typeof(Stream) => result.GetBlob(i),
                    _ => result.GetValue(i),
                };
            }

            rows.Add(row);
        }

        return rows;
    }
}
