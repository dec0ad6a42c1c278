using BaloyiBank.Delta;
using BaloyiBank.Lake;
using BaloyiBank.Warehouse;
using DuckDB.NET.Data;

namespace BaloyiBank.Sink;

/// <summary>One warehouse table against gold's current rows as of the warehouse's watermark.</summary>
/// <param name="Missing">Gold rows the warehouse lacks or holds differently.</param>
/// <param name="Unexpected">Warehouse rows gold does not have (as they are).</param>
public sealed record SinkTableComparison(string Table, long WarehouseRows, long GoldRows, long Missing, long Unexpected)
{
    public long Differences => Missing + Unexpected;
}

/// <summary>Every warehouse table compared with gold: the round compared at, the rounds gold is ahead, per table counts.</summary>
public sealed record SinkVerificationReport(long Watermark, long GoldRound, IReadOnlyList<SinkTableComparison> Tables)
{
    public long RowsCompared => Tables.Sum(t => Math.Max(t.WarehouseRows, t.GoldRows));

    public long Differences => Tables.Sum(t => t.Differences);

    public bool Matches => Differences == 0;
}

/// <summary>
/// Compares the warehouse with gold whatever the engine: each table is exported to Parquet
/// (<see cref="IWarehouse.ExportAsync"/>) and compared in DuckDB with gold's current rows as of the warehouse's
/// watermark round, every column (gold_version and updated_at too), <c>EXCEPT ALL</c> both ways. Reads only.
/// </summary>
public static class SinkVerifier
{
    public static async Task<SinkVerificationReport> VerifyAsync(ILakeStore lake, IWarehouse warehouse, SinkOptions options, string workFolder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lake);
        ArgumentNullException.ThrowIfNull(warehouse);
        ArgumentNullException.ThrowIfNull(options);
        Directory.CreateDirectory(workFolder);
        using var loader = new SinkLoader(lake, warehouse, options);
        var watermark = await loader.WatermarkAsync(cancellationToken).ConfigureAwait(false);
        var goldRound = watermark + await loader.LagAsync(cancellationToken).ConfigureAwait(false);
        // The live gold generation's tables (after a rebuild, gold/g000N): what the warehouse follows.
        var (_, goldRoot) = await loader.LiveGoldAsync(cancellationToken).ConfigureAwait(false);
        using var connection = new DuckDBConnection(DuckDBConnectionStringBuilder.InMemoryConnectionString);
        connection.Open();
        // As every DuckDB session of the platform: casts between TIMESTAMP and TIMESTAMPTZ never shift by the machine's zone.
        using (var utc = connection.CreateCommand())
        {
            utc.CommandText = "SET TimeZone = 'UTC'";
            utc.ExecuteNonQuery();
        }

        List<SinkTableComparison> tables = [];
        foreach (var schema in GoldTables.Business)
        {
            var export = Path.Combine(workFolder, $"{schema.Name}.parquet");
            var warehouseRows = await warehouse.ExportAsync(schema, export, cancellationToken).ConfigureAwait(false);
            using var table = new DeltaTable(lake, GoldTables.ChangeTablePath(goldRoot, schema));
            var snapshot = await table.TryLoadAsync(cancellationToken).ConfigureAwait(false);
            var from = snapshot is null
                ? new DeltaReadSet(schema, -1, []).ToSql()
                : (await table.GetReadSetAsync(snapshot, Path.Combine(workFolder, "gold", schema.Name), cancellationToken).ConfigureAwait(false)).ToSql();
            var columns = string.Join(", ", schema.Columns.Select(c => $"\"{c.Name}\""));
            var gold = $"SELECT {columns} FROM ({GoldTables.CurrentRowsSql(schema, from, watermark)})";
            var exported = $"SELECT {columns} FROM read_parquet('{export.Replace("'", "''", StringComparison.Ordinal)}')";
            var goldRows = Count(connection, $"SELECT count(*) FROM ({gold})");
            var missing = Count(connection, $"SELECT count(*) FROM ({gold} EXCEPT ALL {exported})");
            var unexpected = Count(connection, $"SELECT count(*) FROM ({exported} EXCEPT ALL {gold})");
            tables.Add(new SinkTableComparison(schema.Name, warehouseRows, goldRows, missing, unexpected));
        }

        return new SinkVerificationReport(watermark, goldRound, tables);
    }

    private static long Count(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
