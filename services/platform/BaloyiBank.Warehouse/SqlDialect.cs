using System.Text;
using BaloyiBank.Delta;

namespace BaloyiBank.Warehouse;

/// <summary>
/// The SQL text one engine needs, generated from the table descriptions: DDL, the de-duplicated MERGE, the
/// control tables (migrations, watermarks) and their parameterized statements. Identifiers are validated
/// and quoted here; values never appear in the text (they are parameters or bulk-loaded).
/// </summary>
public abstract class SqlDialect
{
    /// <summary>The table of applied migrations (version, description, applied_at).</summary>
    public const string MigrationsTable = "_warehouse_migrations";

    /// <summary>The sink's watermarks: one row per (pipeline, table_name).</summary>
    public const string WatermarksTable = "_warehouse_watermarks";

    protected SqlDialect(string schema) => Schema = SqlIdentifier.Require(schema, "warehouse schema");

    public abstract WarehouseEngine Engine { get; }

    public string Schema { get; }

    /// <summary>A validated identifier, quoted for this engine.</summary>
    public string Quote(string identifier) => QuoteRaw(SqlIdentifier.Require(identifier, "identifier"));

    /// <summary>The schema-qualified, quoted name of a table or view.</summary>
    public string Table(string name) => $"{QualifiedSchema}.{Quote(name)}";

    /// <summary>The quoted schema, qualified further where the engine needs it (DuckDB: with its catalog).</summary>
    protected virtual string QualifiedSchema => QuoteRaw(Schema);

    /// <summary>The engine's column type.</summary>
    public abstract string TypeName(ColumnSchema column, WarehouseTable? table = null);

    /// <summary>The n-th (1-based) statement parameter.</summary>
    public abstract string Parameter(int ordinal);

    public abstract IReadOnlyList<string> CreateSchema();

    /// <summary>The migrations and watermarks tables, if missing.</summary>
    public abstract IReadOnlyList<string> CreateControlTables();

    /// <summary>The table, if missing (columns, NOT NULL, primary key or the Synapse storage choices).</summary>
    public abstract string CreateTable(WarehouseTable table);

    /// <summary>Drops and creates the view (separate statements: T-SQL wants CREATE VIEW alone in its batch).</summary>
    public abstract IReadOnlyList<string> CreateView(WarehouseView view);

    /// <summary>Applied migration versions.</summary>
    public string SelectMigrations() => $"SELECT {Col("version")} FROM {Control(MigrationsTable)}";

    /// <summary>Records a migration: parameters version, description, applied_at.</summary>
    public string InsertMigration() =>
        $"INSERT INTO {Control(MigrationsTable)} ({Col("version")}, {Col("description")}, {Col("applied_at")}) VALUES ({Parameter(1)}, {Parameter(2)}, {Parameter(3)})";

    /// <summary>Reads a watermark: parameters pipeline, table_name.</summary>
    public string SelectWatermark() =>
        $"SELECT {Col("watermark")}, {Col("updated_at")} FROM {Control(WatermarksTable)} WHERE {Col("pipeline")} = {Parameter(1)} AND {Col("table_name")} = {Parameter(2)}";

    /// <summary>
    /// Moves a watermark only from the value the loader expects (the fence's compare-and-set): parameters pipeline,
    /// table_name, watermark, updated_at, expected. Changes 1 row, or 0 when the row holds anything else or is missing.
    /// </summary>
    public string AdvanceWatermark() =>
        $"UPDATE {Control(WatermarksTable)} SET {Col("watermark")} = {Parameter(3)}, {Col("updated_at")} = {Parameter(4)} "
        + $"WHERE {Col("pipeline")} = {Parameter(1)} AND {Col("table_name")} = {Parameter(2)} AND {Col("watermark")} = {Parameter(5)}";

    /// <summary>
    /// A first watermark, only where none exists yet (guarded by the key): parameters pipeline, table_name, watermark,
    /// updated_at. Inserts 1 row, or 0 when a watermark exists (a first load that is fenced).
    /// </summary>
    public abstract string InsertFirstWatermark();

