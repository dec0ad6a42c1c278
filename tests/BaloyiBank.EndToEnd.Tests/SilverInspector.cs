using System.Globalization;
using BaloyiBank.Delta;
using BaloyiBank.Lake;
using DuckDB.NET.Data;

namespace BaloyiBank.EndToEnd.Tests;

/// <summary>Reads a silver table's current Delta snapshot with DuckDB, independently of the services.</summary>
internal static class SilverInspector
{
    /// <summary>Every silver transaction as one comparable line, ordered by transaction id (lineage's wall-clock columns left out).</summary>
    public static async Task<IReadOnlyList<string>> TransactionsAsync(string dataDirectory)
    {
        var lake = new FolderLakeStore(Path.Combine(dataDirectory, "lake"));
        using var table = new DeltaTable(lake, "silver/transactions");
        var snapshot = await table.LoadAsync();
        var readSet = await table.GetReadSetAsync(snapshot);
        using var connection = new DuckDBConnection(DuckDBConnectionStringBuilder.InMemoryConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText =
            "SELECT transaction_id, account_id, transaction_type, CAST(amount AS VARCHAR), currency, CAST(occurred_at AS VARCHAR), " +
            $"source_partition, source_offset FROM {readSet.ToSql()} ORDER BY transaction_id";
        using var result = command.ExecuteReader();
        var rows = new List<string>();
        while (result.Read())
        {
            rows.Add(string.Join('|', Enumerable.Range(0, 8).Select(i => Convert.ToString(result.GetValue(i), CultureInfo.InvariantCulture))));
        }

        return rows;
    }
}
