using System.Diagnostics;
using BaloyiBank.Delta;
using DuckDB.NET.Data;

namespace BaloyiBank.Warehouse;

/// <summary>
/// The embedded warehouse: a DuckDB file. A load MERGEs straight from the change files
/// (<c>USING (SELECT … FROM read_parquet([…]))</c>, de-duplicated with <c>QUALIFY row_number() … = 1</c> when a key
/// repeats), the watermark's compare-and-set (the fence) first in the same transaction. DuckDB allows one writing process per file; within this process loads run one at a
/// time (the MERGE is the tables' only writer, which is what keeps keys unique without an index).
/// </summary>
public sealed class DuckDbWarehouse : IWarehouse
{
    // One connection for the warehouse's life: it holds the file (and DuckDB's lock on it) open, and loads run one at a time anyway.
    private readonly DuckDBConnection connection;
    private readonly DuckDbSqlDialect dialect;
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly TimeProvider clock;

    /// <summary>
    /// Opens (or creates) the warehouse file; its folder is created when missing. <paramref name="settings"/> are DuckDB
    /// settings applied when the file opens (e.g. <c>threads</c>, <c>memory_limit</c>).
    /// </summary>
    public DuckDbWarehouse(string path, string schema = "baloyi", IReadOnlyDictionary<string, string>? settings = null, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        SqlIdentifier.Require(schema, "warehouse schema");
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (folder is not null)
        {
            Directory.CreateDirectory(folder);
        }

        Path = System.IO.Path.GetFullPath(path);
        connection = DuckDbConnections.Open(Path, settings);
        try
        {
            dialect = new DuckDbSqlDialect(schema, connection.Scalar<string>("SELECT current_database()"));
        }
        catch
        {
            connection.Dispose();
            throw;
        }

        clock = timeProvider ?? TimeProvider.System;
    }

    public WarehouseEngine Engine => WarehouseEngine.DuckDb;

    public string Schema => dialect.Schema;

    public string Path { get; }

