using System.Text;

namespace BaloyiBank.Delta;

/// <summary>
/// One column of a <see cref="ColumnBuffer"/>. Values are put at a row index (the buffer's row in progress), so a
/// row dropped half-way is simply overwritten by the next one. A Put* of a type the column does not take throws
/// <see cref="ArgumentException"/> with the reason; the buffer adds the table and column to it.
/// </summary>
internal abstract class BufferColumn(ColumnSchema schema)
{
    private bool[]? _nulls;

    public ColumnSchema Schema { get; } = schema;

    public bool HasNulls => _nulls is not null;

    /// <summary>Whether <paramref name="row"/> holds a null (the flags array only grows when a null is put, so it may be shorter).</summary>
    public bool IsNull(int row) => _nulls is not null && row < _nulls.Length && _nulls[row];

    public static BufferColumn For(ColumnSchema schema) => schema.Type switch
    {
        ColumnType.String => new StringColumn(schema),
        ColumnType.Binary => new BinaryColumn(schema),
        ColumnType.Long => new LongColumn(schema),
        ColumnType.Integer => new IntColumn(schema),
        ColumnType.Boolean => new BoolColumn(schema),
        ColumnType.Double => new DoubleColumn(schema),
        ColumnType.Money => new DecimalColumn(schema, scale: 2),
        ColumnType.Rate => new DecimalColumn(schema, scale: 6),
        ColumnType.Timestamp => new TimestampColumn(schema),
        ColumnType.Date => new DateColumn(schema),
        _ => throw new ArgumentOutOfRangeException(nameof(schema), schema.Type, "Unknown column type."),
    };

    public virtual void PutChars(ReadOnlySpan<char> value, int row) => throw Wrong("a string");

    public virtual void PutUtf8(ReadOnlySpan<byte> value, int chars, int row) => throw Wrong("a string");

    public virtual void PutBytes(ReadOnlySpan<byte> value, int row) => throw Wrong("bytes");

    public virtual void PutLong(long value, int row) => throw Wrong("an integer");

    public virtual void PutBool(bool value, int row) => throw Wrong("a boolean");

    public virtual void PutDouble(double value, int row) => throw Wrong("a double");

    public virtual void PutDecimal(decimal value, int row) => throw Wrong("a decimal");

    public virtual void PutTimestamp(DateTimeOffset value, int row) => throw Wrong("an instant");

    public virtual void PutDate(DateOnly value, int row) => throw Wrong("a date");

    public void PutNull(int row)
    {
        if (_nulls is null || _nulls.Length <= row)
        {
            Array.Resize(ref _nulls, ColumnBuffer.Grow(_nulls?.Length ?? 0, row + 1));
        }

        PutDefault(row);
        _nulls[row] = true;
    }

    /// <summary>The value at <paramref name="row"/> as its CLR type (partition values, statistics), or null.</summary>
    public object? Boxed(int row) => IsNull(row) ? null : BoxedValue(row);

    protected abstract object BoxedValue(int row);

    /// <summary>Forgets the nulls of the first <paramref name="rows"/> rows (the values are overwritten by the next batch).</summary>
    public void Clear(int rows)
    {
        if (_nulls is not null)
        {
            Array.Clear(_nulls, 0, Math.Min(rows, _nulls.Length));
        }
    }

    /// <summary>Stores the placeholder of a null (an empty string, a zero) so that later rows stay in place.</summary>
    protected abstract void PutDefault(int row);

    /// <summary>Marks <paramref name="row"/> as holding a value (it may have been a null of a dropped row).</summary>
    protected void Present(int row)
    {
        if (_nulls is not null && row < _nulls.Length)
        {
            _nulls[row] = false;
        }
    }

    private ArgumentException Wrong(string what) => new($"{what} does not fit a {Schema.Type} column");
}

/// <summary>A column of fixed-size values in one array.</summary>
internal abstract class ValueColumn<T>(ColumnSchema schema) : BufferColumn(schema)
    where T : struct
{
    private T[] _values = [];

    public ReadOnlySpan<T> Values => _values;

    protected void Put(T value, int row)
    {
        if (_values.Length <= row)
        {
            Array.Resize(ref _values, ColumnBuffer.Grow(_values.Length, row + 1));
        }

        _values[row] = value;
        Present(row);
    }

    protected override void PutDefault(int row) => Put(default, row);

    protected override object BoxedValue(int row) => _values[row];
}

