using System.Globalization;
using Parquet;
using Parquet.Schema;

namespace BaloyiBank.Delta;

/// <summary>
/// Some columns of one Parquet row group of a Delta table, as typed arrays: what a reader of a snapshot gets
/// (<see cref="ReadAsync"/>) instead of row objects. Strings are <see cref="string"/> (null where null; binary columns are not read), timestamps UTC
/// <see cref="DateTime"/>s, dates <see cref="DateOnly"/>s, money <see cref="decimal"/>s; nullable number columns come as
/// <c>T?[]</c>.
/// </summary>
public sealed class ColumnChunk
{
    private readonly Dictionary<string, Array> _columns;

    private ColumnChunk(int rows, Dictionary<string, Array> columns)
    {
        RowCount = rows;
        _columns = columns;
    }

    public int RowCount { get; }

    /// <summary>A string column as strings (made from <see cref="Chars"/> on first use: an allocation per value).</summary>
    public string?[] Strings(string column)
    {
        if (_columns.TryGetValue(column, out var values) && values is not string?[])
        {
            var chars = Chars(column);
            var strings = new string?[chars.Length];
            for (var i = 0; i < chars.Length; i++)
            {
                strings[i] = chars[i]?.ToString();
            }

            _columns[column] = strings;
        }

        return Get<string?[]>(column);
    }

    /// <summary>A string column as Parquet.Net reads it: slices of its decoded pages, no string per value (null where null).</summary>
    public ReadOnlyMemory<char>?[] Chars(string column)
    {
        if (_columns.TryGetValue(column, out var values) && values is string?[] strings)
        {
            return [.. strings.Select(v => v is null ? (ReadOnlyMemory<char>?)null : v.AsMemory())];
        }

        return Get<ReadOnlyMemory<char>?[]>(column);
    }

    /// <summary>A column as read (<c>T[]</c>, <c>T?[]</c>, or <c>ReadOnlyMemory&lt;char&gt;?[]</c> for strings until <see cref="Strings"/> is asked).</summary>
    public Array Column(string column) => Get<Array>(column);

    public long[] Longs(string column) => Get<long[]>(column);

    public int[] Ints(string column) => Get<int[]>(column);

    public bool[] Booleans(string column) => Get<bool[]>(column);

    public double[] Doubles(string column) => Get<double[]>(column);

    /// <summary>A binary column (bronze payloads, quarantined bytes) as slices of the decoded pages; null where the value is null.</summary>
    public ReadOnlyMemory<byte>?[] Binaries(string column) => Get<ReadOnlyMemory<byte>?[]>(column);

    public decimal[] Decimals(string column) => Get<decimal[]>(column);

    /// <summary>UTC instants (kind UTC), microsecond precision.</summary>
    public DateTime[] Timestamps(string column) => Get<DateTime[]>(column);

    public DateOnly[] Dates(string column) => Get<DateOnly[]>(column);

    /// <summary>A nullable column of a value type, e.g. <c>Nullable&lt;int&gt;("small")</c>.</summary>
    public T?[] Nullable<T>(string column)
        where T : struct => Get<T?[]>(column);

    /// <summary>
    /// Reads <paramref name="columns"/> of every file of <paramref name="readSet"/>, a row group at a time, in file order.
    /// A column a file lacks is filled from the file's partition values when it is a partition column (Delta readers take
    /// those from the log); otherwise the file is refused.
    /// </summary>
    public static async IAsyncEnumerable<ColumnChunk> ReadAsync(
        DeltaReadSet readSet, IReadOnlyList<string> columns, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(readSet);
        ArgumentNullException.ThrowIfNull(columns);
        var options = new ParquetOptions { UseDateOnlyTypeForDates = true };
        foreach (var file in readSet.Files)
        {
            await using var stream = File.OpenRead(file.LocalPath);
            await using var reader = await ParquetReader.CreateAsync(stream, options, cancellationToken: cancellationToken).ConfigureAwait(false);
            var fields = columns.Select(name => reader.Schema.DataFields.FirstOrDefault(f => f.Name == name)).ToArray();
            for (var g = 0; g < reader.RowGroupCount; g++)
            {
                using var group = reader.OpenRowGroupReader(g);
                var rows = checked((int)group.RowCount);
                var values = new Dictionary<string, Array>(StringComparer.Ordinal);
                for (var c = 0; c < columns.Count; c++)
                {
                    values[columns[c]] = fields[c] is { } field
                        ? await ReadColumnAsync(group, field, rows, cancellationToken).ConfigureAwait(false)
                        : FromPartitionValue(readSet.Schema, file, columns[c], rows);
                }

                yield return new ColumnChunk(rows, values);
            }
        }
    }

