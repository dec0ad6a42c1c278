using System.Buffers;
using System.Runtime.CompilerServices;
using Parquet;
using Parquet.Schema;

namespace BaloyiBank.Delta;

/// <summary>
/// Writes one column of selected buffer rows into a Parquet row group: the values gathered into one pooled array
/// (nulls left out, with definition levels when the column is nullable) and the column's null count and bounds
/// found in the same pass.
/// </summary>
internal static class ParquetColumnWriter
{
    public static Task<ColumnStatistics> WriteAsync(
        ParquetRowGroupWriter group, DataField field, ColumnSchema column, int ordinal, List<DeltaFileWriter.Segment> segments, int rows, CancellationToken cancellationToken) =>
        column.Type switch
        {
            ColumnType.String => WriteArenaAsync<char>(group, field, column, ordinal, segments, rows, bounds: true, cancellationToken),
            ColumnType.Binary => WriteArenaAsync<byte>(group, field, column, ordinal, segments, rows, bounds: false, cancellationToken),
            ColumnType.Long => WriteValuesAsync<long>(group, field, column, ordinal, segments, rows, cancellationToken),
            ColumnType.Integer => WriteValuesAsync<int>(group, field, column, ordinal, segments, rows, cancellationToken),
            ColumnType.Boolean => WriteValuesAsync<bool>(group, field, column, ordinal, segments, rows, cancellationToken),
            ColumnType.Double => WriteValuesAsync<double>(group, field, column, ordinal, segments, rows, cancellationToken),
            ColumnType.Money or ColumnType.Rate => WriteValuesAsync<decimal>(group, field, column, ordinal, segments, rows, cancellationToken),
            ColumnType.Timestamp => WriteTimestampsAsync(group, field, column, ordinal, segments, rows, cancellationToken),
            ColumnType.Date => WriteValuesAsync<DateOnly>(group, field, column, ordinal, segments, rows, cancellationToken),
            _ => throw new ArgumentOutOfRangeException(nameof(column), column.Type, "Unknown column type."),
        };

