using System.Diagnostics;
using BaloyiBank.Delta;
using DuckDB.NET.Data;
using Npgsql;
using NpgsqlTypes;

namespace BaloyiBank.Warehouse;

/// <summary>
/// PostgreSQL 15 through Npgsql: per table a temporary staging table filled by binary COPY with the newest row
/// per key (read from the change files by DuckDB), then a MERGE, after the watermark's compare-and-set (the fence)
/// at the start of the same transaction. Schema changes take an advisory lock so two sinks starting together do not race.
/// </summary>
public sealed class PostgresWarehouse : IWarehouse
{
    /// <summary>The advisory lock key that serializes schema ensures (any constant; "BaloyiWH").</summary>
    private const long SchemaLockKey = 0x42616C6F79695748;

    private readonly NpgsqlDataSource dataSource;
    private readonly PostgresSqlDialect dialect;
    private readonly TimeProvider clock;

    /// <param name="connectionString">Npgsql keywords, or a <c>postgres://user:password@host:port/database</c> URL.</param>
    public PostgresWarehouse(string connectionString, string schema = "baloyi", TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        dialect = new PostgresSqlDialect(schema);
        var builder = new NpgsqlDataSourceBuilder(ToKeywords(connectionString));
        if (string.IsNullOrEmpty(builder.ConnectionStringBuilder.Options))
        {
            // Staging tables are temporary: give the session room to keep a large change set in memory
            // (temp_buffers can only be set before a session's first temporary table).
            builder.ConnectionStringBuilder.Options = "-c temp_buffers=256MB";
        }

        dataSource = builder.Build();
        clock = timeProvider ?? TimeProvider.System;
    }

    public WarehouseEngine Engine => WarehouseEngine.PostgreSql;

    public string Schema => dialect.Schema;

    /// <summary>Test seam: called at named points inside a load's transaction (<c>merged:table</c>, <c>watermark</c>).</summary>
    internal Action<string, CancellationToken>? OnLoadStep { get; set; }

    /// <summary>Converts a <c>postgres://</c> URL to Npgsql keywords; anything else is returned as is.</summary>
    public static string ToKeywords(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        if (!connectionString.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
            && !connectionString.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            return connectionString;
        }

        var uri = new Uri(connectionString);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')),
        };
        var userInfo = uri.UserInfo.Split(':', 2);
        if (userInfo[0].Length > 0)
        {
            builder.Username = Uri.UnescapeDataString(userInfo[0]);
        }

