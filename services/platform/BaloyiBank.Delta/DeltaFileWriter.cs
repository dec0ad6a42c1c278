using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace BaloyiBank.Delta;

/// <summary>
/// Writes rows held in <see cref="ColumnBuffer"/>s as the data files of one Delta commit: one zstd Parquet file per
/// partition, named <c>&lt;partition folders&gt;/&lt;stem&gt;.zstd.parquet</c>, with per-file statistics,
/// uploaded to the lake, and returned as <c>add</c> actions for the caller to commit (with its txn).
/// The caller picks the stem from the batch's offset range, so writing the same range again yields the
/// same names (invariant 2) and an uncommitted attempt is just an orphan that a later attempt overwrites.
/// </summary>
/// <remarks>
/// Partition columns are kept inside the Parquet files as well as in <c>partitionValues</c>: Delta readers
/// take partition values from the log and ignore such columns, and other readers (DuckDB) can read the files on their own.
/// </remarks>
public sealed partial class DeltaFileWriter(DeltaTable table, TableSchema schema)
{
    /// <summary>Longest string prefix kept in min/max statistics (Spark's default is 32 characters).</summary>
    public const int StringStatisticsPrefix = 32;

    private const int ParallelUploads = 4;

    private readonly TableSchema schema = Validated(schema);

    private static TableSchema Validated(TableSchema schema)
    {
        DeltaSchema.Validate(schema);
        return schema;
    }

    // Spark keeps no min/max for booleans or binary; neither helps skip files.
    private static bool HasBounds(ColumnType type) => type is not (ColumnType.Boolean or ColumnType.Binary);

    /// <summary>
    /// Writes a min (or max) so that it is never tighter than the data: readers skip files by these bounds,
    /// and a bound that excludes a real value would hide rows. Hence timestamps are floored (min) or ceiled
    /// (max) to the millisecond the protocol stores, and a string max longer than the kept prefix is left out.
    /// </summary>
    private static void WriteBound(Utf8JsonWriter json, ColumnSchema column, object value, bool upper)
    {
        switch (column.Type, value)
        {
            case (ColumnType.String, string text):
                if (text.Length <= StringStatisticsPrefix)
                {
                    json.WriteString(column.Name, text);
                }
                else if (!upper)
                {
                    // A prefix is <= the value, so it is a valid lower bound; cut before a surrogate pair, not inside it.
                    var cut = char.IsHighSurrogate(text[StringStatisticsPrefix - 1]) ? StringStatisticsPrefix - 1 : StringStatisticsPrefix;
                    json.WriteString(column.Name, text[..cut]);
                }

                break;
            case (ColumnType.Long or ColumnType.Integer, _):
                json.WriteNumber(column.Name, Convert.ToInt64(value, CultureInfo.InvariantCulture));
                break;
            case (ColumnType.Double, double d) when double.IsFinite(d):
                json.WriteNumber(column.Name, d);
                break;
            case (ColumnType.Money or ColumnType.Rate, decimal m):
                json.WriteNumber(column.Name, m);
                break;
            case (ColumnType.Date, DateOnly date):
                json.WriteString(column.Name, date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                break;
            case (ColumnType.Timestamp, DateTimeOffset instant):
                var utc = instant.UtcDateTime;
                var floored = new DateTime(utc.Ticks - (utc.Ticks % TimeSpan.TicksPerMillisecond), DateTimeKind.Utc);
                var bound = upper && floored != utc ? floored.AddMilliseconds(1) : floored;
                json.WriteString(column.Name, bound.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
                break;
            default:
                // NaN/Infinity doubles and anything unexpected: no bound is always correct.
                break;
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex StemPattern();

    private sealed record LocalFile(string RelativePath, string LocalPath, IReadOnlyDictionary<string, string?> PartitionValues, string Stats);
}
