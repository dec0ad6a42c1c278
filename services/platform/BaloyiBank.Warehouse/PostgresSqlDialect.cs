using BaloyiBank.Delta;

namespace BaloyiBank.Warehouse;

/// <summary>PostgreSQL 15: a temporary staging table filled by binary COPY, then MERGE (no RETURNING before 17).</summary>
public sealed class PostgresSqlDialect(string schema) : SqlDialect(schema)
{
    public override WarehouseEngine Engine => WarehouseEngine.PostgreSql;

    public override string TypeName(ColumnSchema column, WarehouseTable? table = null) => column.Type switch
    {
        ColumnType.String => "text",
        ColumnType.Long => "bigint",
        ColumnType.Integer => "integer",
        ColumnType.Boolean => "boolean",
        ColumnType.Double => "double precision",
        ColumnType.Money => "numeric(18,2)",
        ColumnType.Rate => "numeric(18,6)",
        ColumnType.Timestamp => "timestamptz",
        ColumnType.Date => "date",
        ColumnType.Binary => "bytea",
        _ => throw new ArgumentOutOfRangeException(nameof(column), column.Type, "Unknown column type."),
    };

    public override string Parameter(int ordinal) => $"${ordinal}";

    public override IReadOnlyList<string> CreateSchema() => [$"CREATE SCHEMA IF NOT EXISTS {QuoteRaw(Schema)}"];

    public override IReadOnlyList<string> CreateControlTables() =>
    [
        $"CREATE TABLE IF NOT EXISTS {Control(MigrationsTable)} ({Col("version")} integer NOT NULL PRIMARY KEY, {Col("description")} text NOT NULL, {Col("applied_at")} timestamptz NOT NULL)",
        $"CREATE TABLE IF NOT EXISTS {Control(WatermarksTable)} ({Col("pipeline")} text NOT NULL, {Col("table_name")} text NOT NULL, {Col("watermark")} bigint NOT NULL, {Col("updated_at")} timestamptz NOT NULL, PRIMARY KEY ({Col("pipeline")}, {Col("table_name")}))",
    ];

    public override string CreateTable(WarehouseTable table) =>
        $"CREATE TABLE IF NOT EXISTS {Table(table.Name)} ({ColumnDefinitions(table.TargetColumns)}, "
        + $"CONSTRAINT {QuoteRaw(Truncate("pk_" + table.Name))} PRIMARY KEY ({ColumnList(table.KeyColumns)}))";

    public override IReadOnlyList<string> CreateView(WarehouseView view) =>
        [$"DROP VIEW IF EXISTS {Table(view.Name)}", $"CREATE VIEW {Table(view.Name)} AS {view.Select(this)}"];

    /// <summary>A concurrent first insert waits for the other transaction, then finds the key taken: 0 rows, fenced.</summary>
    public override string InsertFirstWatermark() =>
        $"INSERT INTO {Control(WatermarksTable)} ({Col("pipeline")}, {Col("table_name")}, {Col("watermark")}, {Col("updated_at")}) VALUES ($1, $2, $3, $4) "
        + $"ON CONFLICT ({Col("pipeline")}, {Col("table_name")}) DO NOTHING";

    /// <summary>The session's staging table for the n-th table of a load (dropped at commit or rollback).</summary>
    public static string StagingName(int ordinal) => $"_stage_{ordinal}";

    /// <summary>A temporary table with the change files' columns (the target's plus the deleted flag).</summary>
    public string CreateStaging(WarehouseTable table, int ordinal) =>
        $"CREATE TEMP TABLE {QuoteRaw(StagingName(ordinal))} ({ColumnDefinitions(table.Schema.Columns)}) ON COMMIT DROP";

    /// <summary>The binary COPY into the staging table.</summary>
    public string CopyIntoStaging(WarehouseTable table, int ordinal) =>
        $"COPY {QuoteRaw(StagingName(ordinal))} ({SourceColumnList(table)}) FROM STDIN (FORMAT BINARY)";

    public string Staging(int ordinal) => QuoteRaw(StagingName(ordinal));

    protected override string QuoteRaw(string identifier) => $"\"{identifier}\"";

    protected override string IsTrue(string booleanExpression) => booleanExpression;

    protected override string IsFalse(string booleanExpression) => $"NOT {booleanExpression}";

    private static string Truncate(string name) => name.Length <= SqlIdentifier.MaxLength ? name : name[..SqlIdentifier.MaxLength];

    private string ColumnDefinitions(IEnumerable<ColumnSchema> columns) =>
        string.Join(", ", columns.Select(c => $"{Quote(c.Name)} {TypeName(c)}{(c.Nullable ? string.Empty : " NOT NULL")}"));
}
