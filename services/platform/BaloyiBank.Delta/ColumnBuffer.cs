using System.Text;

namespace BaloyiBank.Delta;

/// <summary>
/// Rows of one table held column by column in managed arrays, appended value by value in schema order:
/// <c>rows.Append(id).Append(amount).AppendNull().EndRow();</c>. It is what a micro-batch's rows are until
/// <see cref="DeltaFileWriter"/> writes them as Parquet: strings and bytes go into one growing arena per column
/// (no object per value, so a batch in memory costs the garbage collector a few arrays, not a million strings),
/// numbers into typed arrays.
/// </summary>
/// <remarks>
/// A value is checked before it is stored: a type the column does not take, a null in a NOT NULL column, money
/// with more decimal places than the column's scale (never rounded), invalid UTF-8. Such a failure throws
/// <see cref="ArgumentException"/> and drops only the row in progress; the buffer stays usable. Not thread-safe:
/// one writer, and readers only after <see cref="Seal"/>.
/// </remarks>
public sealed class ColumnBuffer
{
    private const int InitialRows = 1024;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly BufferColumn[] _columns;
    private int _column;

    public ColumnBuffer(TableSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        Schema = schema;
        _columns = [.. schema.Columns.Select(BufferColumn.For)];
    }

    public TableSchema Schema { get; }

    /// <summary>Rows completed by <see cref="EndRow"/>.</summary>
    public int RowCount { get; private set; }

    public bool IsSealed { get; private set; }

    /// <summary>The column at <paramref name="ordinal"/> (schema order), for the writer and for readers after <see cref="Seal"/>.</summary>
    internal BufferColumn Column(int ordinal) => _columns[ordinal];

    public ColumnBuffer Append(string? value) => value is null ? AppendNull() : Append(value.AsSpan());

    public ColumnBuffer Append(ReadOnlySpan<char> value)
    {
        var c = Current("string");
        try
        {
            c.PutChars(value, RowCount);
        }
        catch (ArgumentException e)
        {
            throw Reject(e.Message);
        }

        return Advance();
    }

    /// <summary>A string column's value given as UTF-8 bytes; refused unless they are valid UTF-8.</summary>
    public ColumnBuffer AppendUtf8(ReadOnlySpan<byte> value)
    {
        int chars;
        try
        {
            chars = StrictUtf8.GetCharCount(value);
        }
        catch (DecoderFallbackException)
        {
            throw Reject("the bytes are not valid UTF-8");
        }

        var c = Current("UTF-8 string");
        c.PutUtf8(value, chars, RowCount);
        return Advance();
    }

    public ColumnBuffer Append(ReadOnlySpan<byte> value)
    {
        var c = Current("bytes");
        try
        {
            c.PutBytes(value, RowCount);
        }
        catch (ArgumentException e)
        {
            throw Reject(e.Message);
        }

        return Advance();
    }

    public ColumnBuffer Append(byte[]? value) => value is null ? AppendNull() : Append(value.AsSpan());

    public ColumnBuffer Append(long value)
    {
        var c = Current("long");
        try
        {
            c.PutLong(value, RowCount);
        }
        catch (ArgumentException e)
        {
            throw Reject(e.Message);
        }

        return Advance();
    }

    public ColumnBuffer Append(int value) => Append((long)value);

    public ColumnBuffer Append(bool value)
    {
        var c = Current("bool");
        try
        {
            c.PutBool(value, RowCount);
        }
        catch (ArgumentException e)
        {
            throw Reject(e.Message);
        }

        return Advance();
    }

    public ColumnBuffer Append(double value)
    {
        var c = Current("double");
        try
        {
            c.PutDouble(value, RowCount);
        }
        catch (ArgumentException e)
        {
            throw Reject(e.Message);
        }

        return Advance();
    }

