using BaloyiBank.Delta;

namespace BaloyiBank.Warehouse;

/// <summary>
/// The warehouse port: the sink ensures the schema once, then loads gold's changed Parquet files table by
/// table, each load committing the data and the sink's watermark in one transaction, and reads the
/// watermark back to know where to resume. Every engine passes the same contract suite.
/// </summary>
public interface IWarehouse : IAsyncDisposable
{
    WarehouseEngine Engine { get; }

    /// <summary>The warehouse schema (namespace) every table lives in.</summary>
    string Schema { get; }

    /// <summary>
    /// Creates what is missing (schema, control tables, tables), applies pending migrations in version order
    /// and (re)creates the views. Idempotent; safe to call on every start.
    /// </summary>
    Task<SchemaEnsureResult> EnsureSchemaAsync(WarehouseModel model, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stages each table's change files, de-duplicates them by key (newest version wins), MERGEs them into the
    /// tables and sets the watermark of every (pipeline, table) loaded, all in one transaction: on any failure
    /// or cancellation neither data nor watermark changes. The watermark is a compare-and-set from
    /// <see cref="WarehouseLoad.ExpectedWatermark"/>, taken first (it also serializes concurrent loads of the same
    /// tables): when any table holds another value the load throws <see cref="WarehouseFencedException"/> and changes nothing.
    /// </summary>
    Task<WarehouseLoadResult> LoadAsync(WarehouseLoad load, CancellationToken cancellationToken = default);

    /// <summary>The watermark last committed for <paramref name="pipeline"/> and <paramref name="table"/>, or null before the first load.</summary>
    Task<WarehouseWatermark?> ReadWatermarkAsync(string pipeline, string table, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes every row of a table or view (the <paramref name="relation"/>'s name and the columns to read) to a
    /// Parquet file, so a verifier compares the warehouse with gold in DuckDB whatever the engine.
    /// </summary>
    Task<long> ExportAsync(TableSchema relation, string parquetPath, CancellationToken cancellationToken = default);
}

/// <summary>One table's part of a load: the table and its change files.</summary>
/// <param name="Files">
/// Parquet files holding the table's columns (gold's changed files): local paths for DuckDB, PostgreSQL and SQL
/// Server; for Synapse the files' https URLs in ADLS (read by <c>COPY INTO</c> with the pool's managed identity).
/// No files: only the watermark moves.
/// </param>
public sealed record TableChanges(WarehouseTable Table, IReadOnlyList<string> Files);

/// <summary>A load: changes for one or more tables and the watermark they bring the pipeline to.</summary>
/// <param name="Pipeline">Who loads (e.g. <c>sink</c>): a validated identifier, the watermark row's first key.</param>
/// <param name="Watermark">The gold position the load brings each table to (e.g. gold's Delta version).</param>
/// <param name="ExpectedWatermark">
/// The watermark the loader read before building this load (null: none yet, a first load). It fences the load: every
/// table's watermark moves only from exactly this value (compare-and-set in the load's transaction); if any table
/// holds something else, another loader committed in between and the whole load rolls back with
/// <see cref="WarehouseFencedException"/>. A stale loader therefore never writes older rows or moves a watermark back.
/// </param>
public sealed record WarehouseLoad(string Pipeline, long Watermark, IReadOnlyList<TableChanges> Changes, long? ExpectedWatermark)
{
    /// <summary>The control row (read with <see cref="IWarehouse.ReadWatermarkAsync"/> under this name) recording <see cref="SourceGeneration"/>.</summary>
    public const string SourceGenerationName = "source_generation";

    /// <summary>
    /// A replacing load (a reconcile): each table's files hold its whole state, not changes. Rows whose key the files
    /// lack are deleted, a matched row is updated whenever any column differs (no version condition: a rebuilt source's
    /// versions may restart lower) and new keys are inserted; replacing with the same state changes 0 rows. The
    /// watermark fence works as for any load.
    /// </summary>
    public bool Replace { get; init; }

    /// <summary>
    /// When set, the load also records this number in the pipeline's control row <see cref="SourceGenerationName"/>, in
    /// the same transaction: the sink records which lake generation of gold the warehouse holds.
    /// </summary>
    public long? SourceGeneration { get; init; }

    /// <summary>The tables in the order a load takes their watermark rows (by name), so two loads never lock in opposite orders.</summary>
    public IReadOnlyList<string> TablesInLockOrder => [.. Changes.Select(c => c.Table.Name).Order(StringComparer.Ordinal)];

    public void Validate()
    {
        SqlIdentifier.Require(Pipeline, "pipeline name");
        ArgumentNullException.ThrowIfNull(Changes);
        if (Changes.Count == 0)
        {
            throw new ArgumentException("A warehouse load needs at least one table.");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var change in Changes)
        {
            change.Table.Validate();
            ArgumentNullException.ThrowIfNull(change.Files);
            if (!seen.Add(change.Table.Name))
            {
                throw new ArgumentException($"A warehouse load names table '{change.Table.Name}' twice; put all its files in one TableChanges.");
            }

            foreach (var file in change.Files)
            {
                if (string.IsNullOrWhiteSpace(file) || file.Contains('\0', StringComparison.Ordinal))
                {
                    throw new ArgumentException($"Change file '{file}' of table '{change.Table.Name}' is not a usable path (empty or a NUL).");
                }
            }
        }
    }
}

/// <summary>What one table's MERGE did.</summary>
/// <param name="SourceRows">Rows in the change files.</param>
/// <param name="StagedRows">Rows left after de-duplication by key (what the MERGE saw); null where an engine cannot tell.</param>
public sealed record TableLoadResult(string Table, long SourceRows, long? StagedRows, long Inserted, long Updated, long Deleted)
{
    /// <summary>Rows the MERGE changed; 0 when the same load runs again.</summary>
    public long Changed => Inserted + Updated + Deleted;
}

public sealed record WarehouseLoadResult(string Pipeline, long Watermark, IReadOnlyList<TableLoadResult> Tables, TimeSpan Duration)
{
    public long Inserted => Tables.Sum(t => t.Inserted);

    public long Updated => Tables.Sum(t => t.Updated);

    public long Deleted => Tables.Sum(t => t.Deleted);

    public long Changed => Tables.Sum(t => t.Changed);

    public long SourceRows => Tables.Sum(t => t.SourceRows);
}

public sealed record WarehouseWatermark(string Pipeline, string Table, long Value, DateTimeOffset UpdatedAt);

/// <summary>What a schema ensure did: migrations applied now (empty when everything was there).</summary>
public sealed record SchemaEnsureResult(IReadOnlyList<int> MigrationsApplied, int CurrentVersion);