    private T Get<T>(string column)
        where T : class =>
        _columns.TryGetValue(column, out var values)
            ? values as T ?? throw new InvalidOperationException($"Column '{column}' was read as {values.GetType().Name}, not {typeof(T).Name}.")
            : throw new ArgumentException($"Column '{column}' was not read.", nameof(column));

    private static async Task<Array> ReadColumnAsync(ParquetRowGroupReader group, DataField field, int rows, CancellationToken cancellationToken)
    {
        var type = field.ClrType;
        if (type == typeof(ReadOnlyMemory<char>))
        {
            var chars = new ReadOnlyMemory<char>?[rows];
            if (field.IsNullable)
            {
                await group.ReadAsync<ReadOnlyMemory<char>>(field, chars.AsMemory(), null, cancellationToken).ConfigureAwait(false);
                return chars;
            }

            var present = new ReadOnlyMemory<char>[rows];
            await group.ReadAsync<ReadOnlyMemory<char>>(field, present.AsMemory(), null, cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < rows; i++)
            {
                chars[i] = present[i];
            }

            return chars;
        }

        if (type == typeof(ReadOnlyMemory<byte>))
        {
            // Binary values come as slices of the decoded pages, like strings as chars: no copy per value.
            var bytes = new ReadOnlyMemory<byte>?[rows];
            if (field.IsNullable)
            {
                await group.ReadAsync<ReadOnlyMemory<byte>>(field, bytes.AsMemory(), null, cancellationToken).ConfigureAwait(false);
                return bytes;
            }

            var present = new ReadOnlyMemory<byte>[rows];
            await group.ReadAsync<ReadOnlyMemory<byte>>(field, present.AsMemory(), null, cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < rows; i++)
            {
                bytes[i] = present[i];
            }

            return bytes;
        }

        if (type == typeof(string))
        {
            var strings = new string?[rows];
            await group.ReadAsync(field, strings.AsMemory(), null, cancellationToken).ConfigureAwait(false);
            return strings;
        }

        return type switch
        {
            _ when type == typeof(long) => await ReadValuesAsync<long>(group, field, rows, cancellationToken).ConfigureAwait(false),
            _ when type == typeof(int) => await ReadValuesAsync<int>(group, field, rows, cancellationToken).ConfigureAwait(false),
            _ when type == typeof(bool) => await ReadValuesAsync<bool>(group, field, rows, cancellationToken).ConfigureAwait(false),
            _ when type == typeof(double) => await ReadValuesAsync<double>(group, field, rows, cancellationToken).ConfigureAwait(false),
            _ when type == typeof(decimal) => await ReadValuesAsync<decimal>(group, field, rows, cancellationToken).ConfigureAwait(false),
            _ when type == typeof(DateTime) => await ReadValuesAsync<DateTime>(group, field, rows, cancellationToken).ConfigureAwait(false),
            _ when type == typeof(DateOnly) => await ReadValuesAsync<DateOnly>(group, field, rows, cancellationToken).ConfigureAwait(false),
            _ => throw new NotSupportedException($"Column '{field.Name}' has a type this reader does not take ({type.Name})."),
        };
    }

    private static async Task<Array> ReadValuesAsync<T>(ParquetRowGroupReader group, DataField field, int rows, CancellationToken cancellationToken)
        where T : struct
    {
        if (field.IsNullable)
        {
            var nullable = new T?[rows];
            await group.ReadAsync<T>(field, nullable.AsMemory(), null, cancellationToken).ConfigureAwait(false);
            return nullable;
        }

        var values = new T[rows];
        await group.ReadAsync<T>(field, values.AsMemory(), null, cancellationToken).ConfigureAwait(false);
        return values;
    }

    private static Array FromPartitionValue(TableSchema schema, DeltaReadFile file, string column, int rows)
    {
        if (!schema.PartitionColumns.Contains(column) || !file.File.PartitionValues.TryGetValue(column, out var text))
        {
            throw new InvalidOperationException($"Table {schema.Name}: file {file.File.Path} has no column '{column}'.");
        }

        return schema.Column(column).Type switch
        {
            ColumnType.Date => Enumerable.Repeat(DateOnly.ParseExact(text!, "yyyy-MM-dd", CultureInfo.InvariantCulture), rows).ToArray(),
            ColumnType.String => Enumerable.Repeat(text, rows).ToArray(),
            ColumnType.Integer => Enumerable.Repeat(int.Parse(text!, CultureInfo.InvariantCulture), rows).ToArray(),
            ColumnType.Long => Enumerable.Repeat(long.Parse(text!, CultureInfo.InvariantCulture), rows).ToArray(),
            var other => throw new NotSupportedException($"Table {schema.Name}: partition column '{column}' of type {other} cannot be filled from the log."),
        };
    }
}
