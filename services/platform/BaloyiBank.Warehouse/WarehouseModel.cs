namespace BaloyiBank.Warehouse;

/// <summary>The SQL engines the warehouse port speaks.</summary>
public enum WarehouseEngine
{
    DuckDb,
    PostgreSql,
    SqlServer,
    Synapse,
}

/// <summary>
/// A versioned change to the warehouse schema beyond the tables' own idempotent DDL (add a column, backfill,
/// an index). Applied once, in version order, each with its record in the migrations table; the statements
/// come from code for the engine at hand (<paramref name="Statements"/> gets the dialect for quoting).
/// </summary>
public sealed record WarehouseMigration(int Version, string Description, Func<SqlDialect, IReadOnlyList<string>> Statements);

/// <summary>
/// A reporting view, (re)created on every schema ensure: <paramref name="Select"/> returns the engine's
/// SELECT text (code, never data), using <see cref="SqlDialect.Table"/> and <see cref="SqlDialect.Quote"/> for names.
/// </summary>
public sealed record WarehouseView(string Name, Func<SqlDialect, string> Select);

/// <summary>What a warehouse holds: its tables, versioned migrations and reporting views.</summary>
public sealed record WarehouseModel(
    IReadOnlyList<WarehouseTable> Tables,
    IReadOnlyList<WarehouseMigration>? Migrations = null,
    IReadOnlyList<WarehouseView>? Views = null)
{
    public IReadOnlyList<WarehouseMigration> MigrationsInOrder =>
        [.. (Migrations ?? []).OrderBy(m => m.Version)];

    public IReadOnlyList<WarehouseView> AllViews => Views ?? [];

    /// <summary>Checks every name and that versions and names are unique; throws <see cref="ArgumentException"/>.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Tables);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var table in Tables)
        {
            table.Validate();
            if (!names.Add(table.Name))
            {
                throw new ArgumentException($"The warehouse model names '{table.Name}' twice (tables and views share one namespace).");
            }
        }

        foreach (var view in AllViews)
        {
            SqlIdentifier.Require(view.Name, "view name");
            if (!names.Add(view.Name))
            {
                throw new ArgumentException($"The warehouse model names '{view.Name}' twice (tables and views share one namespace).");
            }
        }

        var versions = new HashSet<int>();
        foreach (var migration in MigrationsInOrder)
        {
            if (migration.Version < 1 || !versions.Add(migration.Version))
            {
                throw new ArgumentException($"Migration versions must be unique and at least 1 (got {migration.Version} for '{migration.Description}').");
            }
        }
    }
}