        if (userInfo.Length == 2)
        {
            builder.Password = Uri.UnescapeDataString(userInfo[1]);
        }

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            builder[Uri.UnescapeDataString(kv[0])] = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : "true";
        }

        return builder.ConnectionString;
    }

    public async Task<SchemaEnsureResult> EnsureSchemaAsync(WarehouseModel model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.Validate();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, $"SELECT pg_advisory_xact_lock({SchemaLockKey})", cancellationToken).ConfigureAwait(false);
        foreach (var sql in dialect.CreateSchema().Concat(dialect.CreateControlTables()).Concat(model.Tables.Select(dialect.CreateTable)))
        {
            await ExecuteAsync(connection, sql, cancellationToken).ConfigureAwait(false);
        }

        var applied = new HashSet<int>();
        await using (var command = new NpgsqlCommand(dialect.SelectMigrations(), connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                applied.Add(reader.GetInt32(0));
            }
        }

        // Migrations share the transaction: PostgreSQL DDL is transactional, so all apply or none do.
        var now = new List<int>();
        foreach (var migration in model.MigrationsInOrder.Where(m => !applied.Contains(m.Version)))
        {
            foreach (var sql in migration.Statements(dialect))
            {
                await ExecuteAsync(connection, sql, cancellationToken).ConfigureAwait(false);
            }

            await using var record = new NpgsqlCommand(dialect.InsertMigration(), connection);
            record.Parameters.Add(new NpgsqlParameter { Value = migration.Version, NpgsqlDbType = NpgsqlDbType.Integer });
            record.Parameters.Add(new NpgsqlParameter { Value = migration.Description, NpgsqlDbType = NpgsqlDbType.Text });
            record.Parameters.Add(new NpgsqlParameter { Value = clock.GetUtcNow().UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            now.Add(migration.Version);
        }

        foreach (var sql in model.AllViews.SelectMany(dialect.CreateView))
        {
            await ExecuteAsync(connection, sql, cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return new SchemaEnsureResult(now, applied.Concat(now).DefaultIfEmpty(0).Max());
    }

    public async Task<WarehouseLoadResult> LoadAsync(WarehouseLoad load, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(load);
        load.Validate();
        var started = Stopwatch.GetTimestamp();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // Room for the MERGE's hash join and the counts over a large staging table, for this transaction only.
        await ExecuteAsync(connection, "SET LOCAL work_mem = '256MB'", cancellationToken).ConfigureAwait(false);

        // The fence first: the compare-and-set takes the watermark rows' locks, so a concurrent load of the same tables
        // waits here, then finds the watermark moved and is refused before staging anything.
        await AdvanceWatermarksAsync(connection, load, cancellationToken).ConfigureAwait(false);
        OnLoadStep?.Invoke("watermark", cancellationToken);
        using var reader = DuckDbConnections.Open();
        var results = new List<TableLoadResult>();
        for (var i = 0; i < load.Changes.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            results.Add(await MergeAsync(connection, reader, load.Changes[i], i + 1, load.Replace, cancellationToken).ConfigureAwait(false));
            OnLoadStep?.Invoke($"merged:{load.Changes[i].Table.Name}", cancellationToken);
        }

        cancellationToken.ThrowIfCancellationRequested();
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        var loaded = new WarehouseLoadResult(load.Pipeline, load.Watermark, results, Stopwatch.GetElapsedTime(started));
        WarehouseTelemetry.RecordCommitted(Engine, loaded);
        return loaded;
    }

    public async Task<WarehouseWatermark?> ReadWatermarkAsync(string pipeline, string table, CancellationToken cancellationToken = default)
    {
        SqlIdentifier.Require(pipeline, "pipeline name");
        SqlIdentifier.Require(table, "table name");
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await ReadWatermarkAsync(connection, pipeline, table, cancellationToken).ConfigureAwait(false);
    }

    private async Task<WarehouseWatermark?> ReadWatermarkAsync(NpgsqlConnection connection, string pipeline, string table, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(dialect.SelectWatermark(), connection);
        command.Parameters.Add(new NpgsqlParameter { Value = pipeline, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = table, NpgsqlDbType = NpgsqlDbType.Text });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new WarehouseWatermark(pipeline, table, reader.GetInt64(0), ParquetExport.AsUtc(reader.GetValue(1)))
            : null;
    }

    public async Task<long> ExportAsync(TableSchema relation, string parquetPath, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(relation);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand($"SELECT {dialect.ColumnList(relation.Columns)} FROM {dialect.Table(relation.Name)}", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await ParquetExport.FromReaderAsync(reader, relation, parquetPath, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => dataSource.DisposeAsync();

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Compare-and-set of every table's watermark from the load's expected one, in name order (two loads never wait
    /// on each other's rows in opposite orders); throws <see cref="WarehouseFencedException"/> when a table holds
    /// anything else, and the caller's transaction rolls back on dispose.
    /// </summary>
    private async Task AdvanceWatermarksAsync(NpgsqlConnection connection, WarehouseLoad load, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        foreach (var table in load.TablesInLockOrder)
        {
            await using var command = new NpgsqlCommand(load.ExpectedWatermark is null ? dialect.InsertFirstWatermark() : dialect.AdvanceWatermark(), connection);
            command.Parameters.Add(new NpgsqlParameter { Value = load.Pipeline, NpgsqlDbType = NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { Value = table, NpgsqlDbType = NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { Value = load.Watermark, NpgsqlDbType = NpgsqlDbType.Bigint });
            command.Parameters.Add(new NpgsqlParameter { Value = now, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            if (load.ExpectedWatermark is { } expected)
            {
                command.Parameters.Add(new NpgsqlParameter { Value = expected, NpgsqlDbType = NpgsqlDbType.Bigint });
            }

            if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) != 1)
            {
                var found = await ReadWatermarkAsync(connection, load.Pipeline, table, cancellationToken).ConfigureAwait(false);
                throw new WarehouseFencedException(Engine, load.Pipeline, table, load.ExpectedWatermark, found?.Value, load.Watermark);
            }
        }

        if (load.SourceGeneration is { } generation)
        {
            foreach (var sql in new[] { dialect.DeleteWatermark(), dialect.InsertWatermark() })
            {
                await using var command = new NpgsqlCommand(sql, connection);
                command.Parameters.Add(new NpgsqlParameter { Value = load.Pipeline, NpgsqlDbType = NpgsqlDbType.Text });
                command.Parameters.Add(new NpgsqlParameter { Value = WarehouseLoad.SourceGenerationName, NpgsqlDbType = NpgsqlDbType.Text });
                if (sql == dialect.InsertWatermark())
                {
                    command.Parameters.Add(new NpgsqlParameter { Value = generation, NpgsqlDbType = NpgsqlDbType.Bigint });
                    command.Parameters.Add(new NpgsqlParameter { Value = now, NpgsqlDbType = NpgsqlDbType.TimestampTz });
                }

                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static NpgsqlDbType DbType(ColumnType type) => type switch
    {
        ColumnType.String => NpgsqlDbType.Text,
        ColumnType.Long => NpgsqlDbType.Bigint,
        ColumnType.Integer => NpgsqlDbType.Integer,
        ColumnType.Boolean => NpgsqlDbType.Boolean,
        ColumnType.Double => NpgsqlDbType.Double,
        ColumnType.Money or ColumnType.Rate => NpgsqlDbType.Numeric,
        ColumnType.Timestamp => NpgsqlDbType.TimestampTz,
        ColumnType.Date => NpgsqlDbType.Date,
        ColumnType.Binary => NpgsqlDbType.Bytea,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown column type."),
    };

    /// <summary>A replacing load of one staged table (<see cref="WarehouseLoad.Replace"/>): delete the keys the state lacks, then MERGE what differs.</summary>
    private async Task<TableLoadResult> ReplaceAsync(NpgsqlConnection connection, WarehouseTable table, int ordinal, long sourceRows, long staged, CancellationToken cancellationToken)
    {
        var source = dialect.Staging(ordinal);
        long inserted, updated;
        await using (var count = new NpgsqlCommand(dialect.ReplaceCounts(table, source), connection))
        await using (var reader = await count.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            (inserted, updated) = (reader.GetInt64(0), reader.GetInt64(1));
        }

        using var span = WarehouseTelemetry.StartDatabaseSpan(Engine, "MERGE", table.Name, Schema);
        long deleted, affected;
        await using (var delete = new NpgsqlCommand(dialect.DeleteAbsent(table, source), connection) { CommandTimeout = 0 })
        {
            deleted = await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using (var merge = new NpgsqlCommand(dialect.ReplaceMerge(table, source), connection) { CommandTimeout = 0 })
        {
            affected = await merge.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        if (affected != inserted + updated)
        {
            throw new InvalidOperationException(
                $"Replacing {Schema}.{table.Name} changed {affected} rows but {inserted + updated} were expected; another writer is loading this table. Fix: run one sink per warehouse.");
        }

        span?.SetTag("db.response.returned_rows", affected + deleted);
        WarehouseTelemetry.Merged(span, inserted, updated, deleted);
        return new TableLoadResult(table.Name, sourceRows, staged, inserted, updated, deleted);
    }

    private async Task<TableLoadResult> MergeAsync(NpgsqlConnection connection, DuckDBConnection files, TableChanges change, int ordinal, bool replace, CancellationToken cancellationToken)
    {
        var table = change.Table;
        if (change.Files.Count == 0)
        {
            if (!replace)
            {
                return new TableLoadResult(table.Name, 0, 0, 0, 0, 0);
            }

            await using var empty = new NpgsqlCommand(dialect.DeleteAll(table), connection) { CommandTimeout = 0 };
            return new TableLoadResult(table.Name, 0, 0, 0, 0, await empty.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false));
        }

        var sourceRows = ChangeFiles.Check(files, table, change.Files);
        await ExecuteAsync(connection, dialect.CreateStaging(table, ordinal), cancellationToken).ConfigureAwait(false);
        var columns = table.Schema.Columns;
        var types = columns.Select(c => DbType(c.Type)).ToArray();
        long staged = 0;
        using (var rows = ChangeFiles.ReadNewest(files, table, change.Files))
        {
            await using var importer = await connection.BeginBinaryImportAsync(dialect.CopyIntoStaging(table, ordinal), cancellationToken).ConfigureAwait(false);
            while (rows.Read())
            {
                // Buffered writes: the importer flushes to the socket as its buffer fills.
                importer.StartRow();
                for (var c = 0; c < columns.Count; c++)
                {
                    WriteValue(importer, rows, c, columns[c].Type, types[c]);
                }

                staged++;
                if ((staged & 0xFFFF) == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }
            }

            await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }

        await ExecuteAsync(connection, $"ANALYZE {dialect.Staging(ordinal)}", cancellationToken).ConfigureAwait(false);
        if (replace)
        {
            return await ReplaceAsync(connection, table, ordinal, sourceRows, staged, cancellationToken).ConfigureAwait(false);
        }

        long inserted, updated, deleted;
        await using (var count = new NpgsqlCommand(dialect.MergeCounts(table, dialect.Staging(ordinal)), connection))
        await using (var reader = await count.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            (inserted, updated, deleted) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
        }

        using var span = WarehouseTelemetry.StartDatabaseSpan(Engine, "MERGE", table.Name, Schema);
        await using var merge = new NpgsqlCommand(dialect.Merge(table, dialect.Staging(ordinal)), connection) { CommandTimeout = 0 };
        var affected = await merge.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        if (affected != inserted + updated + deleted)
        {
            // Another writer changed the table between the count and the MERGE: roll back and let the next attempt recount.
            throw new InvalidOperationException(
                $"MERGE into {Schema}.{table.Name} changed {affected} rows but {inserted + updated + deleted} were expected; another writer is loading this table. Fix: run one sink per warehouse.");
        }

        span?.SetTag("db.response.returned_rows", affected);
        WarehouseTelemetry.Merged(span, inserted, updated, deleted);
        return new TableLoadResult(table.Name, sourceRows, staged, inserted, updated, deleted);
    }

    private static void WriteValue(NpgsqlBinaryImporter importer, DuckDBDataReader rows, int c, ColumnType type, NpgsqlDbType dbType)
    {
        if (rows.IsDBNull(c))
        {
            importer.WriteNull();
            return;
        }

        switch (type)
        {
            case ColumnType.String:
                importer.Write(rows.GetString(c), dbType);
                break;
            case ColumnType.Long:
                importer.Write(rows.GetInt64(c), dbType);
                break;
            case ColumnType.Integer:
                importer.Write(rows.GetInt32(c), dbType);
                break;
            case ColumnType.Boolean:
                importer.Write(rows.GetBoolean(c), dbType);
                break;
            case ColumnType.Double:
                importer.Write(rows.GetDouble(c), dbType);
                break;
            case ColumnType.Money or ColumnType.Rate:
                importer.Write(rows.GetDecimal(c), dbType);
                break;
            case ColumnType.Timestamp:
                importer.Write(rows.GetFieldValue<DateTimeOffset>(c).UtcDateTime, dbType);
                break;
            case ColumnType.Date:
                importer.Write(rows.GetFieldValue<DateOnly>(c), dbType);
                break;
            case ColumnType.Binary:
                importer.Write(rows.GetBlob(c), dbType);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown column type.");
        }
    }
}
