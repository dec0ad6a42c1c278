using BaloyiBank.Delta;

namespace BaloyiBank.Warehouse;

/// <summary>DuckDB: the MERGE reads the change files directly (<c>read_parquet</c>, de-duplicated with QUALIFY).</summary>
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

    public override IReadOnlyList<string> UpsertWatermark() =>
    [
        $"INSERT INTO {Control(WatermarksTable)} ({Col("pipeline")}, {Col("table_name")}, {Col("watermark")}, {Col("updated_at")}) VALUES ($1, $2, $3, $4) "
        + $"ON CONFLICT ({Col("pipeline")}, {Col("table_name")}) DO UPDATE SET {Col("watermark")} = excluded.{Col("watermark")}, {Col("updated_at")} = excluded.{Col("updated_at")}",
    ];

    /// <summary>The change files as one relation, newest row per key: the files are parameters 1..n.</summary>
    public string ReadChanges(WarehouseTable table, int fileCount) =>
        $"(SELECT {SourceColumnList(table)} FROM read_parquet([{string.Join(", ", Enumerable.Range(1, fileCount).Select(Parameter))}]) QUALIFY row_number() OVER ({NewestFirst(table)}) = 1)";

    /// <summary>The MERGE straight from the files, reporting each row's action (<c>INSERT</c>, <c>UPDATE</c>, <c>DELETE</c>).</summary>
    public string MergeFromFiles(WarehouseTable table, int fileCount) => Merge(table, ReadChanges(table, fileCount));

    protected override string MergeTerminator => "\nRETURNING merge_action";

    protected override string QualifiedSchema => catalog is null ? QuoteRaw(Schema) : $"{QuoteRaw(catalog)}.{QuoteRaw(Schema)}";

    // A catalog comes from a file name: escape embedded quotes; everything else is a validated identifier.
    protected override string QuoteRaw(string identifier) => $"\"{identifier.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    protected override string IsTrue(string booleanExpression) => booleanExpression;

    protected override string IsFalse(string booleanExpression) => $"NOT {booleanExpression}";
}