    /// <summary>Orders strings by Unicode code point (as UTF-8 bytes compare), which is how Parquet and Delta readers order them.</summary>
    public static int CompareCodePoints(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
    {
        var common = a.CommonPrefixLength(b);
        if (common == a.Length || common == b.Length)
        {
            return a.Length.CompareTo(b.Length);
        }

        var x = a[common];
        var y = b[common];
        // UTF-16 order differs from code point order only between surrogates (D800-DFFF, code points above FFFF)
        // and E000-FFFF: a surrogate sorts after them.
        if (x >= 0xD800 && y >= 0xD800 && (char.IsSurrogate(x) != char.IsSurrogate(y)))
        {
            return char.IsSurrogate(x) ? 1 : -1;
        }

        return x.CompareTo(y);
    }

    public static int CompareCodePoints(string a, string b) => CompareCodePoints(a.AsSpan(), b.AsSpan());

    /// <summary>
    /// The field a column's values are handed to Parquet.Net as. A timestamp column goes in as INT64 microseconds
    /// through a plain <c>long</c> field of the same name: the file's schema (and so its logical type,
    /// TIMESTAMP(MICROS, UTC)) comes from <paramref name="field"/>, but Parquet.Net 6.1.0 encodes the
    /// statistics of <see cref="DateTime"/> values in milliseconds whatever the unit, and those of <c>long</c>
    /// values as they are. The row-group writer matches a column to the schema by name only.
    /// </summary>
    public static DataField WrittenField(DataField field, ColumnSchema column)
    {
        if (column.Type != ColumnType.Timestamp)
        {
            return field;
        }

        var micros = new DataField(column.Name, typeof(long), column.Nullable);
        // Attached to a schema of its own, which gives it the definition level the file's column has.
        _ = new ParquetSchema(micros);
        return micros;
    }

    private static async Task<ColumnStatistics> WriteValuesAsync<T>(
        ParquetRowGroupWriter group, DataField field, ColumnSchema column, int ordinal, List<DeltaFileWriter.Segment> segments, int rows, CancellationToken cancellationToken)
        where T : struct, IComparable<T>
    {
        var values = ArrayPool<T>.Shared.Rent(Math.Max(rows, 1));
        var levels = column.Nullable ? ArrayPool<int>.Shared.Rent(Math.Max(rows, 1)) : null;
        try
        {
            var (count, min, max) = Gather(segments, ordinal, values, levels);
            var data = values.AsMemory(0, count);
            if (levels is null)
            {
                await group.WriteAsync<T>(field, data, null, null, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await group.WriteAllPartsAsync<T>(field, data, levels.AsMemory(0, rows), null, cancellationToken).ConfigureAwait(false);
            }

            return count == 0
                ? new ColumnStatistics(rows, null, null)
                : new ColumnStatistics(rows - count, min, max);
        }
        finally
        {
            ArrayPool<T>.Shared.Return(values);
            if (levels is not null)
            {
                ArrayPool<int>.Shared.Return(levels);
            }
        }
    }

    private static async Task<ColumnStatistics> WriteTimestampsAsync(
        ParquetRowGroupWriter group, DataField field, ColumnSchema column, int ordinal, List<DeltaFileWriter.Segment> segments, int rows, CancellationToken cancellationToken)
    {
        var instants = ArrayPool<DateTime>.Shared.Rent(Math.Max(rows, 1));
        var micros = ArrayPool<long>.Shared.Rent(Math.Max(rows, 1));
        var levels = column.Nullable ? ArrayPool<int>.Shared.Rent(Math.Max(rows, 1)) : null;
        try
        {
            var (count, min, max) = Gather(segments, ordinal, instants, levels);
            // The buffer holds UTC instants cut to the microsecond, so this is exact (negative before 1970).
            for (var i = 0; i < count; i++)
            {
                micros[i] = (instants[i].Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMicrosecond;
            }

            var data = micros.AsMemory(0, count);
            if (levels is null)
            {
                await group.WriteAsync<long>(field, data, null, null, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await group.WriteAllPartsAsync<long>(field, data, levels.AsMemory(0, rows), null, cancellationToken).ConfigureAwait(false);
            }

            return count == 0
                ? new ColumnStatistics(rows, null, null)
                : new ColumnStatistics(rows - count, new DateTimeOffset(min), new DateTimeOffset(max));
        }
        finally
        {
            ArrayPool<DateTime>.Shared.Return(instants);
            ArrayPool<long>.Shared.Return(micros);
            if (levels is not null)
            {
                ArrayPool<int>.Shared.Return(levels);
            }
        }
    }

    private static (int Count, T Min, T Max) Gather<T>(List<DeltaFileWriter.Segment> segments, int ordinal, T[] values, int[]? levels)
        where T : struct, IComparable<T>
    {
        var count = 0;
        var at = 0;
        T min = default, max = default;
        foreach (var segment in segments)
        {
            var column = (ValueColumn<T>)segment.Source.Column(ordinal);
            var source = column.Values;
            var nulls = column.HasNulls;
            for (var i = 0; i < segment.Count; i++)
            {
                var row = segment.Row(i);
                if (nulls && column.IsNull(row))
                {
                    levels![at++] = 0;
                    continue;
                }

                if (levels is not null)
                {
                    levels[at++] = 1;
                }

                var value = source[row];
                if (count == 0)
                {
                    min = max = value;
                }
                else if (value.CompareTo(min) < 0)
                {
                    min = value;
                }
                else if (value.CompareTo(max) > 0)
                {
                    max = value;
                }

                values[count++] = value;
            }
        }

        return (count, min, max);
    }


    // Only called with T = char (bounds are kept for strings only): a reinterpretation, not a conversion.
    private static ref ReadOnlyMemory<char> AsChars<T>(ref ReadOnlyMemory<T> value)
        where T : struct => ref Unsafe.As<ReadOnlyMemory<T>, ReadOnlyMemory<char>>(ref value);

    private static async Task<ColumnStatistics> WriteArenaAsync<T>(
        ParquetRowGroupWriter group, DataField field, ColumnSchema column, int ordinal, List<DeltaFileWriter.Segment> segments, int rows, bool bounds, CancellationToken cancellationToken)
        where T : struct
    {
        var values = ArrayPool<ReadOnlyMemory<T>>.Shared.Rent(Math.Max(rows, 1));
        var levels = column.Nullable ? ArrayPool<int>.Shared.Rent(Math.Max(rows, 1)) : null;
        try
        {
            var count = 0;
            var at = 0;
            ReadOnlyMemory<T> min = default, max = default;
            foreach (var segment in segments)
            {
                var source = (ArenaColumn<T>)segment.Source.Column(ordinal);
                var nulls = source.HasNulls;
                for (var i = 0; i < segment.Count; i++)
                {
                    var row = segment.Row(i);
                    if (nulls && source.IsNull(row))
                    {
                        levels![at++] = 0;
                        continue;
                    }

                    if (levels is not null)
                    {
                        levels[at++] = 1;
                    }

                    var value = source.Value(row);
                    if (bounds)
                    {
                        var chars = AsChars(ref value).Span;
                        if (count == 0)
                        {
                            min = max = value;
                        }
                        else if (CompareCodePoints(chars, AsChars(ref min).Span) < 0)
                        {
                            min = value;
                        }
                        else if (CompareCodePoints(chars, AsChars(ref max).Span) > 0)
                        {
                            max = value;
                        }
                    }

                    values[count++] = value;
                }
            }

            var data = values.AsMemory(0, count);
            if (levels is null)
            {
                await group.WriteAsync<ReadOnlyMemory<T>>(field, data, null, null, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await group.WriteAllPartsAsync<ReadOnlyMemory<T>>(field, data, levels.AsMemory(0, rows), null, cancellationToken).ConfigureAwait(false);
            }

            if (!bounds || count == 0)
            {
                return new ColumnStatistics(rows - count, null, null);
            }

            return new ColumnStatistics(rows - count, AsChars(ref min).ToString(), AsChars(ref max).ToString());
        }
        finally
        {
            // Returned arrays must not keep the buffers' arenas alive.
            ArrayPool<ReadOnlyMemory<T>>.Shared.Return(values, clearArray: true);
            if (levels is not null)
            {
                ArrayPool<int>.Shared.Return(levels);
            }
        }
    }
}
