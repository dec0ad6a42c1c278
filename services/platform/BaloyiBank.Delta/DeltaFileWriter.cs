using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using BaloyiBank.DuckDb;

namespace BaloyiBank.Delta;

/// <summary>
/// Writes rows held in a DuckDB table as the data files of one Delta commit: one zstd Parquet file per
/// partition, named <c>&lt;partition folders&gt;/&lt;stem&gt;.zstd.parquet</c>, with per-file statistics,
/// uploaded to the lake, and returned as <c>add</c> actions for the caller to commit (with its txn).
/// The caller picks the stem from the batch's offset range, so writing the same range again yields the
/// same names (invariant 2) and an uncommitted attempt is just an orphan that a later attempt overwrites.
/// </summary>
/// <remarks>
/// Partition columns are kept inside the Parquet files as well as in <c>partitionValues</c>: Delta readers
/// take partition values from the log and ignore such columns, and DuckDB can read the files on their own.
/// </remarks>
public sealed partial class DeltaFileWriter(DeltaTable table, TableSchema schema)
{
    /// <summary>Longest string prefix kept in min/max statistics (Spark's default is 32 characters).</summary>
    public const int StringStatisticsPrefix = 32;

    private const int ParallelUploads = 4;

    private readonly TableSchema schema = Validated(schema);

    /// <summary>DDL for a table whose columns match <paramref name="schema"/>, with identifiers quoted (names come from code, never data).</summary>
    public static string StagingTableDdl(TableSchema schema, string tableName, bool temporary = true)
    {
        DeltaSchema.Validate(schema);
        var columns = schema.Columns.Select(c => $"{DeltaSchema.Quote(c.Name)} {DeltaSchema.DuckDbTypeName(c.Type)}{(c.Nullable ? "" : " NOT NULL")}");
        return $"CREATE OR REPLACE {(temporary ? "TEMP " : "")}TABLE {DeltaSchema.Quote(tableName)} ({string.Join(", ", columns)})";
    }

    /// <summary>Creates (or replaces) the staging table the caller appends a batch's rows to.</summary>
    public static void CreateStagingTable(DuckDbConnection connection, TableSchema schema, string tableName, bool temporary = true)
    {
        ArgumentNullException.ThrowIfNull(connection);
        connection.Execute(StagingTableDdl(schema, tableName, temporary));
    }

    /// <summary>
    /// Writes the rows of <paramref name="sourceTable"/> (columns named as the schema's) and uploads the files.
    /// Returns one <see cref="AddFile"/> per written file (none when the table is empty), ordered by path.
    /// </summary>
    public async Task<IReadOnlyList<AddFile>> WriteAsync(DuckDbConnection connection, string sourceTable, string fileStem, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        DeltaSchema.RequireIdentifier(sourceTable, "source table");
        RequireStem(fileStem);

        var folder = DeltaCheckpoints.ScratchFolder(table, preferLakeStaging: true);
        using var span = DeltaTelemetry.StartWrite(table);
        try
        {
            // DuckDB work first, on the caller's connection, without awaiting in between; then the uploads
            // (a rename into place when the folder is the lake's own staging folder).
            var files = WriteLocalFiles(connection, DeltaSchema.Quote(sourceTable), fileStem, folder);
            var adds = await UploadAsync(files, cancellationToken).ConfigureAwait(false);
            DeltaTelemetry.Written(span, adds);
            return adds;
        }
        finally
        {
            DeltaCheckpoints.TryDelete(folder);
        }
    }

    private static TableSchema Validated(TableSchema schema)
    {
        DeltaSchema.Validate(schema);
        return schema;
    }