    /// <summary>A DuckDB setting of the open database (<c>current_setting</c>), e.g. <c>memory_limit</c>.</summary>
    internal string? Setting(string name)
    {
        gate.Wait();
        try
        {
            return connection.Scalar<string>($"SELECT current_setting('{name.Replace("'", "''", StringComparison.Ordinal)}')");
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Test seam: called at named points inside a load's transaction (<c>merged:table</c>, <c>watermark</c>).</summary>
    internal Action<string, CancellationToken>? OnLoadStep { get; set; }

    public Task<SchemaEnsureResult> EnsureSchemaAsync(WarehouseModel model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.Validate();
        return Exclusive(() =>
        {
            InTransaction(connection, () =>
            {
                foreach (var sql in dialect.CreateSchema().Concat(dialect.CreateControlTables()).Concat(model.Tables.Select(dialect.CreateTable)))
                {
                    connection.Execute(sql);
                }
            });

            var applied = new HashSet<int>();
            using (var command = connection.Command(dialect.SelectMigrations()))
            using (var result = command.ExecuteReader())
            {
                while (result.Read())
                {
                    applied.Add(result.GetInt32(0));
                }
            }

            var now = new List<int>();
            foreach (var migration in model.MigrationsInOrder.Where(m => !applied.Contains(m.Version)))
            {
                cancellationToken.ThrowIfCancellationRequested();
                InTransaction(connection, () =>
                {
                    foreach (var sql in migration.Statements(dialect))
                    {
                        connection.Execute(sql);
                    }

                    connection.Execute(dialect.InsertMigration(), [migration.Version, migration.Description, clock.GetUtcNow()]);
                });
                now.Add(migration.Version);
            }

            InTransaction(connection, () =>
            {
                foreach (var sql in model.AllViews.SelectMany(dialect.CreateView))
                {
                    connection.Execute(sql);
                }
            });

            return new SchemaEnsureResult(now, applied.Concat(now).DefaultIfEmpty(0).Max());
        }, cancellationToken);
    }

    public Task<WarehouseLoadResult> LoadAsync(WarehouseLoad load, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(load);
        load.Validate();
        return Exclusive(() =>
        {
            var started = Stopwatch.GetTimestamp();
            var results = new List<TableLoadResult>();
            InTransaction(connection, () =>
            {
                // The fence first: a stale load fails before any MERGE work, and nothing it did survives the rollback.
                AdvanceWatermarks(connection, load);
                OnLoadStep?.Invoke("watermark", cancellationToken);
                foreach (var change in load.Changes)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    results.Add(load.Replace ? Replace(connection, change) : Merge(connection, change));
                    OnLoadStep?.Invoke($"merged:{change.Table.Name}", cancellationToken);
                }

                cancellationToken.ThrowIfCancellationRequested();
            });

            var loaded = new WarehouseLoadResult(load.Pipeline, load.Watermark, results, Stopwatch.GetElapsedTime(started));
            WarehouseTelemetry.RecordCommitted(Engine, loaded);
            return loaded;
        }, cancellationToken);
    }

    public Task<WarehouseWatermark?> ReadWatermarkAsync(string pipeline, string table, CancellationToken cancellationToken = default)
    {
        SqlIdentifier.Require(pipeline, "pipeline name");
        SqlIdentifier.Require(table, "table name");
        return Exclusive(() =>
        {
            return ReadWatermark(connection, pipeline, table);
        }, cancellationToken);
    }

    public Task<long> ExportAsync(TableSchema relation, string parquetPath, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(relation);
        ParquetExport.CheckPath(parquetPath);
        var select = $"SELECT {dialect.ColumnList(relation.Columns)} FROM {dialect.Table(relation.Name)}";
        return Exclusive(() =>
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(parquetPath))!);
            return connection.Execute(ParquetExport.CopyTo(select, parquetPath));
        }, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await gate.WaitAsync().ConfigureAwait(false);
        try
        {
            connection.Dispose();
        }
        finally
        {
            gate.Release();
            gate.Dispose();
        }
    }

    /// <summary>
    /// Compare-and-set of every table's watermark from the load's expected one, in name order; throws
    /// <see cref="WarehouseFencedException"/> (the caller rolls back) when a table holds anything else.
    /// </summary>
    private void AdvanceWatermarks(DuckDBConnection connection, WarehouseLoad load)
    {
        var now = clock.GetUtcNow();
        foreach (var table in load.TablesInLockOrder)
        {
            List<object?> parameters = [load.Pipeline, table, load.Watermark, now];
            if (load.ExpectedWatermark is { } expected)
            {
                parameters.Add(expected);
            }

            if (connection.Execute(load.ExpectedWatermark is null ? dialect.InsertFirstWatermark() : dialect.AdvanceWatermark(), parameters) != 1)
            {
                throw new WarehouseFencedException(Engine, load.Pipeline, table, load.ExpectedWatermark, ReadWatermark(connection, load.Pipeline, table)?.Value, load.Watermark);
            }
        }

        if (load.SourceGeneration is { } generation)
        {
            connection.Execute(dialect.DeleteWatermark(), [load.Pipeline, WarehouseLoad.SourceGenerationName]);
            connection.Execute(dialect.InsertWatermark(), [load.Pipeline, WarehouseLoad.SourceGenerationName, generation, now]);
        }
    }

    /// <summary>A replacing load of one table (<see cref="WarehouseLoad.Replace"/>): delete the keys the state lacks, then MERGE what differs.</summary>
    private TableLoadResult Replace(DuckDBConnection connection, TableChanges change)
    {
        var table = change.Table;
        using var span = WarehouseTelemetry.StartDatabaseSpan(Engine, "MERGE", table.Name, Schema);
        if (change.Files.Count == 0)
        {
            var emptied = connection.Execute(dialect.DeleteAll(table));
            WarehouseTelemetry.Merged(span, 0, 0, emptied);
            return new TableLoadResult(table.Name, 0, 0, 0, 0, emptied);
        }

        ChangeFiles.CheckSchema(connection, table, change.Files);
        long sourceRows, keys;
        using (var count = connection.Command(dialect.CountChangeRows(table, change.Files.Count), change.Files))
        using (var result = count.ExecuteReader())
        {
            result.Read();
            (sourceRows, keys) = (result.GetInt64(0), result.GetInt64(1));
        }

        var source = keys < sourceRows ? dialect.ReadChanges(table, change.Files.Count) : dialect.ReadFiles(table, change.Files.Count);
        var deleted = connection.Execute(dialect.DeleteAbsent(table, source), change.Files);
        var before = connection.Scalar<long>(dialect.CountRows(table));
        var changed = connection.Execute(dialect.ReplaceMerge(table, source), change.Files);
        var inserted = connection.Scalar<long>(dialect.CountRows(table)) - before;
        var updated = changed - inserted;
        span?.SetTag("db.response.returned_rows", changed + deleted);
        WarehouseTelemetry.Merged(span, inserted, updated, deleted);
        return new TableLoadResult(table.Name, sourceRows, keys, inserted, updated, deleted);
    }

    private WarehouseWatermark? ReadWatermark(DuckDBConnection connection, string pipeline, string table)
    {
        using var statement = connection.Command(dialect.SelectWatermark(), [pipeline, table]);
        using var result = statement.ExecuteReader();
        return result.Read() ? new WarehouseWatermark(pipeline, table, result.GetInt64(0), result.GetFieldValue<DateTimeOffset>(1)) : null;
    }

    private TableLoadResult Merge(DuckDBConnection connection, TableChanges change)
    {
        var table = change.Table;
        if (change.Files.Count == 0)
        {
            return new TableLoadResult(table.Name, 0, 0, 0, 0, 0);
        }

        ChangeFiles.CheckSchema(connection, table, change.Files);
        long sourceRows, keys, flagged;
        using (var count = connection.Command(dialect.CountChangeRows(table, change.Files.Count), change.Files))
        using (var result = count.ExecuteReader())
        {
            result.Read();
            (sourceRows, keys, flagged) = (result.GetInt64(0), result.GetInt64(1), result.GetInt64(2));
        }

        // De-duplicating costs a window over every row: only when a key repeats (across or within the files).
        var deduplicate = keys < sourceRows;
        using var span = WarehouseTelemetry.StartDatabaseSpan(Engine, "MERGE", table.Name, Schema);
        long deleted = 0;
        if (flagged > 0)
        {
            var source = deduplicate ? dialect.ReadChanges(table, change.Files.Count) : dialect.ReadFiles(table, change.Files.Count);
            deleted = connection.Scalar<long>(dialect.CountDeletes(table, source), change.Files);
        }

        // The MERGE reports only the rows it changed in total; the table's row count before and after (inside this
        // transaction) splits that into inserts and updates: inserted - deleted = after - before.
        var before = connection.Scalar<long>(dialect.CountRows(table));
        var changed = connection.Execute(dialect.MergeFromFiles(table, change.Files.Count, deduplicate), change.Files);

        var after = connection.Scalar<long>(dialect.CountRows(table));
        var inserted = after - before + deleted;
        var updated = changed - inserted - deleted;
        if (inserted < 0 || updated < 0)
        {
            throw new InvalidOperationException(
                $"The MERGE into '{table.Name}' changed {changed} rows, the table went from {before} to {after} rows and {deleted} deletes were expected: the counts do not add up, so the load is rolled back.");
        }

        span?.SetTag("db.response.returned_rows", changed);
        WarehouseTelemetry.Merged(span, inserted, updated, deleted);
        return new TableLoadResult(table.Name, sourceRows, keys, inserted, updated, deleted);
    }

    private static void InTransaction(DuckDBConnection connection, Action work)
    {
        connection.Execute("BEGIN TRANSACTION");
        try
        {
            work();
            connection.Execute("COMMIT");
        }
        catch
        {
            try
            {
                connection.Execute("ROLLBACK");
            }
            catch (DuckDBException)
            {
                // The transaction is already gone (a failed COMMIT rolls back by itself).
            }

            throw;
        }
    }

    /// <summary>One operation at a time on this file, off the caller's thread (DuckDB's C API blocks).</summary>
    private async Task<T> Exclusive<T>(Func<T> work, CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            return await Task.Run(work, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }
}
