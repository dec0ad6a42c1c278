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

    /// <summary>One row of <c>silver/_cleansing_batches</c>, the per-partition batch audit committed last on every flush.</summary>
    public sealed record Batch(int Partition, long FirstOffset, long LastOffset, long Consumed, long Valid, long Quarantined, long Duplicates);

    /// <summary>Every committed cleansing batch (empty before the first commit).</summary>
    public static async Task<IReadOnlyList<Batch>> BatchesAsync(string dataDirectory)
    {
        var lake = new FolderLakeStore(Path.Combine(dataDirectory, "lake"));
        using var table = new DeltaTable(lake, "silver/_cleansing_batches");
        if (await table.TryLoadAsync() is not { } snapshot)
        {
            return [];
        }

        var readSet = await table.GetReadSetAsync(snapshot);
        using var connection = new DuckDBConnection(DuckDBConnectionStringBuilder.InMemoryConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT source_partition, first_offset, last_offset, consumed, valid, quarantined, duplicates FROM {readSet.ToSql()}";
        using var result = command.ExecuteReader();
        var rows = new List<Batch>();
        while (result.Read())
        {
            rows.Add(new(result.GetInt32(0), result.GetInt64(1), result.GetInt64(2), result.GetInt64(3), result.GetInt64(4), result.GetInt64(5), result.GetInt64(6)));
        }

        return rows;
    }
}
