using BaloyiBank.Delta;

namespace BaloyiBank.Warehouse;

/// <summary>DuckDB: the MERGE reads the change files directly (<c>read_parquet</c>; de-duplicated with QUALIFY when a key repeats).</summary>
/// <param name="catalog">
/// The database's catalog (a file's name without extension): names are qualified with it, because a schema named
/// like the catalog (<c>bank</c> in <c>bank.duckdb</c>) is otherwise ambiguous.
/// </param>
public sealed class DuckDbSqlDialect(string schema, string? catalog = null) : SqlDialect(schema)
{
    public override WarehouseEngine Engine => WarehouseEngine.DuckDb;

    public override string TypeName(ColumnSchema column, WarehouseTable? table = null) => DeltaSchema.DuckDbTypeName(column.Type);

    public override string Parameter(int ordinal) => $"${ordinal}";

    public override IReadOnlyList<string> CreateSchema() => [$"CREATE SCHEMA IF NOT EXISTS {QualifiedSchema}"];

    public override IReadOnlyList<string> CreateControlTables() =>
    [
        $"CREATE TABLE IF NOT EXISTS {Control(MigrationsTable)} ({Col("version")} INTEGER NOT NULL PRIMARY KEY, {Col("description")} VARCHAR NOT NULL, {Col("applied_at")} TIMESTAMPTZ NOT NULL)",
        $"CREATE TABLE IF NOT EXISTS {Control(WatermarksTable)} ({Col("pipeline")} VARCHAR NOT NULL, {Col("table_name")} VARCHAR NOT NULL, {Col("watermark")} BIGINT NOT NULL, {Col("updated_at")} TIMESTAMPTZ NOT NULL, PRIMARY KEY ({Col("pipeline")}, {Col("table_name")}))",
    ];

    /// <summary>
    /// No primary-key index: DuckDB maintains an ART index on every insert (half the MERGE's speed), and the
    /// de-duplicated MERGE is the table's only writer, so keys stay unique without it.
    /// </summary>
    public override string CreateTable(WarehouseTable table) =>
        $"CREATE TABLE IF NOT EXISTS {Table(table.Name)} ({string.Join(", ", table.TargetColumns.Select(c => $"{Quote(c.Name)} {TypeName(c)}{(c.Nullable ? string.Empty : " NOT NULL")}"))})";

    public override IReadOnlyList<string> CreateView(WarehouseView view) =>
        [$"DROP VIEW IF EXISTS {Table(view.Name)}", $"CREATE VIEW {Table(view.Name)} AS {view.Select(this)}"];

    /// <summary>A concurrent first insert waits for the other transaction, then finds the key taken: 0 rows, fenced.</summary>
    public override string InsertFirstWatermark() =>
        $"INSERT INTO {Control(WatermarksTable)} ({Col("pipeline")}, {Col("table_name")}, {Col("watermark")}, {Col("updated_at")}) VALUES ($1, $2, $3, $4) "
        + $"ON CONFLICT ({Col("pipeline")}, {Col("table_name")}) DO NOTHING";

    /// <summary>The change files as one relation, newest row per key: the files are parameters 1..n.</summary>
    public string ReadChanges(WarehouseTable table, int fileCount) =>
        $"(SELECT {SourceColumnList(table)} FROM {ReadParquet(fileCount)} QUALIFY row_number() OVER ({NewestFirst(table)}) = 1)";

    /// <summary>The change files as one relation, every row: for files already known to hold each key once.</summary>
    public string ReadFiles(WarehouseTable table, int fileCount) =>
        $"(SELECT {SourceColumnList(table)} FROM {ReadParquet(fileCount)})";

    /// <summary>
    /// The MERGE straight from the files (parameters 1..n). <paramref name="deduplicate"/> false reads the rows as they
    /// are: only for files whose keys are known to be unique (<see cref="CountChangeRows"/>). The statement reports
    /// the rows it changed; no <c>RETURNING</c>, which about doubles the cost of a large MERGE in DuckDB.
    /// </summary>
    public string MergeFromFiles(WarehouseTable table, int fileCount, bool deduplicate = true) =>
        Merge(table, deduplicate ? ReadChanges(table, fileCount) : ReadFiles(table, fileCount));

    /// <summary>
    /// One row over the change files (parameters 1..n): rows, distinct keys, and rows flagged deleted (0 without a
    /// deleted column). Fewer keys than rows means the MERGE needs the de-duplicated source.
    /// </summary>
    public string CountChangeRows(WarehouseTable table, int fileCount)
    {
        var files = ReadParquet(fileCount);
        var flagged = table.DeletedColumn is { } deleted ? $"(SELECT count(*) FROM {files} WHERE {Quote(deleted)})" : "0";
        return $"SELECT (SELECT count(*) FROM {files}), (SELECT count(*) FROM (SELECT DISTINCT {ColumnList(table.KeyColumns)} FROM {files})), {flagged}";
    }

    /// <summary>How many rows of <paramref name="source"/> the MERGE will delete (flagged, newer than their target row).</summary>
    public string CountDeletes(WarehouseTable table, string source)
    {
        var deleted = table.DeletedColumn ?? throw new ArgumentException($"Warehouse table '{table.Name}' has no deleted column.", nameof(table));
        return $"SELECT count(*) FROM {source} AS s JOIN {Table(table.Name)} AS t ON {KeyMatch(table, "t", "s")} "
            + $"WHERE s.{Quote(deleted)} AND s.{Quote(table.VersionColumn)} > t.{Quote(table.VersionColumn)}";
    }

    /// <summary>The table's row count (cheap in DuckDB: row-group metadata).</summary>
    public string CountRows(WarehouseTable table) => $"SELECT count(*) FROM {Table(table.Name)}";

    protected override string QualifiedSchema => catalog is null ? QuoteRaw(Schema) : $"{QuoteRaw(catalog)}.{QuoteRaw(Schema)}";

    // A catalog comes from a file name: escape embedded quotes; everything else is a validated identifier.
    protected override string QuoteRaw(string identifier) => $"\"{identifier.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    protected override string IsTrue(string booleanExpression) => booleanExpression;

    protected override string IsFalse(string booleanExpression) => $"NOT {booleanExpression}";

    private string ReadParquet(int fileCount) =>
        $"read_parquet([{string.Join(", ", Enumerable.Range(1, fileCount).Select(Parameter))}])";
}
