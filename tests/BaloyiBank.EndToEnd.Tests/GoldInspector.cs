using System.Globalization;
using System.Text.Json;
using DuckDB.NET.Data;

namespace BaloyiBank.EndToEnd.Tests;

/// <summary>
/// Reads the lake as any Delta reader would, sharing no code with the services: replays a table's <c>_delta_log</c>
/// (the last checkpoint, read with DuckDB, then the JSON commits after it) to its active data files, and queries
/// them with DuckDB's <c>read_parquet</c>.
/// </summary>
internal static class GoldInspector
{
    /// <summary>The absolute paths of a table's active data files at its latest version.</summary>
    public static IReadOnlyList<string> ActiveFiles(string tableFolder)
    {
        var log = Path.Combine(tableFolder, "_delta_log");
        HashSet<string> active = new(StringComparer.Ordinal);
        long after = -1;
        var last = Path.Combine(log, "_last_checkpoint");
        if (File.Exists(last))
        {
            using var pointer = JsonDocument.Parse(File.ReadAllText(last));
            after = pointer.RootElement.GetProperty("version").GetInt64();
            using var connection = Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT \"add\".path FROM read_parquet('{Path.Combine(log, $"{after:D20}.checkpoint.parquet")}') WHERE \"add\" IS NOT NULL";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                active.Add(reader.GetString(0));
            }
        }

        foreach (var commit in Directory.GetFiles(log, "*.json").Order(StringComparer.Ordinal))
        {
            if (long.Parse(Path.GetFileNameWithoutExtension(commit), CultureInfo.InvariantCulture) <= after)
            {
                continue;
            }

            foreach (var line in File.ReadLines(commit).Where(l => l.Length > 0))
            {
                using var action = JsonDocument.Parse(line);
                if (action.RootElement.TryGetProperty("add", out var add))
                {
                    active.Add(add.GetProperty("path").GetString()!);
                }
                else if (action.RootElement.TryGetProperty("remove", out var remove))
                {
                    active.Remove(remove.GetProperty("path").GetString()!);
                }
            }
        }

        return [.. active.Order(StringComparer.Ordinal).Select(p => Path.Combine(tableFolder, Uri.UnescapeDataString(p)))];
    }

    /// <summary>A <c>read_parquet</c> over a table's active files (hive partition columns come from the files themselves).</summary>
    public static string From(string tableFolder)
    {
        var files = ActiveFiles(tableFolder);
        Assert.NotEmpty(files);
        return $"read_parquet([{string.Join(", ", files.Select(f => $"'{f.Replace("'", "''", StringComparison.Ordinal)}'"))}], hive_partitioning = false)";
    }

    public static DuckDBConnection Open()
    {
        var connection = new DuckDBConnection(DuckDBConnectionStringBuilder.InMemoryConnectionString);
        connection.Open();
        return connection;
    }

    public static long Scalar(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Asserts what a Delta reader of gold must find after a run: exactly one row per key in each of the four gold
    /// tables, and every account's transaction count equal to silver's count of that account's transactions.
    /// </summary>
    public static void AssertOneRowPerKeyAndCountsMatchSilver(string dataDirectory)
    {
        var lake = Path.Combine(dataDirectory, "lake");
        using var connection = Open();
        (string Table, string Key)[] tables =
        [
            ("account_balances", "account_id"),
            ("customer_positions", "customer_id, currency"),
            ("daily_transaction_summary", "event_date, category, country, city, currency"),
            ("loan_status", "loan_id"),
        ];
        foreach (var (table, key) in tables)
        {
            var from = From(Path.Combine(lake, "gold", table));
            var rows = Scalar(connection, $"SELECT count(*) FROM {from}");
            var keys = Scalar(connection, $"SELECT count(*) FROM (SELECT DISTINCT {key} FROM {from})");
            Assert.True(rows > 0, $"gold/{table} is empty");
            Assert.True(rows == keys, $"gold/{table}: {rows} rows for {keys} keys (a Delta reader must see one row per key)");
        }

        var silver = From(Path.Combine(lake, "silver", "transactions"));
        var balances = From(Path.Combine(lake, "gold", "account_balances"));
        var differing = Scalar(connection,
            $"SELECT count(*) FROM (SELECT account_id, count(*) AS n FROM {silver} GROUP BY account_id) s " +
            $"FULL OUTER JOIN (SELECT account_id, transaction_count AS n FROM {balances} WHERE transaction_count > 0) g USING (account_id) " +
            "WHERE s.n IS DISTINCT FROM g.n");
        Assert.True(differing == 0, $"{differing} accounts' transaction_count in gold/account_balances differs from silver's count of their transactions");
    }
}
