using System.Data;
using System.Diagnostics;
using Azure.Core;
using BaloyiBank.Delta;
using DuckDB.NET.Data;
using Microsoft.Data.SqlClient;

namespace BaloyiBank.Warehouse;

/// <summary>
/// SQL Server / Azure SQL, or a Synapse dedicated SQL pool, through Microsoft.Data.SqlClient 7 (its managed SNI on
/// Linux). SQL Server: SqlBulkCopy of the newest row per key (read from the change files by DuckDB) into a
/// session temp table, then the watermark's compare-and-set (the fence) + MERGE in one transaction. Synapse:
/// <c>COPY INTO</c> a staging heap from the files' ADLS URLs with the pool's managed identity, CTAS de-duplication,
/// then the fence + MERGE (or DELETE/UPDATE/INSERT for non-HASH targets) in one transaction. Logs in as
/// <see cref="SqlServerLogin"/> says (SQL login, or a Microsoft Entra token from Azure.Identity). Not run against a
/// real server here: its SQL is tested as text, its connection failures as classified retries.
/// </summary>
public sealed class SqlServerWarehouse : IWarehouse
{
    private readonly SqlServerLogin login;
    private readonly Func<SqlAuthenticationParameters, CancellationToken, Task<SqlAuthenticationToken>>? tokenCallback;
    private readonly TSqlDialect dialect;
    private readonly TimeProvider clock;

    /// <param name="connectionString">
    /// A SQL login, or a Microsoft Entra one: <c>Authentication=Active Directory Managed Identity</c> / <c>Default</c> /
    /// <c>Workload Identity</c> (see <see cref="SqlServerLogin"/>), or no password and a <paramref name="credential"/>.
    /// </param>
    /// <param name="synapse">True for a Synapse dedicated SQL pool.</param>
    /// <param name="credential">A Microsoft Entra token source (e.g. Azure.Identity's ManagedIdentityCredential); wins over the string's <c>Authentication</c>.</param>
    public SqlServerWarehouse(string connectionString, string schema = "baloyi", bool synapse = false,
        TokenCredential? credential = null, TimeProvider? timeProvider = null)
    {
        if (GlobalizationInvariant())
        {
            throw new InvalidOperationException("The SQL Server / Synapse warehouse cannot run in globalization-invariant mode: Microsoft.Data.SqlClient maps collations to code pages through ICU and refuses to connect. "
                + "Fix: set <InvariantGlobalization>false</InvariantGlobalization> in the host's project (or DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=false) and install ICU (libicu), or use Warehouse__Kind=postgres or duckdb.");
        }

        login = SqlServerLogin.Resolve(connectionString, credential);
        // One callback for the warehouse's life: the driver's pool keys connections by it.
        tokenCallback = login.TokenCallback();
        dialect = new TSqlDialect(schema, synapse);
        clock = timeProvider ?? TimeProvider.System;
    }

    /// <summary>True when the runtime has no culture data (the switch, or the environment variable that sets it).</summary>
    internal static bool GlobalizationInvariant()
    {
        try
        {
            return System.Globalization.CultureInfo.GetCultureInfo("en-US").Name.Length == 0;
        }
        catch (System.Globalization.CultureNotFoundException)
        {
            return true;
        }
    }

    /// <summary>How this warehouse logs in (the resolved connection string and Entra credential, if any).</summary>
    public SqlServerLogin Login => login;

    public WarehouseEngine Engine => dialect.Engine;

    public string Schema => dialect.Schema;

    public TSqlDialect Dialect => dialect;

