using System.Text;
using BaloyiBank.Delta;

namespace BaloyiBank.Warehouse;

/// <summary>
/// T-SQL for SQL Server / Azure SQL and for a Synapse dedicated SQL pool. SQL Server stages into a session
/// temporary table (<c>#stage_n</c>, filled by SqlBulkCopy) and MERGEs from it. Synapse stages with
/// <c>COPY INTO</c> from the files' ADLS URLs (managed identity) into a per-table staging heap, de-duplicates
/// with CTAS, and respects the dedicated pool's rules: distribution and index in the DDL, no enforced
/// primary key, no <c>OUTPUT</c>/<c>@@ROWCOUNT</c>, and MERGE with <c>WHEN NOT MATCHED</c> only into a
/// HASH-distributed target (REPLICATE and ROUND_ROBIN targets get DELETE, UPDATE, INSERT instead).
/// </summary>
public sealed class TSqlDialect : SqlDialect
{
    public TSqlDialect(string schema, bool synapse)
        : base(schema) => IsSynapse = synapse;

    public bool IsSynapse { get; }

    public override WarehouseEngine Engine => IsSynapse ? WarehouseEngine.Synapse : WarehouseEngine.SqlServer;

    /// <summary>UTC instants as DATETIME2(6) (the lake's microseconds); money DECIMAL(18,2); text NVARCHAR.</summary>
    public override string TypeName(ColumnSchema column, WarehouseTable? table = null) => column.Type switch
    {
        ColumnType.String => $"NVARCHAR({table?.StringLength(column.Name) ?? 4000})",
        ColumnType.Long => "BIGINT",
        ColumnType.Integer => "INT",
        ColumnType.Boolean => "BIT",
        ColumnType.Double => "FLOAT",
        ColumnType.Money => "DECIMAL(18,2)",
        ColumnType.Rate => "DECIMAL(18,6)",
        ColumnType.Timestamp => "DATETIME2(6)",
        ColumnType.Date => "DATE",
        ColumnType.Binary => "VARBINARY(8000)",
        _ => throw new ArgumentOutOfRangeException(nameof(column), column.Type, "Unknown column type."),
    };

    public override string Parameter(int ordinal) => $"@p{ordinal}";

    public override IReadOnlyList<string> CreateSchema() =>
        [$"IF SCHEMA_ID(N'{Schema}') IS NULL EXEC(N'CREATE SCHEMA {QuoteRaw(Schema)}');"];

    public override IReadOnlyList<string> CreateControlTables() =>
    [
        ControlTable(MigrationsTable, $"{Col("version")} INT NOT NULL, {Col("description")} NVARCHAR(400) NOT NULL, {Col("applied_at")} DATETIME2(6) NOT NULL", Col("version")),
        ControlTable(WatermarksTable, $"{Col("pipeline")} NVARCHAR(128) NOT NULL, {Col("table_name")} NVARCHAR(128) NOT NULL, {Col("watermark")} BIGINT NOT NULL, {Col("updated_at")} DATETIME2(6) NOT NULL", $"{Col("pipeline")}, {Col("table_name")}"),
    ];

    public override string CreateTable(WarehouseTable table)
    {
        var columns = string.Join(",\n    ", table.TargetColumns.Select(c => $"{Quote(c.Name)} {TypeName(c, table)} {(c.Nullable ? "NULL" : "NOT NULL")}"));
        var head = $"IF OBJECT_ID(N'{Schema}.{table.Name}', N'U') IS NULL\nCREATE TABLE {Table(table.Name)} (\n    {columns}";
        return IsSynapse
            ? $"{head}\n)\nWITH (DISTRIBUTION = {Distribution(table.Distribution)}, {Index(table.Index)});"
            : $"{head},\n    CONSTRAINT {QuoteRaw("pk_" + table.Name)} PRIMARY KEY CLUSTERED ({ColumnList(table.KeyColumns)})\n);";
    }

    public override IReadOnlyList<string> CreateView(WarehouseView view) =>
    [
        $"IF OBJECT_ID(N'{Schema}.{view.Name}', N'V') IS NOT NULL DROP VIEW {Table(view.Name)};",
        $"CREATE VIEW {Table(view.Name)} AS {view.Select(this)};",
    ];

    /// <summary>
    /// SQL Server: the key-range lock (UPDLOCK, HOLDLOCK) on the absent key is held to the commit, so a concurrent
    /// first load waits and then finds the row (0 rows; a deadlock between two is retried and then fenced). Synapse
    /// has no enforced key and no locking hints: the same statement under its table lock, checked by
    /// <see cref="CountWatermark"/> because a dedicated pool reports no row counts.
    /// </summary>
    public override string InsertFirstWatermark() =>
        $"INSERT INTO {Control(WatermarksTable)} ({Col("pipeline")}, {Col("table_name")}, {Col("watermark")}, {Col("updated_at")}) SELECT @p1, @p2, @p3, @p4 "
        + $"WHERE NOT EXISTS (SELECT 1 FROM {Control(WatermarksTable)}{(IsSynapse ? string.Empty : " WITH (UPDLOCK, HOLDLOCK)")} WHERE {Col("pipeline")} = @p1 AND {Col("table_name")} = @p2);";