internal sealed class LongColumn(ColumnSchema schema) : ValueColumn<long>(schema)
{
    public override void PutLong(long value, int row) => Put(value, row);
}

internal sealed class IntColumn(ColumnSchema schema) : ValueColumn<int>(schema)
{
    public override void PutLong(long value, int row) =>
        Put(value is >= int.MinValue and <= int.MaxValue ? (int)value : throw new ArgumentException($"{value} is outside a 32-bit integer's range"), row);
}

internal sealed class BoolColumn(ColumnSchema schema) : ValueColumn<bool>(schema)
{
    public override void PutBool(bool value, int row) => Put(value, row);
}

internal sealed class DoubleColumn(ColumnSchema schema) : ValueColumn<double>(schema)
{
    public override void PutDouble(double value, int row) => Put(value, row);
}

/// <summary>decimal(18, scale): more decimal places than the scale, or more than 18 digits, are refused, never rounded.</summary>
internal sealed class DecimalColumn(ColumnSchema schema, int scale) : ValueColumn<decimal>(schema)
{
    public const int Precision = 18;

    private readonly decimal _limit = 1_000_000_000_000_000_000m / Pow10(scale);

    public int Scale { get; } = scale;

    public override void PutDecimal(decimal value, int row)
    {
        if (value.Scale > Scale && decimal.Round(value, Scale) != value)
        {
            throw new ArgumentException($"{value} has more than {Scale} decimal places");
        }

        if (Math.Abs(value) >= _limit)
        {
            throw new ArgumentException($"{value} does not fit decimal({Precision},{Scale})");
        }

        Put(value, row);
    }

    private static decimal Pow10(int n)
    {
        var p = 1m;
        for (var i = 0; i < n; i++)
        {
            p *= 10;
        }

        return p;
    }
}

/// <summary>UTC instants as <see cref="DateTime"/> (kind UTC), cut to the microsecond.</summary>
internal sealed class TimestampColumn(ColumnSchema schema) : ValueColumn<DateTime>(schema)
{
    protected override object BoxedValue(int row) => new DateTimeOffset(Values[row]);

    public override void PutTimestamp(DateTimeOffset value, int row)
    {
        var ticks = value.UtcTicks;
        Put(new DateTime(ticks - (ticks % 10), DateTimeKind.Utc), row);
    }
}

internal sealed class DateColumn(ColumnSchema schema) : ValueColumn<DateOnly>(schema)
{
    public override void PutDate(DateOnly value, int row) => Put(value, row);
}

/// <summary>Values of variable length in one arena: row r spans [end(r - 1), end(r)).</summary>
internal abstract class ArenaColumn<T>(ColumnSchema schema) : BufferColumn(schema)
    where T : struct
{
    private T[] _arena = [];
    private int[] _ends = [];

    public ReadOnlyMemory<T> Value(int row)
    {
        var start = row == 0 ? 0 : _ends[row - 1];
        return _arena.AsMemory(start, _ends[row] - start);
    }

    /// <summary>Room for <paramref name="length"/> items of <paramref name="row"/>; the caller fills it.</summary>
    protected Span<T> Reserve(int row, int length)
    {
        if (_ends.Length <= row)
        {
            Array.Resize(ref _ends, ColumnBuffer.Grow(_ends.Length, row + 1));
        }

        var start = row == 0 ? 0 : _ends[row - 1];
        if (_arena.Length < start + length)
        {
            Array.Resize(ref _arena, Math.Max(start + length, Math.Max(4096, _arena.Length * 2)));
        }

        _ends[row] = start + length;
        Present(row);
        return _arena.AsSpan(start, length);
    }

    protected override void PutDefault(int row) => Reserve(row, 0);
}

internal sealed class StringColumn(ColumnSchema schema) : ArenaColumn<char>(schema)
{
    public override void PutChars(ReadOnlySpan<char> value, int row) => value.CopyTo(Reserve(row, value.Length));

    protected override object BoxedValue(int row) => Value(row).ToString();

    public override void PutUtf8(ReadOnlySpan<byte> value, int chars, int row) => Encoding.UTF8.GetChars(value, Reserve(row, chars));
}

internal sealed class BinaryColumn(ColumnSchema schema) : ArenaColumn<byte>(schema)
{
    public override void PutBytes(ReadOnlySpan<byte> value, int row) => value.CopyTo(Reserve(row, value.Length));

    protected override object BoxedValue(int row) => Value(row).ToArray();
}