    public ColumnBuffer Append(decimal value)
    {
        var c = Current("decimal");
        try
        {
            c.PutDecimal(value, RowCount);
        }
        catch (ArgumentException e)
        {
            throw Reject(e.Message);
        }

        return Advance();
    }

    /// <summary>A UTC instant, cut to the microsecond (Delta's precision).</summary>
    public ColumnBuffer Append(DateTimeOffset value)
    {
        var c = Current("DateTimeOffset");
        try
        {
            c.PutTimestamp(value, RowCount);
        }
        catch (ArgumentException e)
        {
            throw Reject(e.Message);
        }

        return Advance();
    }

    public ColumnBuffer Append(DateOnly value)
    {
        var c = Current("DateOnly");
        try
        {
            c.PutDate(value, RowCount);
        }
        catch (ArgumentException e)
        {
            throw Reject(e.Message);
        }

        return Advance();
    }

    public ColumnBuffer Append(long? value) => value is { } v ? Append(v) : AppendNull();

    public ColumnBuffer Append(int? value) => value is { } v ? Append(v) : AppendNull();

    public ColumnBuffer Append(bool? value) => value is { } v ? Append(v) : AppendNull();

    public ColumnBuffer Append(double? value) => value is { } v ? Append(v) : AppendNull();

    public ColumnBuffer Append(decimal? value) => value is { } v ? Append(v) : AppendNull();

    public ColumnBuffer Append(DateTimeOffset? value) => value is { } v ? Append(v) : AppendNull();

    public ColumnBuffer Append(DateOnly? value) => value is { } v ? Append(v) : AppendNull();

    public ColumnBuffer AppendNull()
    {
        var c = Current("null");
        if (!c.Schema.Nullable)
        {
            throw Reject("the column is NOT NULL");
        }

        c.PutNull(RowCount);
        return Advance();
    }

    /// <summary>Completes the row; every column must have had its value.</summary>
    public void EndRow()
    {
        if (_column != _columns.Length)
        {
            var missing = _columns.Length - _column;
            _column = 0;
            throw new ArgumentException($"Table {Schema.Name}: a row ended after {_columns.Length - missing} of {_columns.Length} columns; the row was dropped.");
        }

        _column = 0;
        RowCount++;
    }

    /// <summary>No more rows: from now on the buffer is read (by the writer), never written.</summary>
    public void Seal()
    {
        if (_column != 0)
        {
            throw new InvalidOperationException($"Table {Schema.Name}: cannot seal a buffer in the middle of a row.");
        }

        IsSealed = true;
    }

    /// <summary>
    /// Empties the buffer for another batch, keeping its arrays: a feed reuses its buffers once a flush has written
    /// them, so steady streaming does not allocate (and collect) a batch's worth of arrays per flush.
    /// </summary>
    public void Reset()
    {
        foreach (var column in _columns)
        {
            column.Clear(RowCount);
        }

        RowCount = 0;
        _column = 0;
        IsSealed = false;
    }

    public override string ToString() => $"rows of {Schema.Name} ({RowCount}{(IsSealed ? ", sealed" : "")})";

    private BufferColumn Current(string what)
    {
        if (IsSealed)
        {
            throw new InvalidOperationException($"Table {Schema.Name}: the buffer is sealed; no more rows.");
        }

        if (_column >= _columns.Length)
        {
            throw Reject($"a {what} value after the row's last column (call EndRow)");
        }

        return _columns[_column];
    }

    private ColumnBuffer Advance()
    {
        _column++;
        return this;
    }

    private ArgumentException Reject(string why)
    {
        var name = _column < _columns.Length ? _columns[_column].Schema.Name : "(none)";
        var type = _column < _columns.Length ? _columns[_column].Schema.Type.ToString() : "";
        _column = 0;
        return new ArgumentException($"Table {Schema.Name}, column {name} ({type}): {why}; the row was dropped.");
    }

    internal static int Grow(int current, int needed) => Math.Max(needed, Math.Max(InitialRows, current * 2));
}
