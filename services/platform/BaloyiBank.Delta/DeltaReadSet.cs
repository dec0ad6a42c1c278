using System.Globalization;

namespace BaloyiBank.Delta;

/// <summary>An active data file of a snapshot with the local path DuckDB can read it from.</summary>
public sealed record DeltaReadFile(AddFile File, string LocalPath);

/// <summary>
/// The data files of one snapshot, local and ready for DuckDB. Only files named by the snapshot are here:
/// uncommitted (orphan) files in the table folder are never read.
/// </summary>
public sealed class DeltaReadSet(TableSchema schema, long version, IReadOnlyList<DeltaReadFile> files)
{
    public TableSchema Schema { get; } = schema;

    public long Version { get; } = version;

    public IReadOnlyList<DeltaReadFile> Files { get; } = files;

    /// <summary>
    /// A FROM-clause fragment over the files: <c>read_parquet([...], hive_partitioning = false)</c>, since
    /// partition values come from the log, not folder names (and this library keeps partition columns in the
    /// files). An empty table gives an empty relation with the table's columns, so queries still bind.
    /// </summary>
    public string ToSql()
    {
        if (Files.Count == 0)
        {
            var columns = Schema.Columns.Select(c => $"CAST(NULL AS {DeltaSchema.DuckDbTypeName(c.Type)}) AS {DeltaSchema.Quote(c.Name)}");
            return $"(SELECT {string.Join(", ", columns)} LIMIT 0)";
        }

        var list = string.Join(", ", Files.Select(f => DeltaCheckpoints.Literal(f.LocalPath)));
        return string.Create(CultureInfo.InvariantCulture, $"read_parquet([{list}], hive_partitioning = false)");
    }
}
