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
            ColumnType.Money => WriteDecimalsAsync(group, field, column, ordinal, segments, rows, 2, cancellationToken),
            ColumnType.Rate => WriteDecimalsAsync(group, field, column, ordinal, segments, rows, 6, cancellationToken),
            ColumnType.Timestamp => WriteTimestampsAsync(group, field, column, ordinal, segments, rows, cancellationToken),
            ColumnType.Date => WriteDatesAsync(group, field, column, ordinal, segments, rows, cancellationToken),
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
    /// The field a column's values are handed to Parquet.Net as: for timestamps, decimals and dates a plain
    /// <c>long</c> or <c>int</c> field of the same name carrying the physical value (INT64 microseconds, the
    /// unscaled INT64, INT32 days since 1970). The file's schema, and so each column's logical type, comes from
    /// <paramref name="field"/>; the row-group writer matches a column to it by name only. Why: Parquet.Net 6.1.0
    /// encodes the footer statistics of <see cref="DateTime"/> values in milliseconds whatever the column's unit
    /// (so pruning readers skipped rows), and converts <see cref="DateTime"/>, <see cref="DateOnly"/> and
    /// <see cref="decimal"/> values one at a time with an allocation or a decimal multiply each; the statistics of
    /// <c>long</c> and <c>int</c> values it encodes as they are.
    /// </summary>
    public static DataField WrittenField(DataField field, ColumnSchema column)
    {
        var physical = column.Type switch
        {
            ColumnType.Timestamp or ColumnType.Money or ColumnType.Rate => typeof(long),
            ColumnType.Date => typeof(int),
            _ => null,
        };
        if (physical is null)
        {
            return field;
        }

        var written = new DataField(column.Name, physical, column.Nullable);
        // Attached to a schema of its own, which gives it the definition level the file's column has.
        _ = new ParquetSchema(written);
        return written;
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

    private static Task<ColumnStatistics> WriteTimestampsAsync(
        ParquetRowGroupWriter group, DataField field, ColumnSchema column, int ordinal, List<DeltaFileWriter.Segment> segments, int rows, CancellationToken cancellationToken) =>
        // The buffer holds UTC instants cut to the microsecond, so this is exact (negative before 1970).
        WriteConvertedAsync(group, field, column, ordinal, segments, rows,
            static (DateTime t) => (t.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMicrosecond,
            static t => new DateTimeOffset(t), cancellationToken);

    private static Task<ColumnStatistics> WriteDatesAsync(
        ParquetRowGroupWriter group, DataField field, ColumnSchema column, int ordinal, List<DeltaFileWriter.Segment> segments, int rows, CancellationToken cancellationToken) =>
        WriteConvertedAsync(group, field, column, ordinal, segments, rows,
            static (DateOnly d) => d.DayNumber - UnixEpochDay, static d => d, cancellationToken);

    private static Task<ColumnStatistics> WriteDecimalsAsync(
        ParquetRowGroupWriter group, DataField field, ColumnSchema column, int ordinal, List<DeltaFileWriter.Segment> segments, int rows, int scale, CancellationToken cancellationToken) =>
        WriteConvertedAsync<decimal, long>(group, field, column, ordinal, segments, rows,
            scale == 2 ? static d => Unscaled(d, 2) : static d => Unscaled(d, 6), static d => d, cancellationToken);

    private static readonly int UnixEpochDay = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;

    private static readonly long[] Powers = [.. Enumerable.Range(0, 19).Select(n => (long)Math.Pow(10, n))];

    /// <summary>decimal(18, <paramref name="scale"/>) as its unscaled INT64, exactly: the buffer refused values that do not fit.</summary>
    internal static long Unscaled(decimal value, int scale)
    {
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(value, bits);
        if (bits[2] != 0 || bits[1] < 0)
        {
            // Trailing zeros beyond 63 bits of mantissa (1.50000000000000000000): the slow exact way.
            return decimal.ToInt64(value * Powers[scale]);
        }

        var mantissa = (long)(((ulong)(uint)bits[1] << 32) | (uint)bits[0]);
        var own = value.Scale;
        // A value with more places than the column's was accepted only when they are zeros (1.500 in a scale-2 column).
        mantissa = own <= scale ? mantissa * Powers[scale - own] : mantissa / Powers[own - scale];
        return bits[3] < 0 ? -mantissa : mantissa;
    }

    /// <summary>
    /// Writes a column whose values go to Parquet.Net in their physical type (see <see cref="WrittenField"/>);
    /// null count and bounds come from the buffer's own values.
    /// </summary>
    private static async Task<ColumnStatistics> WriteConvertedAsync<TSource, TWritten>(
        ParquetRowGroupWriter group, DataField field, ColumnSchema column, int ordinal, List<DeltaFileWriter.Segment> segments, int rows,
        Func<TSource, TWritten> convert, Func<TSource, object> box, CancellationToken cancellationToken)
        where TSource : struct, IComparable<TSource>
        where TWritten : struct
    {
        var source = ArrayPool<TSource>.Shared.Rent(Math.Max(rows, 1));
        var written = ArrayPool<TWritten>.Shared.Rent(Math.Max(rows, 1));
        var levels = column.Nullable ? ArrayPool<int>.Shared.Rent(Math.Max(rows, 1)) : null;
        try
        {
            var (count, min, max) = Gather(segments, ordinal, source, levels);
            for (var i = 0; i < count; i++)
            {
                written[i] = convert(source[i]);
            }

            var data = written.AsMemory(0, count);
            if (levels is null)
            {
                await group.WriteAsync<TWritten>(field, data, null, null, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await group.WriteAllPartsAsync<TWritten>(field, data, levels.AsMemory(0, rows), null, cancellationToken).ConfigureAwait(false);
            }

            return count == 0
                ? new ColumnStatistics(rows, null, null)
                : new ColumnStatistics(rows - count, box(min), box(max));
        }
        finally
        {
            ArrayPool<TSource>.Shared.Return(source);
            ArrayPool<TWritten>.Shared.Return(written);
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