    private List<LocalFile> WriteLocalFiles(DuckDbConnection connection, string source, string stem, string folder)
    {
        var select = string.Join(", ", schema.Columns.Select(c => $"CAST(s.{DeltaSchema.Quote(c.Name)} AS {DeltaSchema.DuckDbTypeName(c.Type)}) AS {DeltaSchema.Quote(c.Name)}"));
        List<LocalFile> files = [];
        if (schema.PartitionColumns.Count == 0)
        {
            var local = Path.Combine(folder, "part-0.parquet");
            if (Copy(connection, $"SELECT {select} FROM {source} AS s", local) is { } stats)
            {
                files.Add(new($"{stem}.zstd.parquet", local, new Dictionary<string, string?>(), stats));
            }

            return files;
        }

        // Partitions are numbered in a scratch table so that each COPY selects its rows by an integer,
        // never by a data value spliced into SQL.
        var partitions = DeltaSchema.Quote($"__delta_partitions_{Guid.NewGuid():N}");
        var keys = string.Join(", ", schema.PartitionColumns.Select(DeltaSchema.Quote));
        connection.Execute(
            $"CREATE TEMP TABLE {partitions} AS SELECT row_number() OVER (ORDER BY {keys}) AS partition_id, {keys} FROM (SELECT DISTINCT {keys} FROM {source})");
        try
        {
            List<(long Id, Dictionary<string, string?> Values)> found = [];
            using (var result = connection.Query($"SELECT partition_id, {keys} FROM {partitions} ORDER BY partition_id"))
            {
                while (result.Read())
                {
                    var values = new Dictionary<string, string?>(StringComparer.Ordinal);
                    for (var i = 0; i < schema.PartitionColumns.Count; i++)
                    {
                        var column = schema.Column(schema.PartitionColumns[i]);
                        values[column.Name] = DeltaPaths.SerializePartitionValue(column.Type, ReadPartitionValue(result, i + 1, column.Type));
                    }

                    found.Add((result.GetInt64(0), values));
                }
            }

            if (found.Count == 1)
            {
                // The usual case (bronze, quarantine, most flushes of a table by date): every row is in the one
                // partition, so neither the statistics nor the file need the join.
                var (id, values) = found[0];
                var local = Path.Combine(folder, $"part-{id.ToString(CultureInfo.InvariantCulture)}.parquet");
                if (Copy(connection, $"SELECT {select} FROM {source} AS s", local) is { } stats)
                {
                    files.Add(new($"{DeltaPaths.PartitionFolder(schema.PartitionColumns, values)}{stem}.zstd.parquet", local, values, stats));
                }

                return files;
            }

            // Every partition's statistics in one pass, then a file per partition.
            var match = string.Join(" AND ", schema.PartitionColumns.Select(c => $"s.{DeltaSchema.Quote(c)} IS NOT DISTINCT FROM p.{DeltaSchema.Quote(c)}"));
            var joined = $"SELECT p.partition_id AS __delta_partition_id, {select} FROM {source} AS s, {partitions} AS p WHERE {match}";
            var statistics = Statistics(connection, joined, "__delta_partition_id");
            foreach (var (id, values) in found)
            {
                if (!statistics.TryGetValue(id, out var stats))
                {
                    continue;
                }

                var local = Path.Combine(folder, $"part-{id.ToString(CultureInfo.InvariantCulture)}.parquet");
                var sql = $"SELECT {select} FROM {source} AS s, {partitions} AS p WHERE p.partition_id = {id.ToString(CultureInfo.InvariantCulture)} AND {match}";
                connection.Execute($"COPY ({sql}) TO {DeltaCheckpoints.Literal(local)} ({schema.Layout.CopyOptions})");
                files.Add(new($"{DeltaPaths.PartitionFolder(schema.PartitionColumns, values)}{stem}.zstd.parquet", local, values, stats));
            }

            return files;
        }
        finally
        {
            connection.Execute($"DROP TABLE IF EXISTS {partitions}");
        }
    }

    /// <summary>Writes one Parquet file of <paramref name="select"/>'s rows and returns its stats JSON, or null (and no file) when there are none.</summary>
    private string? Copy(DuckDbConnection connection, string select, string localFile)
    {
        // Statistics from the rows in memory (the same query), not from re-reading the compressed file.
        var stats = Statistics(connection, select);
        if (stats is not null)
        {
            connection.Execute($"COPY ({select}) TO {DeltaCheckpoints.Literal(localFile)} ({schema.Layout.CopyOptions})");
        }

        return stats;
    }

    /// <summary>numRecords, and per data column min, max and null count, from one aggregate over <paramref name="select"/>'s rows.</summary>
    private string? Statistics(DuckDbConnection connection, string select) =>
        Statistics(connection, select, groupColumn: null).GetValueOrDefault(0);