    /// <summary>
    /// Counts what the MERGE of <paramref name="source"/> (already de-duplicated) into the table will do:
    /// one row of inserted, updated, deleted, staged (for engines whose MERGE cannot report it).
    /// </summary>
    public string MergeCounts(WarehouseTable table, string source)
    {
        var newer = $"s.{Quote(table.VersionColumn)} > t.{Quote(table.VersionColumn)}";
        var missing = $"t.{Quote(table.KeyColumns[0])} IS NULL";
        var present = $"t.{Quote(table.KeyColumns[0])} IS NOT NULL";
        var keep = table.DeletedColumn is { } d ? IsFalse($"s.{Quote(d)}") : "1 = 1";
        var drop = table.DeletedColumn is { } d2 ? IsTrue($"s.{Quote(d2)}") : "1 = 0";
        return $"""
            SELECT
                {Count($"{missing} AND {keep}")} AS inserted,
                {Count($"{present} AND {newer} AND {keep}")} AS updated,
                {Count($"{present} AND {newer} AND {drop}")} AS deleted,
                {CountAll()} AS staged
            FROM {source} AS s
            LEFT JOIN {Table(table.Name)} AS t ON {KeyMatch(table, "t", "s")}
            """;
    }

    /// <summary>
    /// The MERGE of a de-duplicated <paramref name="source"/> relation into the table: update only when the source
    /// version is newer, delete only flagged newer rows, insert only unflagged new keys.
    /// </summary>
    public virtual string Merge(WarehouseTable table, string source)
    {
        var newer = $"s.{Quote(table.VersionColumn)} > t.{Quote(table.VersionColumn)}";
        var sql = new StringBuilder();
        sql.Append($"MERGE INTO {Table(table.Name)} AS t\n");
        sql.Append($"USING {source} AS s\n");
        sql.Append($"ON {KeyMatch(table, "t", "s")}\n");
        if (table.DeletedColumn is { } deleted)
        {
            sql.Append($"WHEN MATCHED AND {newer} AND {IsTrue($"s.{Quote(deleted)}")} THEN DELETE\n");
        }

        sql.Append($"WHEN MATCHED AND {newer} THEN UPDATE SET {string.Join(", ", table.UpdateColumns.Select(c => $"{Quote(c.Name)} = s.{Quote(c.Name)}"))}\n");
        sql.Append(NotMatched);
        if (table.DeletedColumn is { } flag)
        {
            sql.Append($" AND {IsFalse($"s.{Quote(flag)}")}");
        }

        sql.Append($" THEN INSERT ({ColumnList(table.TargetColumns)}) VALUES ({ColumnList(table.TargetColumns, "s.")})");
        sql.Append(MergeTerminator);
        return sql.ToString();
    }

    /// <summary>Removes a control row: parameters pipeline, table_name (with <see cref="InsertWatermark"/>: a portable upsert).</summary>
    public string DeleteWatermark() =>
        $"DELETE FROM {Control(WatermarksTable)} WHERE {Col("pipeline")} = {Parameter(1)} AND {Col("table_name")} = {Parameter(2)}";

    /// <summary>Writes a control row unconditionally: parameters pipeline, table_name, watermark, updated_at.</summary>
    public string InsertWatermark() =>
        $"INSERT INTO {Control(WatermarksTable)} ({Col("pipeline")}, {Col("table_name")}, {Col("watermark")}, {Col("updated_at")}) VALUES ({Parameter(1)}, {Parameter(2)}, {Parameter(3)}, {Parameter(4)})";

    /// <summary>A replacing load with no files: the table's whole state is empty.</summary>
    public string DeleteAll(WarehouseTable table) => $"DELETE FROM {Table(table.Name)}";

    /// <summary>
    /// A replacing load's first step: deletes the rows whose key the de-duplicated <paramref name="source"/> (the
    /// table's whole state) does not hold, or holds only as a delete.
    /// </summary>
    public virtual string DeleteAbsent(WarehouseTable table, string source) =>
        $"DELETE FROM {Table(table.Name)} AS t WHERE NOT EXISTS (SELECT 1 FROM {source} AS s WHERE {KeyMatch(table, "t", "s")} AND {Keep(table)})";