    /// <summary>
    /// Synapse's check of the fence inside the load's transaction (a dedicated pool has no @@ROWCOUNT and reports no
    /// row counts): the rows of (pipeline, table_name) and their largest watermark; parameters pipeline, table_name.
    /// After the compare-and-set exactly one row holding the new watermark means it took.
    /// </summary>
    public string CountWatermark() =>
        $"SELECT COUNT_BIG(*), MAX({Col("watermark")}) FROM {Control(WatermarksTable)} WHERE {Col("pipeline")} = @p1 AND {Col("table_name")} = @p2";

    // ---- SQL Server: session temp table + SqlBulkCopy ----

    /// <summary>SQL Server: the session's staging table for the n-th table of a load.</summary>
    public static string TempStagingName(int ordinal) => $"#stage_{ordinal}";

    /// <summary>SQL Server: a session temp table with the change files' columns (rows arrive de-duplicated).</summary>
    public string CreateTempStaging(WarehouseTable table, int ordinal) =>
        $"CREATE TABLE {TempStagingName(ordinal)} ({string.Join(", ", table.Schema.Columns.Select(c => $"{Quote(c.Name)} {TypeName(c, table)} {(c.Nullable ? "NULL" : "NOT NULL")}"))});";

    public static string DropTempStaging(int ordinal) =>
        $"IF OBJECT_ID(N'tempdb..{TempStagingName(ordinal)}') IS NOT NULL DROP TABLE {TempStagingName(ordinal)};";

    // ---- Synapse: COPY INTO a staging heap, CTAS de-duplication ----

    /// <summary>
    /// Synapse: the raw staging table of one load. Named per load (<paramref name="load"/>, from
    /// <see cref="NewLoadTag"/>): staging runs outside the load's transaction, so with shared names a loader paused
    /// past its lease could overwrite the staging of the loader that replaced it.
    /// </summary>
    public string StagingTable(WarehouseTable table, string? load = null) => Control(StagingName(table, load));

    /// <summary>Synapse: the de-duplicated rows of one load (a CTAS distributed like the target).</summary>
    public string DedupTable(WarehouseTable table, string? load = null) => Control(DedupName(table, load));

    /// <summary>A load's tag for its staging tables' names: <c>l</c> and 12 hex digits, unique per load.</summary>
    public static string NewLoadTag() => "l" + Guid.NewGuid().ToString("N")[..12];

    private static string StagingName(WarehouseTable table, string? load) => "_stage_" + table.Name + Suffix(load);

    private static string DedupName(WarehouseTable table, string? load) => "_dedup_" + table.Name + Suffix(load);

    private static string Suffix(string? load) => load is null ? "" : "_" + SqlIdentifier.Require(load, "load tag");

    /// <summary>Synapse: the raw staging table (a heap), created empty for the load.</summary>
    public string CreateStagingTable(WarehouseTable table, string? load = null) =>
        $"IF OBJECT_ID(N'{Schema}.{StagingName(table, load)}', N'U') IS NOT NULL DROP TABLE {StagingTable(table, load)};\n"
        + $"CREATE TABLE {StagingTable(table, load)} ({string.Join(", ", table.Schema.Columns.Select(c => $"{Quote(c.Name)} {TypeName(c, table)} {(c.Nullable ? "NULL" : "NOT NULL")}"))}) WITH (DISTRIBUTION = ROUND_ROBIN, HEAP);";

    /// <summary>Synapse: drops a load's staging and de-duplication tables (after its transaction, committed or not).</summary>
    public IReadOnlyList<string> DropStaging(WarehouseTable table, string? load = null) =>
    [
        $"IF OBJECT_ID(N'{Schema}.{StagingName(table, load)}', N'U') IS NOT NULL DROP TABLE {StagingTable(table, load)};",
        $"IF OBJECT_ID(N'{Schema}.{DedupName(table, load)}', N'U') IS NOT NULL DROP TABLE {DedupTable(table, load)};",
    ];

