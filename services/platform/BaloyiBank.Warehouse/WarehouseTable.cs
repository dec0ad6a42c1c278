using BaloyiBank.Delta;

namespace BaloyiBank.Warehouse;

/// <summary>How a Synapse dedicated SQL pool spreads a table over its 60 distributions.</summary>
public abstract record SynapseDistribution
{
    /// <summary><c>DISTRIBUTION = HASH(column)</c>: large fact tables, joined and merged on that column.</summary>
    public static SynapseDistribution Hash(string column) => new HashDistribution(column);

    /// <summary><c>DISTRIBUTION = REPLICATE</c>: small dimensions (a full copy on every compute node).</summary>
    public static SynapseDistribution Replicate { get; } = new ReplicateDistribution();

    /// <summary><c>DISTRIBUTION = ROUND_ROBIN</c>: no good hash column; staging.</summary>
    public static SynapseDistribution RoundRobin { get; } = new RoundRobinDistribution();
}

public sealed record HashDistribution(string Column) : SynapseDistribution;

public sealed record ReplicateDistribution : SynapseDistribution;

public sealed record RoundRobinDistribution : SynapseDistribution;

/// <summary>The storage of a Synapse table (SQL Server always gets a clustered primary key).</summary>
public enum SynapseIndex
{
    /// <summary><c>CLUSTERED COLUMNSTORE INDEX</c>: large tables scanned by reports (the dedicated pool's default).</summary>
    ClusteredColumnstore,
    /// <summary><c>HEAP</c>: small or transient tables.</summary>
    Heap,
}

/// <summary>
/// A warehouse table, described in code: its columns (the gold table's <see cref="TableSchema"/>), the key the
/// MERGE matches on, the version column that decides which row is newer, and optionally a boolean column
/// that marks a source row as a delete. The deleted column lives only in the change files: the warehouse
/// table has every other column. Synapse settings are ignored by the other engines.
/// </summary>
public sealed record WarehouseTable
{
    public WarehouseTable(TableSchema schema, IReadOnlyList<string> keyColumns, string versionColumn, string? deletedColumn = null)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(keyColumns);
        Schema = schema;
        KeyColumns = keyColumns;
        VersionColumn = versionColumn;
        DeletedColumn = deletedColumn;
        Validate();
    }

    /// <summary>The columns, as the change files hold them (including <see cref="DeletedColumn"/>).</summary>
    public TableSchema Schema { get; }

    public string Name => Schema.Name;

    /// <summary>The columns a row is identified by (not nullable).</summary>
    public IReadOnlyList<string> KeyColumns { get; }

    /// <summary>A Long, Integer or Timestamp column: a source row replaces the target row only when this is greater.</summary>
    public string VersionColumn { get; }

    /// <summary>A Boolean column: true deletes the target row (when newer); such a row is never inserted.</summary>
    public string? DeletedColumn { get; }

    /// <summary>Synapse: <c>DISTRIBUTION</c>. Default ROUND_ROBIN.</summary>
    public SynapseDistribution Distribution { get; init; } = SynapseDistribution.RoundRobin;

    /// <summary>Synapse: <c>CLUSTERED COLUMNSTORE INDEX</c> or <c>HEAP</c>. Default columnstore.</summary>
    public SynapseIndex Index { get; init; } = SynapseIndex.ClusteredColumnstore;

    /// <summary>T-SQL string columns: <c>NVARCHAR(n)</c> per column; others get 4000, keys 256 (index key size limits).</summary>
    public IReadOnlyDictionary<string, int> StringLengths { get; init; } = new Dictionary<string, int>();

    /// <summary>The warehouse table's columns: the schema without the deleted flag.</summary>
    public IReadOnlyList<ColumnSchema> TargetColumns =>
        [.. Schema.Columns.Where(c => c.Name != DeletedColumn)];

    /// <summary>The columns an update sets: every target column but the key.</summary>
    public IReadOnlyList<ColumnSchema> UpdateColumns =>
        [.. TargetColumns.Where(c => !KeyColumns.Contains(c.Name))];

    /// <summary>The declared NVARCHAR length of a string column in T-SQL.</summary>
    public int StringLength(string column) =>
        StringLengths.TryGetValue(column, out var length) ? length : KeyColumns.Contains(column) ? 256 : 4000;

    /// <summary>Checks names, key, version, deleted flag and the Synapse settings; throws <see cref="ArgumentException"/> naming the problem.</summary>
    public void Validate()
    {
        SqlIdentifier.Require(Schema.Name, "table name");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var column in Schema.Columns)
        {
            SqlIdentifier.Require(column.Name, $"column name (table {Schema.Name})");
            if (!names.Add(column.Name))
            {
                throw Invalid($"has the column '{column.Name}' twice");
            }
        }

        if (KeyColumns.Count == 0)
        {
            throw Invalid("has no key columns; name the columns a row is identified by");
        }

        foreach (var key in KeyColumns)
        {
            var column = Find(key, "key column");
            if (column.Nullable)
            {
                throw Invalid($"key column '{key}' is nullable; keys must be NOT NULL");
            }

            if (column.Type is ColumnType.Double or ColumnType.Binary)
            {
                throw Invalid($"key column '{key}' is {column.Type}; keys must be strings, integers, dates or timestamps");
            }
        }

        if (KeyColumns.Distinct(StringComparer.Ordinal).Count() != KeyColumns.Count)
        {
            throw Invalid("names a key column twice");
        }

        var version = Find(VersionColumn, "version column");
        if (version.Type is not (ColumnType.Long or ColumnType.Integer or ColumnType.Timestamp) || version.Nullable || KeyColumns.Contains(VersionColumn))
        {
            throw Invalid($"version column '{VersionColumn}' must be a NOT NULL Long, Integer or Timestamp column outside the key");
        }

        if (DeletedColumn is not null)
        {
            var deleted = Find(DeletedColumn, "deleted column");
            if (deleted.Type != ColumnType.Boolean || deleted.Nullable || KeyColumns.Contains(DeletedColumn) || DeletedColumn == VersionColumn)
            {
                throw Invalid($"deleted column '{DeletedColumn}' must be a NOT NULL Boolean column outside the key and version");
            }
        }

        if (Distribution is HashDistribution hash && !TargetColumns.Any(c => c.Name == hash.Column))
        {
            throw Invalid($"is distributed by HASH({hash.Column}), which is not one of its columns");
        }

        foreach (var (column, length) in StringLengths)
        {
            if (Find(column, "string length column").Type != ColumnType.String || length is < 1 or > 4000)
            {
                throw Invalid($"string length of '{column}' must be 1-4000 on a String column (got {length})");
            }
        }
    }

    private ColumnSchema Find(string? name, string what) =>
        Schema.Columns.FirstOrDefault(c => c.Name == name) ?? throw Invalid($"has no {what} '{name}'");

    private ArgumentException Invalid(string problem) => new($"Warehouse table '{Schema.Name}' {problem}.");
}