    /// <summary>
    /// Counts what <see cref="ReplaceMerge"/> of <paramref name="source"/> will do: inserted, updated, 0 (deletes are
    /// <see cref="DeleteAbsent"/>'s), staged.
    /// </summary>
    public string ReplaceCounts(WarehouseTable table, string source)
    {
        var missing = $"t.{Quote(table.KeyColumns[0])} IS NULL";
        var present = $"t.{Quote(table.KeyColumns[0])} IS NOT NULL";
        return $"""
            SELECT
                {Count($"{missing} AND {Keep(table)}")} AS inserted,
                {Count($"{present} AND {Keep(table)} AND ({Differs(table)})")} AS updated,
                {Count("1 = 0")} AS deleted,
                {CountAll()} AS staged
            FROM {source} AS s
            LEFT JOIN {Table(table.Name)} AS t ON {KeyMatch(table, "t", "s")}
            """;
    }

    /// <summary>
    /// A replacing load's MERGE: the source is the table's whole state, so a matched row is updated whenever any column
    /// differs (whatever its version: the state may come from a rebuilt source whose versions restart) and a new key
    /// is inserted; an identical row is left alone, so replacing with the same state changes 0 rows.
    /// </summary>
    public string ReplaceMerge(WarehouseTable table, string source)
    {
        var sql = new StringBuilder();
        sql.Append($"MERGE INTO {Table(table.Name)} AS t\n");
        sql.Append($"USING {source} AS s\n");
        sql.Append($"ON {KeyMatch(table, "t", "s")}\n");
        sql.Append($"WHEN MATCHED AND {Keep(table)} AND ({Differs(table)}) THEN UPDATE SET {string.Join(", ", table.UpdateColumns.Select(c => $"{Quote(c.Name)} = s.{Quote(c.Name)}"))}\n");
        sql.Append($"{NotMatched} AND {Keep(table)} THEN INSERT ({ColumnList(table.TargetColumns)}) VALUES ({ColumnList(table.TargetColumns, "s.")})");
        sql.Append(MergeTerminator);
        return sql.ToString();
    }

    /// <summary>Null-safe "some update column differs" between t and s (spelled out: T-SQL has no IS DISTINCT FROM everywhere).</summary>
    private string Differs(WarehouseTable table) => string.Join(" OR ", table.UpdateColumns.Select(c =>
    {
        var (t, s) = ($"t.{Quote(c.Name)}", $"s.{Quote(c.Name)}");
        return $"{t} <> {s} OR ({t} IS NULL AND {s} IS NOT NULL) OR ({t} IS NOT NULL AND {s} IS NULL)";
    }));

    private string Keep(WarehouseTable table) => table.DeletedColumn is { } d ? IsFalse($"s.{Quote(d)}") : "1 = 1";

    /// <summary>The columns of the change files the MERGE reads, in schema order: the target's plus the deleted flag.</summary>
    public string SourceColumnList(WarehouseTable table, string prefix = "") => ColumnList(table.Schema.Columns, prefix);

    /// <summary>"t.k1 = s.k1 AND t.k2 = s.k2".</summary>
    public string KeyMatch(WarehouseTable table, string left, string right) =>
        string.Join(" AND ", table.KeyColumns.Select(k => $"{left}.{Quote(k)} = {right}.{Quote(k)}"));

    /// <summary>The newest row per key first: version descending, then (equal versions) a delete before a keep.</summary>
    public string NewestFirst(WarehouseTable table) =>
        $"PARTITION BY {ColumnList(table.KeyColumns)} ORDER BY {Quote(table.VersionColumn)} DESC"
        + (table.DeletedColumn is { } d ? $", {Quote(d)} DESC" : string.Empty);

    public string ColumnList(IEnumerable<ColumnSchema> columns, string prefix = "") =>
        ColumnList(columns.Select(c => c.Name), prefix);

    public string ColumnList(IEnumerable<string> columns, string prefix = "") =>
        string.Join(", ", columns.Select(c => prefix + Quote(c)));

    protected virtual string NotMatched => "WHEN NOT MATCHED";

    protected virtual string MergeTerminator => string.Empty;

    /// <summary>Quotes an identifier already known to be valid (or an internal name such as a staging table).</summary>
    protected abstract string QuoteRaw(string identifier);

    protected abstract string IsTrue(string booleanExpression);

    protected abstract string IsFalse(string booleanExpression);

    protected virtual string Count(string condition) => $"count(*) FILTER (WHERE {condition})";

    protected virtual string CountAll() => "count(*)";

    /// <summary>A control table's qualified name (internal names start with '_', outside the identifier rule).</summary>
    protected string Control(string name) => $"{QualifiedSchema}.{QuoteRaw(name)}";

    protected string Col(string name) => QuoteRaw(name);
}