    /// <summary>
    /// Synapse: loads the change files into the staging table with the pool's managed identity. URLs are
    /// checked (absolute https, no quotes) because COPY INTO takes them only as literals.
    /// </summary>
    public string CopyInto(WarehouseTable table, IReadOnlyList<string> fileUrls, string? load = null)
    {
        if (fileUrls.Count == 0)
        {
            throw new ArgumentException($"COPY INTO for '{table.Name}' needs at least one file URL.", nameof(fileUrls));
        }

        foreach (var url in fileUrls)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps
                || url.Contains('\'', StringComparison.Ordinal) || url.Any(char.IsControl))
            {
                throw new ArgumentException($"Synapse change file '{url}' of table '{table.Name}' must be an absolute https URL in Azure Storage (https://<account>.blob.core.windows.net/<container>/<path>.parquet, or the dfs endpoint) without quotes.", nameof(fileUrls));
            }
        }

        return $"COPY INTO {StagingTable(table, load)} ({SourceColumnList(table)})\n"
            + $"FROM {string.Join(", ", fileUrls.Select(u => $"'{u}'"))}\n"
            + "WITH (FILE_TYPE = 'PARQUET', CREDENTIAL = (IDENTITY = 'Managed Identity'), AUTO_CREATE_TABLE = 'OFF');";
    }

    /// <summary>Synapse: the newest row per key into a fresh table distributed like the target (CTAS).</summary>
    public IReadOnlyList<string> Deduplicate(WarehouseTable table, string? load = null)
    {
        var distribution = table.Distribution is HashDistribution ? Distribution(table.Distribution) : "ROUND_ROBIN";
        return
        [
            $"IF OBJECT_ID(N'{Schema}.{DedupName(table, load)}', N'U') IS NOT NULL DROP TABLE {DedupTable(table, load)};",
            $"CREATE TABLE {DedupTable(table, load)} WITH (DISTRIBUTION = {distribution}, HEAP) AS\n"
            + $"SELECT {SourceColumnList(table)} FROM (\n"
            + $"    SELECT {SourceColumnList(table)}, ROW_NUMBER() OVER ({NewestFirst(table)}) AS [_rn] FROM {StagingTable(table, load)}\n"
            + ") AS d WHERE d.[_rn] = 1;",
        ];
    }

    /// <summary>
    /// The statements that apply a de-duplicated <paramref name="source"/> to the table. A MERGE, except on a
    /// dedicated pool whose target is not HASH-distributed: MERGE with <c>WHEN NOT MATCHED</c> needs a HASH
    /// target there, so DELETE, UPDATE and INSERT run in that order within the same transaction.
    /// </summary>
    public IReadOnlyList<string> Apply(WarehouseTable table, string source) =>
        IsSynapse && table.Distribution is not HashDistribution ? SeparateStatements(table, source) : [Merge(table, source)];

    /// <summary>T-SQL deletes through an alias with <c>DELETE alias FROM table AS alias</c>.</summary>
    public override string DeleteAbsent(WarehouseTable table, string source) =>
        "DELETE t FROM " + base.DeleteAbsent(table, source)["DELETE FROM ".Length..];

    protected override string NotMatched => "WHEN NOT MATCHED BY TARGET";

    protected override string MergeTerminator => ";";

    protected override string QuoteRaw(string identifier) => $"[{identifier}]";

    protected override string IsTrue(string booleanExpression) => $"{booleanExpression} = 1";

    protected override string IsFalse(string booleanExpression) => $"{booleanExpression} = 0";

    protected override string Count(string condition) => $"COALESCE(SUM(CASE WHEN {condition} THEN CAST(1 AS BIGINT) ELSE 0 END), 0)";

    protected override string CountAll() => "COUNT_BIG(*)";

    private static string Distribution(SynapseDistribution distribution) => distribution switch
    {
        HashDistribution hash => $"HASH([{SqlIdentifier.Require(hash.Column, "distribution column")}])",
        ReplicateDistribution => "REPLICATE",
        _ => "ROUND_ROBIN",
    };

    private static string Index(SynapseIndex index) => index == SynapseIndex.Heap ? "HEAP" : "CLUSTERED COLUMNSTORE INDEX";

    /// <summary>A small control table: a clustered key on SQL Server; a round-robin heap on Synapse (no enforced keys there).</summary>
    private string ControlTable(string name, string columns, string key) =>
        $"IF OBJECT_ID(N'{Schema}.{name}', N'U') IS NULL CREATE TABLE {Control(name)} ({columns}"
        + (IsSynapse ? ") WITH (DISTRIBUTION = ROUND_ROBIN, HEAP);" : $", CONSTRAINT {QuoteRaw("pk" + name)} PRIMARY KEY CLUSTERED ({key}));");

    private List<string> SeparateStatements(WarehouseTable table, string source)
    {
        var target = Table(table.Name);
        var matchTarget = string.Join(" AND ", table.KeyColumns.Select(k => $"s.{Quote(k)} = {target}.{Quote(k)}"));
        var newer = $"s.{Quote(table.VersionColumn)} > {target}.{Quote(table.VersionColumn)}";
        var statements = new List<string>();
        if (table.DeletedColumn is { } deleted)
        {
            statements.Add($"DELETE FROM {target} WHERE EXISTS (SELECT 1 FROM {source} AS s WHERE {matchTarget} AND {newer} AND s.{Quote(deleted)} = 1);");
        }

        var keep = table.DeletedColumn is { } flag ? $" AND s.{Quote(flag)} = 0" : string.Empty;
        var update = new StringBuilder($"UPDATE {target} SET ");
        update.Append(string.Join(", ", table.UpdateColumns.Select(c => $"{Quote(c.Name)} = s.{Quote(c.Name)}")));
        update.Append($" FROM {source} AS s WHERE {matchTarget} AND {newer}{keep};");
        statements.Add(update.ToString());
        statements.Add($"INSERT INTO {target} ({ColumnList(table.TargetColumns)}) SELECT {ColumnList(table.TargetColumns, "s.")} FROM {source} AS s "
            + $"WHERE NOT EXISTS (SELECT 1 FROM {target} AS t WHERE {KeyMatch(table, "t", "s")}){keep};");
        return statements;
    }
}