    /// <summary>
    /// The statistics JSON of every group of <paramref name="select"/>'s rows by the integer column <paramref name="groupColumn"/>
    /// (all rows as group 0 when null), from one aggregate pass; groups without rows are absent.
    /// </summary>
    private Dictionary<long, string> Statistics(DuckDbConnection connection, string select, string? groupColumn)
    {
        var dataColumns = schema.Columns.Where(c => !schema.PartitionColumns.Contains(c.Name)).ToList();
        var aggregates = new StringBuilder(groupColumn is null ? "0, count(*)" : $"{DeltaSchema.Quote(groupColumn)}, count(*)");
        foreach (var column in dataColumns)
        {
            var name = DeltaSchema.Quote(column.Name);
            aggregates.Append(CultureInfo.InvariantCulture, $", count(*) - count({name})");
            if (HasBounds(column.Type))
            {
                aggregates.Append(CultureInfo.InvariantCulture, $", min({name}), max({name})");
            }
        }

        var groups = new Dictionary<long, string>();
        var groupBy = groupColumn is null ? "" : $" GROUP BY {DeltaSchema.Quote(groupColumn)}";
        using var result = connection.Query($"SELECT {aggregates} FROM ({select}) AS f{groupBy}");
        while (result.Read())
        {
            if (StatisticsJson(result, dataColumns) is { } json)
            {
                groups[result.GetInt64(0)] = json;
            }
        }

        return groups;
    }

    /// <summary>The statistics JSON of one aggregate row (group, count, then per data column null count and bounds); null for no rows.</summary>
    private static string? StatisticsJson(DuckDbResult result, List<ColumnSchema> dataColumns)
    {
        var records = result.GetInt64(1);
        if (records == 0)
        {
            return null;
        }

        var nullCounts = new Dictionary<string, long>();
        var minimums = new List<(ColumnSchema Column, object Value)>();
        var maximums = new List<(ColumnSchema Column, object Value)>();
        var ordinal = 2;
        foreach (var column in dataColumns)
        {
            nullCounts[column.Name] = result.GetInt64(ordinal++);
            if (!column.Nullable && nullCounts[column.Name] > 0)
            {
                // The schema promises readers no nulls here; a source without constraints must not break that.
                throw new InvalidOperationException($"Column '{column.Name}' is NOT NULL in the table's schema, but {nullCounts[column.Name]} of the {records} rows to write are null; nothing was written.");
            }

            if (!HasBounds(column.Type))
            {
                continue;
            }

            if (!result.IsNull(ordinal))
            {
                minimums.Add((column, result.GetValue(ordinal)!));
                maximums.Add((column, result.GetValue(ordinal + 1)!));
            }

            ordinal += 2;
        }

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("numRecords", records);
            json.WriteStartObject("minValues");
            foreach (var (column, value) in minimums)
            {
                WriteBound(json, column, value, upper: false);
            }

            json.WriteEndObject();
            json.WriteStartObject("maxValues");
            foreach (var (column, value) in maximums)
            {
                WriteBound(json, column, value, upper: true);
            }

            json.WriteEndObject();
            json.WriteStartObject("nullCount");
            foreach (var (name, count) in nullCounts)
            {
                json.WriteNumber(name, count);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
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

    private static object? ReadPartitionValue(DuckDbResult result, int ordinal, ColumnType type)
    {
        if (result.IsNull(ordinal))
        {
            return null;
        }

        return type switch
        {
            ColumnType.String => result.GetString(ordinal),
            ColumnType.Long or ColumnType.Integer => result.GetInt64(ordinal),
            ColumnType.Boolean => result.GetBoolean(ordinal),
            ColumnType.Money or ColumnType.Rate => result.GetDecimal(ordinal),
            ColumnType.Timestamp => result.GetTimestamp(ordinal),
            ColumnType.Date => result.GetDate(ordinal),
            _ => throw new NotSupportedException($"{type} cannot be a partition column."),
        };
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex StemPattern();

    private sealed record LocalFile(string RelativePath, string LocalPath, IReadOnlyDictionary<string, string?> PartitionValues, string Stats);
}
