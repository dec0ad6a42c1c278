using System.Globalization;
using BaloyiBank.Delta;
using BaloyiBank.Lake;
using DuckDB.NET.Data;

namespace BaloyiBank.Backfill.Tests;

/// <summary>Reads a data folder independently of the services: Delta snapshots with DuckDB, the DuckDB warehouse file.</summary>
internal static class Lakehouse
{
    /// <summary>Every row of a Delta table's current snapshot as a line (columns in <paramref name="select"/>), ordered.</summary>
    public static async Task<IReadOnlyList<string>> RowsAsync(string data, string table, string select)
    {
        var lake = new FolderLakeStore(Path.Combine(data, "lake"));
        using var delta = new DeltaTable(lake, table);
        var snapshot = await delta.LoadAsync();
        var readSet = await delta.GetReadSetAsync(snapshot);
        return Query($"SELECT {select} FROM {readSet.ToSql()} ORDER BY ALL", DuckDBConnectionStringBuilder.InMemoryConnectionString);
    }

    /// <summary>The version of a Delta table's current snapshot (−1 when absent).</summary>
    public static async Task<long> VersionAsync(string data, string table)
    {
        var lake = new FolderLakeStore(Path.Combine(data, "lake"));
        using var delta = new DeltaTable(lake, table);
        return (await delta.TryLoadAsync())?.Version ?? -1;
    }

    /// <summary>The warehouse's account balances: what the bank's dashboards show.</summary>
    public static IReadOnlyList<string> WarehouseBalances(string data) =>
        Query("SELECT account_id, customer_id, currency, opening_balance, balance, available_balance, transaction_count, total_credits, total_debits, " +
              "first_transaction_at, last_transaction_at FROM baloyi.account_balances ORDER BY account_id",
            $"Data Source={Path.Combine(data, "warehouse.duckdb")};ACCESS_MODE=READ_ONLY");

    /// <summary>Every row of a warehouse table, all columns.</summary>
    public static IReadOnlyList<string> WarehouseTable(string data, string table) =>
        Query($"SELECT * FROM baloyi.{table} ORDER BY ALL", $"Data Source={Path.Combine(data, "warehouse.duckdb")};ACCESS_MODE=READ_ONLY");

    private static List<string> Query(string sql, string connectionString)
    {
        using var connection = new DuckDBConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            rows.Add(string.Join('|', Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "∅" : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture))));
        }

        return rows;
    }
}

/// <summary>The CLI in-process, as <c>baloyi</c> runs it; fails the test on a non-zero exit.</summary>
internal static class Baloyi
{
    public static async Task<(int Code, string Error)> InvokeAsync(params string[] args)
    {
        using var error = new StringWriter();
        var code = await BaloyiBank.Cli.CommandLineApp.InvokeAsync(args, Console.Out, error);
        return (code, error.ToString());
    }

    public static async Task RunAsync(params string[] args)
    {
        var (code, error) = await InvokeAsync(args);
        Assert.True(code == 0, $"baloyi {string.Join(' ', args)} exited {code}: {error}");
    }
}

internal sealed class Scratch : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("baloyi-backfill-").FullName;

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A DuckDB file still closing; the temp folder is cleaned by the OS later.
        }
    }
}