    public async Task<SchemaEnsureResult> EnsureSchemaAsync(WarehouseModel model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.Validate();
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        foreach (var sql in dialect.CreateSchema().Concat(dialect.CreateControlTables()).Concat(model.Tables.Select(dialect.CreateTable)))
        {
            await ExecuteAsync(connection, null, sql, cancellationToken).ConfigureAwait(false);
        }

        var applied = new HashSet<int>();
        await using (var command = new SqlCommand(dialect.SelectMigrations(), connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                applied.Add(reader.GetInt32(0));
            }
        }

        var now = new List<int>();
        foreach (var migration in model.MigrationsInOrder.Where(m => !applied.Contains(m.Version)))
        {
            // A dedicated pool refuses most DDL inside a user transaction: there, each statement stands alone.
            await using var transaction = dialect.IsSynapse ? null : (SqlTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            foreach (var sql in migration.Statements(dialect))
            {
                await ExecuteAsync(connection, transaction, sql, cancellationToken).ConfigureAwait(false);
            }

            await using var record = new SqlCommand(dialect.InsertMigration(), connection, transaction);
            record.Parameters.Add("@p1", SqlDbType.Int).Value = migration.Version;
            record.Parameters.Add("@p2", SqlDbType.NVarChar, 400).Value = migration.Description;
            record.Parameters.Add("@p3", SqlDbType.DateTime2).Value = clock.GetUtcNow().UtcDateTime;
            await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            if (transaction is not null)
            {
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }

            now.Add(migration.Version);
        }

        foreach (var sql in model.AllViews.SelectMany(dialect.CreateView))
        {
            await ExecuteAsync(connection, null, sql, cancellationToken).ConfigureAwait(false);
        }

        return new SchemaEnsureResult(now, applied.Concat(now).DefaultIfEmpty(0).Max());
    }

    public async Task<WarehouseLoadResult> LoadAsync(WarehouseLoad load, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(load);
        load.Validate();
        if (load.Replace || load.SourceGeneration is not null)
        {
            // The statements exist (TSqlDialect.DeleteAbsent, ReplaceMerge, ReplaceCounts) but no SQL Server runs here to prove them.
            throw new NotSupportedException(
                $"A replacing load (the sink's reconcile after a gold generation switch) is not implemented for {Engine} yet. " +
                "Fix: reload the warehouse from gold into a new schema (Warehouse:Schema), or use DuckDB or PostgreSQL.");
        }

        var started = Stopwatch.GetTimestamp();
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var sources = new string[load.Changes.Count];
        var sourceRows = new long[load.Changes.Count];
        var stagedRows = new long?[load.Changes.Count];

        // Synapse stages outside the transaction (COPY INTO and CTAS cannot run inside one), into tables named for this
        // load alone, so a stale loader's staging never touches the active loader's; nothing visible changes until the
        // transaction below commits, and the load's staging tables are dropped after it, committed or not.
        var tag = dialect.IsSynapse ? TSqlDialect.NewLoadTag() : null;
        try
        {
            return await StageAndApplyAsync(connection, load, tag, sources, sourceRows, stagedRows, started, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (tag is not null)
            {
                await DropStagingAsync(connection, load, tag).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Synapse: best effort: a table left by a failed drop costs storage only, and its name is never reused.</summary>
    private async Task DropStagingAsync(SqlConnection connection, WarehouseLoad load, string tag)
    {
        foreach (var change in load.Changes.Where(c => c.Files.Count > 0))
        {
            foreach (var sql in dialect.DropStaging(change.Table, tag))
            {
                try
                {
                    await ExecuteAsync(connection, null, sql, CancellationToken.None).ConfigureAwait(false);
                }
                catch (SqlException)
                {
                    // Left for the operator's cleanup (README): dropping must not hide the load's own outcome.
                }
            }
        }
    }

    private async Task<WarehouseLoadResult> StageAndApplyAsync(SqlConnection connection, WarehouseLoad load, string? tag, string[] sources,
        long[] sourceRows, long?[] stagedRows, long started, CancellationToken cancellationToken)
    {
        if (tag is not null)
        {
            // A stale loader is refused before it stages (the fence in the transaction below is what guarantees it).
            await CheckFenceAsync(connection, load, cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < load.Changes.Count; i++)
            {
                var table = load.Changes[i].Table;
                if (load.Changes[i].Files.Count == 0)
                {
                    continue;
                }

                await ExecuteAsync(connection, null, dialect.CreateStagingTable(table, tag), cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, null, dialect.CopyInto(table, load.Changes[i].Files, tag), cancellationToken).ConfigureAwait(false);
                foreach (var sql in dialect.Deduplicate(table, tag))
                {
                    await ExecuteAsync(connection, null, sql, cancellationToken).ConfigureAwait(false);
                }

                sources[i] = dialect.DedupTable(table, tag);
            }
        }

        await using var transaction = (SqlTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

        // The fence first: the compare-and-set locks the watermark rows (SQL Server) or the watermarks table (a dedicated
        // pool's DML takes table locks) to the commit, so a concurrent load waits, then finds the watermark moved.
        await AdvanceWatermarksAsync(connection, transaction, load, cancellationToken).ConfigureAwait(false);
        var results = new List<TableLoadResult>();
        using var files = dialect.IsSynapse ? null : DuckDbConnections.Open();
        for (var i = 0; i < load.Changes.Count; i++)
        {
            var change = load.Changes[i];
            var table = change.Table;
            if (change.Files.Count == 0)
            {
                results.Add(new TableLoadResult(table.Name, 0, 0, 0, 0, 0));
                continue;
            }

            if (!dialect.IsSynapse)
            {
                (sourceRows[i], stagedRows[i]) = await BulkCopyAsync(connection, transaction, files!, change, i + 1, cancellationToken).ConfigureAwait(false);
                sources[i] = TSqlDialect.TempStagingName(i + 1);
            }

            long inserted, updated, deleted, staged;
            await using (var count = new SqlCommand(dialect.MergeCounts(table, sources[i]), connection, transaction) { CommandTimeout = 0 })
            await using (var reader = await count.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                (inserted, updated, deleted, staged) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
            }

            using var span = WarehouseTelemetry.StartDatabaseSpan(Engine, "MERGE", table.Name, Schema);
            foreach (var sql in dialect.Apply(table, sources[i]))
            {
                await ExecuteAsync(connection, transaction, sql, cancellationToken).ConfigureAwait(false);
            }

            if (!dialect.IsSynapse)
            {
                await ExecuteAsync(connection, transaction, TSqlDialect.DropTempStaging(i + 1), cancellationToken).ConfigureAwait(false);
            }

            WarehouseTelemetry.Merged(span, inserted, updated, deleted);
            results.Add(new TableLoadResult(table.Name, dialect.IsSynapse ? staged : sourceRows[i], staged, inserted, updated, deleted));
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
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ReadWatermarkAsync(connection, null, pipeline, table, cancellationToken).ConfigureAwait(false);
    }

    private async Task<WarehouseWatermark?> ReadWatermarkAsync(SqlConnection connection, SqlTransaction? transaction, string pipeline, string table, CancellationToken cancellationToken)
    {
        await using var command = new SqlCommand(dialect.SelectWatermark(), connection, transaction);
        command.Parameters.Add("@p1", SqlDbType.NVarChar, 128).Value = pipeline;
        command.Parameters.Add("@p2", SqlDbType.NVarChar, 128).Value = table;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new WarehouseWatermark(pipeline, table, reader.GetInt64(0), ParquetExport.AsUtc(reader.GetValue(1)))
            : null;
    }

    public async Task<long> ExportAsync(TableSchema relation, string parquetPath, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(relation);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new SqlCommand($"SELECT {dialect.ColumnList(relation.Columns)} FROM {dialect.Table(relation.Name)}", connection) { CommandTimeout = 0 };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await ParquetExport.FromReaderAsync(reader, relation, parquetPath, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static async Task ExecuteAsync(SqlConnection connection, SqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new SqlCommand(sql, connection, transaction) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Compare-and-set of every table's watermark from the load's expected one, in name order. SQL Server: the
    /// statement's row count says whether it took (a key violation from a racing first insert counts as not taken).
    /// Synapse reports no row counts: <see cref="TSqlDialect.CountWatermark"/> then reads, inside the transaction,
    /// that exactly one row holds the new watermark. Throws <see cref="WarehouseFencedException"/>; the caller's
    /// transaction rolls back on dispose.
    /// </summary>
    private async Task AdvanceWatermarksAsync(SqlConnection connection, SqlTransaction transaction, WarehouseLoad load, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        foreach (var table in load.TablesInLockOrder)
        {
            int affected;
            await using (var command = new SqlCommand(load.ExpectedWatermark is null ? dialect.InsertFirstWatermark() : dialect.AdvanceWatermark(), connection, transaction))
            {
                command.Parameters.Add("@p1", SqlDbType.NVarChar, 128).Value = load.Pipeline;
                command.Parameters.Add("@p2", SqlDbType.NVarChar, 128).Value = table;
                command.Parameters.Add("@p3", SqlDbType.BigInt).Value = load.Watermark;
                command.Parameters.Add("@p4", SqlDbType.DateTime2).Value = now;
                if (load.ExpectedWatermark is { } expected)
                {
                    command.Parameters.Add("@p5", SqlDbType.BigInt).Value = expected;
                }

                try
                {
                    affected = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (SqlException e) when (e.Number is 2627 or 2601)
                {
                    affected = 0;
                }
            }

            long? found;
            bool took;
            if (dialect.IsSynapse)
            {
                await using var count = new SqlCommand(dialect.CountWatermark(), connection, transaction);
                count.Parameters.Add("@p1", SqlDbType.NVarChar, 128).Value = load.Pipeline;
                count.Parameters.Add("@p2", SqlDbType.NVarChar, 128).Value = table;
                await using var reader = await count.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                var rows = reader.GetInt64(0);
                found = reader.IsDBNull(1) ? null : reader.GetInt64(1);
                took = rows == 1 && found == load.Watermark;
            }
            else
            {
                took = affected == 1;
                found = took ? load.Watermark : (await ReadWatermarkAsync(connection, transaction, load.Pipeline, table, cancellationToken).ConfigureAwait(false))?.Value;
            }

            if (!took)
            {
                throw new WarehouseFencedException(Engine, load.Pipeline, table, load.ExpectedWatermark, found, load.Watermark);
            }
        }
    }

    /// <summary>Synapse, before staging: refuses a load whose expected watermark is already gone (no locks; a hint, not the fence).</summary>
    private async Task CheckFenceAsync(SqlConnection connection, WarehouseLoad load, CancellationToken cancellationToken)
    {
        foreach (var table in load.TablesInLockOrder)
        {
            var found = (await ReadWatermarkAsync(connection, null, load.Pipeline, table, cancellationToken).ConfigureAwait(false))?.Value;
            if (found != load.ExpectedWatermark)
            {
                throw new WarehouseFencedException(Engine, load.Pipeline, table, load.ExpectedWatermark, found, load.Watermark);
            }
        }
    }

    private async Task<SqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqlConnection(login.ConnectionString);
        if (tokenCallback is not null)
        {
            connection.AccessTokenCallback = tokenCallback;
        }

        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task<(long Source, long Staged)> BulkCopyAsync(SqlConnection connection, SqlTransaction transaction, DuckDBConnection files, TableChanges change, int ordinal, CancellationToken cancellationToken)
    {
        var table = change.Table;
        var source = ChangeFiles.Check(files, table, change.Files);
        await ExecuteAsync(connection, transaction, TSqlDialect.DropTempStaging(ordinal), cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, dialect.CreateTempStaging(table, ordinal), cancellationToken).ConfigureAwait(false);
        using var rows = ChangeFiles.ReadNewest(files, table, change.Files);
        await using var reader = new DuckDbChangeReader(rows, table.Schema.Columns);
        using var bulk = new SqlBulkCopy(connection, SqlBulkCopyOptions.TableLock, transaction)
        {
            DestinationTableName = TSqlDialect.TempStagingName(ordinal),
            BatchSize = 10_000,
            BulkCopyTimeout = 0,
            EnableStreaming = true,
        };
        foreach (var column in table.Schema.Columns)
        {
            bulk.ColumnMappings.Add(column.Name, column.Name);
        }

        await bulk.WriteToServerAsync(reader, cancellationToken).ConfigureAwait(false);
        return (source, reader.RowsRead);
    }
}
