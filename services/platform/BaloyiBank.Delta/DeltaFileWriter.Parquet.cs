using System.Buffers;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Parquet;
using Parquet.Schema;

namespace BaloyiBank.Delta;

/// <summary>The Parquet.Net write path: rows in <see cref="ColumnBuffer"/>s straight to Parquet, statistics from the same pass.</summary>
public sealed partial class DeltaFileWriter
{

    /// <summary>
    /// Writes the rows of <paramref name="sources"/> (buffers of this table, e.g. one per log partition; read in
    /// order) as one file per Delta partition and uploads them. Returns one <see cref="AddFile"/> per written file
    /// (none when there are no rows), ordered by path.
    /// </summary>
    public async Task<IReadOnlyList<AddFile>> WriteAsync(IReadOnlyList<ColumnBuffer> sources, string fileStem, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sources);
        RequireStem(fileStem);
        foreach (var source in sources)
        {
            if (!ReferenceEquals(source.Schema, schema) && source.Schema != schema)
            {
                throw new ArgumentException($"A buffer of table {source.Schema.Name} cannot be written to table {schema.Name}.", nameof(sources));
            }
        }

        var groups = PartitionRows(sources);
        if (groups.Count == 0)
        {
            return [];
        }

        var folder = DeltaCheckpoints.ScratchFolder(table, preferLakeStaging: true);
        using var span = DeltaTelemetry.StartWrite(table);
        try
        {
            var files = new List<LocalFile>(groups.Count);
            var id = 0;
            foreach (var group in groups)
            {
                var values = new Dictionary<string, string?>(StringComparer.Ordinal);
                var (first, firstRow) = group.First;
                for (var p = 0; p < schema.PartitionColumns.Count; p++)
                {
                    var column = schema.Column(schema.PartitionColumns[p]);
                    values[column.Name] = DeltaPaths.SerializePartitionValue(column.Type, first.Column(Ordinal(column.Name)).Boxed(firstRow));
                }

                var local = Path.Combine(folder, $"part-{(id++).ToString(CultureInfo.InvariantCulture)}.parquet");
                var stats = await WriteParquetAsync(group.Segments, group.Rows, local, cancellationToken).ConfigureAwait(false);
                var relative = schema.PartitionColumns.Count == 0
                    ? $"{fileStem}.zstd.parquet"
                    : $"{DeltaPaths.PartitionFolder(schema.PartitionColumns, values)}{fileStem}.zstd.parquet";
                files.Add(new(relative, local, values, stats));
            }

            var adds = await UploadAsync(files, cancellationToken).ConfigureAwait(false);
            DeltaTelemetry.Written(span, adds);
            return adds;
        }
        finally
        {
            DeltaCheckpoints.TryDelete(folder);
        }
    }

    /// <summary>
    /// Rows a string column's dictionary is decided on (Parquet.Net gives up when 80 % of them are distinct). Small
    /// on purpose: Parquet.Net sizes the sample's hash table to it, and above ~3,500 entries that table lands on the
    /// large object heap once per string column of every file, where at a steady rate it was the largest source
    /// of LOH garbage (and of the process's memory growth between full collections).
    /// </summary>
    internal const int DictionarySample = 1_000;

    /// <summary>The Parquet options of a layout: zstd at an explicit level (Parquet.Net's default is level 19), dictionary hints for strings.</summary>
    internal static ParquetOptions ParquetOptionsOf(TableSchema schema)
    {
        var options = new ParquetOptions
        {
            CompressionMethod = CompressionMethod.Zstd,
            CompressionLevel = schema.Layout.ZstdLevel is 1 ? CompressionLevel.Fastest : CompressionLevel.Optimal,
            // Decide a column's dictionary on its first rows: without a sample Parquet.Net hashes a unique column
            // (ids) until 80 % of the row group is distinct before it gives up.
            DictionaryEncodingSampleSize = DictionarySample,
        };
        if (schema.Layout.Dictionary)
        {
            foreach (var column in schema.Columns.Where(c => c.Type == ColumnType.String))
            {
                options.ColumnEncodingHints[column.Name] = EncodingHint.Dictionary;
            }
        }

        return options;
    }

    /// <summary>The Parquet field of a column: UTC microsecond timestamps, decimal(18, s) as INT64, dates as DATE.</summary>
    internal static DataField ParquetField(ColumnSchema column) => column.Type switch
    {
        ColumnType.String => new DataField(column.Name, typeof(string), column.Nullable),
        ColumnType.Binary => new DataField(column.Name, typeof(byte[]), column.Nullable),
        ColumnType.Long => new DataField(column.Name, typeof(long), column.Nullable),
        ColumnType.Integer => new DataField(column.Name, typeof(int), column.Nullable),
        ColumnType.Boolean => new DataField(column.Name, typeof(bool), column.Nullable),
        ColumnType.Double => new DataField(column.Name, typeof(double), column.Nullable),
        ColumnType.Money => new DecimalDataField(column.Name, DecimalColumn.Precision, 2, forceByteArrayEncoding: false, isNullable: column.Nullable),
        ColumnType.Rate => new DecimalDataField(column.Name, DecimalColumn.Precision, 6, forceByteArrayEncoding: false, isNullable: column.Nullable),
        ColumnType.Timestamp => new DateTimeDataField(column.Name, DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: column.Nullable),
        ColumnType.Date => new DataField(column.Name, typeof(DateOnly), column.Nullable),
        _ => throw new ArgumentOutOfRangeException(nameof(column), column.Type, "Unknown column type."),
    };

    private static void RequireStem(string fileStem)
    {
        if (string.IsNullOrEmpty(fileStem) || !StemPattern().IsMatch(fileStem) || fileStem.Contains("..", StringComparison.Ordinal))
        {
            throw new ArgumentException($"File stem '{fileStem}' must be letters, digits, '-', '_' and '.', e.g. part-p0003-o000000001200-000000001499.", nameof(fileStem));
        }
    }

    private async Task<IReadOnlyList<AddFile>> UploadAsync(List<LocalFile> files, CancellationToken cancellationToken)
    {
        var now = table.Now();
        var adds = new AddFile[files.Count];
        await Parallel.ForAsync(0, files.Count, new ParallelOptions { MaxDegreeOfParallelism = ParallelUploads, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var file = files[i];
            var size = new FileInfo(file.LocalPath).Length;
            await table.Lake.TakeFileAsync(table.LakePathOf(file.RelativePath), file.LocalPath, ct).ConfigureAwait(false);
            adds[i] = new AddFile
            {
                Path = DeltaPaths.EncodeDataPath(file.RelativePath),
                PartitionValues = file.PartitionValues,
                Size = size,
                ModificationTime = now,
                DataChange = true,
                Stats = file.Stats,
            };
        }).ConfigureAwait(false);
        return [.. adds.OrderBy(a => a.Path, StringComparer.Ordinal)];
    }

    private int Ordinal(string column)
    {
        for (var i = 0; i < schema.Columns.Count; i++)
        {
            if (schema.Columns[i].Name == column)
            {
                return i;
            }
        }

        throw new ArgumentException($"Table {schema.Name} has no column '{column}'.", nameof(column));
    }

    /// <summary>The rows of every source grouped by their partition values, groups in order of first appearance.</summary>
    private List<RowGroupSelection> PartitionRows(IReadOnlyList<ColumnBuffer> sources)
    {
        List<RowGroupSelection> groups = [];
        if (schema.PartitionColumns.Count == 0)
        {
            var all = new RowGroupSelection();
            foreach (var source in sources.Where(s => s.RowCount > 0))
            {
                all.AddAll(source);
            }

            if (all.Rows > 0)
            {
                groups.Add(all);
            }

            return groups;
        }

        if (schema.PartitionColumns.Count > 3)
        {
            throw new NotSupportedException($"Table {schema.Name}: at most three partition columns are supported.");
        }

        var ordinals = schema.PartitionColumns.Select(Ordinal).ToArray();
        var byKey = new Dictionary<PartitionKey, RowGroupSelection>();
        var strings = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var source in sources)
        {
            var columns = ordinals.Select(source.Column).ToArray();
            for (var row = 0; row < source.RowCount; row++)
            {
                var key = new PartitionKey(
                    KeyPart(columns[0], row, strings),
                    columns.Length > 1 ? KeyPart(columns[1], row, strings) : 0,
                    columns.Length > 2 ? KeyPart(columns[2], row, strings) : 0);
                if (!byKey.TryGetValue(key, out var group))
                {
                    group = new RowGroupSelection();
                    byKey[key] = group;
                    groups.Add(group);
                }

                group.Add(source, row);
            }
        }

        return groups;
    }

    /// <summary>A partition value as a number equal for equal values: the value itself, a day number, or an interned string's index.</summary>
    private static long KeyPart(BufferColumn column, int row, Dictionary<string, long> strings)
    {
        if (column.IsNull(row))
        {
            return long.MinValue;
        }

        return column switch
        {
            DateColumn dates => dates.Values[row].DayNumber,
            LongColumn longs => longs.Values[row],
            IntColumn ints => ints.Values[row],
            BoolColumn bools => bools.Values[row] ? 1 : 0,
            _ => Intern(column.Boxed(row)!.ToString()!, strings),
        };
    }

    private static long Intern(string value, Dictionary<string, long> strings)
    {
        if (!strings.TryGetValue(value, out var id))
        {
            id = strings.Count;
            strings[value] = id;
        }

        return id;
    }

    /// <summary>Writes one file of the selected rows; returns its Delta statistics JSON.</summary>
    private async Task<string> WriteParquetAsync(List<Segment> segments, int rows, string localFile, CancellationToken cancellationToken)
    {
        var fields = schema.Columns.Select(ParquetField).ToArray();
        var written = fields.Select((f, c) => ParquetColumnWriter.WrittenField(f, schema.Columns[c])).ToArray();
        var dataColumn = schema.Columns.Select(c => !schema.PartitionColumns.Contains(c.Name)).ToArray();
        var stats = new ColumnStatistics[fields.Length];
        await using (var stream = new FileStream(localFile, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: false))
        {
            await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(fields), stream, ParquetOptionsOf(schema), cancellationToken: cancellationToken).ConfigureAwait(false);
            foreach (var slice in Slices(segments, schema.Layout.RowGroupRows))
            {
                using var group = writer.CreateRowGroup();
                var sliceRows = slice.Sum(s => s.Count);
                for (var c = 0; c < fields.Length; c++)
                {
                    var found = await ParquetColumnWriter.WriteAsync(group, written[c], schema.Columns[c], c, slice, sliceRows, cancellationToken).ConfigureAwait(false);
                    stats[c] = stats[c] is null ? found : stats[c].Merge(found);
                }
            }
        }

        return StatisticsJson(rows, [.. schema.Columns.Where((_, i) => dataColumn[i]).Select((c, _) => (c, stats[Ordinal(c.Name)]))]);
    }

    /// <summary>The segments cut into row groups of at most <paramref name="limit"/> rows.</summary>
    private static IEnumerable<List<Segment>> Slices(List<Segment> segments, int limit)
    {
        List<Segment> slice = [];
        var rows = 0;
        foreach (var segment in segments)
        {
            var from = 0;
            while (from < segment.Count)
            {
                var take = Math.Min(segment.Count - from, limit - rows);
                slice.Add(segment.Slice(from, take));
                rows += take;
                from += take;
                if (rows == limit)
                {
                    yield return slice;
                    slice = [];
                    rows = 0;
                }
            }
        }

        if (rows > 0)
        {
            yield return slice;
        }
    }

    private static string StatisticsJson(long records, List<(ColumnSchema Column, ColumnStatistics Stats)> columns)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("numRecords", records);
            json.WriteStartObject("minValues");
            foreach (var (column, stats) in columns.Where(c => HasBounds(c.Column.Type) && c.Stats.Min is not null))
            {
                WriteBound(json, column, stats.Min!, upper: false);
            }

            json.WriteEndObject();
            json.WriteStartObject("maxValues");
            foreach (var (column, stats) in columns.Where(c => HasBounds(c.Column.Type) && c.Stats.Max is not null))
            {
                WriteBound(json, column, stats.Max!, upper: true);
            }

            json.WriteEndObject();
            json.WriteStartObject("nullCount");
            foreach (var (column, stats) in columns)
            {
                json.WriteNumber(column.Name, stats.NullCount);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private readonly record struct PartitionKey(long A, long B, long C);

    /// <summary>Rows of one source: the first <see cref="Count"/> of <see cref="Rows"/> from <see cref="Start"/> on (all rows when Rows is null).</summary>
    internal readonly record struct Segment(ColumnBuffer Source, int[]? Rows, int Start, int Count)
    {
        public int Row(int i) => Rows is null ? Start + i : Rows[Start + i];

        public Segment Slice(int from, int count) => this with { Start = Start + from, Count = count };
    }

    /// <summary>The rows of one Delta partition, per source.</summary>
    private sealed class RowGroupSelection
    {
        private readonly Dictionary<ColumnBuffer, List<int>> _rows = new(ReferenceEqualityComparer.Instance);
        private readonly List<Segment> _all = [];

        public int Rows { get; private set; }

        public (ColumnBuffer Source, int Row) First { get; private set; }

        public List<Segment> Segments =>
            _all.Count > 0 ? _all : [.. _rows.Select(r => new Segment(r.Key, [.. r.Value], 0, r.Value.Count))];

        public void AddAll(ColumnBuffer source)
        {
            if (Rows == 0)
            {
                First = (source, 0);
            }

            _all.Add(new Segment(source, null, 0, source.RowCount));
            Rows += source.RowCount;
        }

        public void Add(ColumnBuffer source, int row)
        {
            if (Rows == 0)
            {
                First = (source, row);
            }

            if (!_rows.TryGetValue(source, out var rows))
            {
                rows = [];
                _rows[source] = rows;
            }

            rows.Add(row);
            Rows++;
        }
    }
}

/// <summary>Null count and bounds of one column over the rows written (bounds as the column's CLR type; null when unknown).</summary>
internal sealed record ColumnStatistics(long NullCount, object? Min, object? Max)
{
    public ColumnStatistics Merge(ColumnStatistics other) => new(
        NullCount + other.NullCount,
        Pick(Min, other.Min, upper: false),
        Pick(Max, other.Max, upper: true));

    private static object? Pick(object? a, object? b, bool upper)
    {
        if (a is null || b is null)
        {
            return a ?? b;
        }

        var order = a is string x && b is string y ? ParquetColumnWriter.CompareCodePoints(x, y) : Comparer<object>.Default.Compare(a, b);
        return (order < 0) == upper ? b : a;
    }
}
