using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using BaloyiBank.DuckDb.Native;

namespace BaloyiBank.DuckDb;

/// <summary>
/// Rows written value by value, all columns in order, straight into a DuckDB data chunk of 2,048
/// rows: <c>writer.Append(id).Append(amount).AppendNull().EndRow();</c>. What happens to a full
/// chunk is the subclass's: <see cref="DuckDbAppender"/> hands it to a table, <see cref="DuckDbRowBuffer"/>
/// keeps it for a scan.
/// </summary>
/// <remarks>
/// A value is checked before it is stored: wrong type, out of range, more decimal places than the
/// column's scale (never truncated or rounded), too many or too few columns. Such a failure throws
/// <see cref="DuckDbException"/> and discards only the row in progress; the writer stays usable and
/// the next call starts a new row. Not thread-safe.
/// </remarks>
public abstract unsafe class DuckDbChunkWriter
{
    private const int MaxStackString = 256;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly string target;
    private readonly DuckDbColumn[] columns;
    private readonly DuckDbType[] storage;
    private readonly nint[] vectors;
    private readonly nint[] data;
    private readonly nint[] validity;
    private readonly int capacity;
    private int column;

    /// <summary>Rows completed in the current chunk (the subclass's hand-over resets it).</summary>
#pragma warning disable CA1051 // a counter shared with the subclasses, in the hot path
    private protected int row;
#pragma warning restore CA1051

    /// <param name="target">How messages name what is written, e.g. <c>table 'x'</c>.</param>
    private protected DuckDbChunkWriter(string target, DuckDbColumn[] columns, DuckDbType[] storage)
    {
        this.target = target;
        this.columns = columns;
        this.storage = storage;
        vectors = new nint[columns.Length];
        data = new nint[columns.Length];
        validity = new nint[columns.Length];
        capacity = (int)NativeMethods.VectorSize();
    }

    /// <summary>The chunk being filled.</summary>
    private protected abstract nint CurrentChunk { get; }

    /// <summary>Throws when the writer may not take values (disposed, closed, faulted).</summary>
    private protected abstract void EnsureUsable();

    /// <summary>The current chunk holds 2,048 rows: hand it over and start an empty one (then call <see cref="RefreshVectors"/>).</summary>
    private protected abstract void ChunkFull();

    /// <summary>Drops the row in progress (after a failure inside DuckDB).</summary>
    private protected void ResetRow() => column = 0;

    /// <summary>The columns, in the order values are appended.</summary>
    public IReadOnlyList<DuckDbColumn> Columns => columns;

    /// <summary>Rows completed by <see cref="EndRow"/> since the writer was created.</summary>
    public long RowsAppended { get; private set; }

    public DuckDbChunkWriter Append(string? value)
    {
        if (value is null)
        {
            return AppendNull();
        }

        var c = Next(DuckDbType.Varchar, "string");
        if (value.Length <= MaxStackString / 3)
        {
            Span<byte> buffer = stackalloc byte[MaxStackString];
            WriteString(c, buffer[..Encode(c, value, buffer)]);
            return Advance();
        }

        var rented = ArrayPool<byte>.Shared.Rent(StrictUtf8.GetMaxByteCount(value.Length));
        try
        {
            WriteString(c, rented.AsSpan(0, Encode(c, value, rented)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return Advance();
    }

    public DuckDbChunkWriter Append(long value)
    {
        var c = Current("long");
        var cell = (byte*)data[c];
        var type = columns[c].Type;
        switch (type)
        {
            case DuckDbType.BigInt:
                ((long*)cell)[row] = value;
                break;
            case DuckDbType.Integer when value is >= int.MinValue and <= int.MaxValue:
                ((int*)cell)[row] = (int)value;
                break;
            case DuckDbType.SmallInt when value is >= short.MinValue and <= short.MaxValue:
                ((short*)cell)[row] = (short)value;
                break;
            case DuckDbType.TinyInt when value is >= sbyte.MinValue and <= sbyte.MaxValue:
                ((sbyte*)cell)[row] = (sbyte)value;
                break;
            case DuckDbType.UBigInt when value >= 0:
                ((ulong*)cell)[row] = (ulong)value;
                break;
            case DuckDbType.UInteger when value is >= 0 and <= uint.MaxValue:
                ((uint*)cell)[row] = (uint)value;
                break;
            case DuckDbType.USmallInt when value is >= 0 and <= ushort.MaxValue:
                ((ushort*)cell)[row] = (ushort)value;
                break;
            case DuckDbType.UTinyInt when value is >= 0 and <= byte.MaxValue:
                cell[row] = (byte)value;
                break;
            case DuckDbType.HugeInt:
                ((DuckDbHugeInt*)cell)[row] = ValueCodec.ToHugeInt(value);
                break;
            case DuckDbType.Decimal:
                // Scaled like any decimal: 5 into DECIMAL(18,2) is 5.00, not 0.05.
                return Append((decimal)value);
            default:
                throw Reject(c, IsInteger(type) ? $"{value} is out of range" : "a long does not fit this column");
        }

        return Advance();
    }

    public DuckDbChunkWriter Append(int value) => Append((long)value);

    public DuckDbChunkWriter Append(short value) => Append((long)value);

    public DuckDbChunkWriter Append(bool value)
    {
        var c = Next(DuckDbType.Boolean, "bool");
        ((byte*)data[c])[row] = value ? (byte)1 : (byte)0;
        return Advance();
    }

    public DuckDbChunkWriter Append(double value)
    {
        var c = Current("double");
        switch (columns[c].Type)
        {
            case DuckDbType.Double:
                ((double*)data[c])[row] = value;
                break;
            case DuckDbType.Float when (double)(float)value == value || double.IsNaN(value):
                ((float*)data[c])[row] = (float)value;
                break;
            default:
                throw Reject(c, columns[c].Type == DuckDbType.Float ? $"{value} is not exact as FLOAT" : "a double does not fit this column (decimals need decimal)");
        }

        return Advance();
    }

    /// <summary>Into a DECIMAL column of any width, exactly; more decimal places than the scale are refused.</summary>
    public DuckDbChunkWriter Append(decimal value)
    {
        var c = Next(DuckDbType.Decimal, "decimal");
        var info = columns[c];
        if (ValueCodec.ToScaled(value, info.DecimalWidth, info.DecimalScale, out var error) is not { } scaled)
        {
            throw Reject(c, error!);
        }

        var cell = (byte*)data[c];
        switch (storage[c])
        {
            case DuckDbType.SmallInt:
                ((short*)cell)[row] = (short)scaled;
                break;
            case DuckDbType.Integer:
                ((int*)cell)[row] = (int)scaled;
                break;
            case DuckDbType.BigInt:
                ((long*)cell)[row] = (long)scaled;
                break;
            default:
                ((DuckDbHugeInt*)cell)[row] = ValueCodec.ToHugeInt(scaled);
                break;
        }

        return Advance();
    }

    /// <summary>
    /// Into TIMESTAMP (stored as the UTC wall clock) or TIMESTAMP WITH TIME ZONE: microseconds since the
    /// epoch, sub-microsecond ticks dropped. TIMESTAMP_NS keeps the full 100 ns tick.
    /// </summary>
    public DuckDbChunkWriter Append(DateTimeOffset value)
    {
        var c = Current("DateTimeOffset");
        switch (columns[c].Type)
        {
            case DuckDbType.Timestamp or DuckDbType.TimestampTz:
                ((long*)data[c])[row] = ValueCodec.ToMicros(value);
                break;
            case DuckDbType.TimestampNs:
                var nanos = (Int128)(value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;
                ((long*)data[c])[row] = nanos >= long.MinValue && nanos <= long.MaxValue
                    ? (long)nanos
                    : throw Reject(c, $"{value:O} is outside TIMESTAMP_NS's range (years 1677 to 2262)");
                break;
            default:
                throw Reject(c, "a DateTimeOffset does not fit this column");
        }

        return Advance();
    }

    public DuckDbChunkWriter Append(DateOnly value)
    {
        var c = Next(DuckDbType.Date, "DateOnly");
        ((int*)data[c])[row] = ValueCodec.ToDays(value);
        return Advance();
    }

    public DuckDbChunkWriter Append(Guid value)
    {
        var c = Next(DuckDbType.Uuid, "Guid");
        ((DuckDbHugeInt*)data[c])[row] = ValueCodec.ToUuidStorage(value);
        return Advance();
    }

    /// <summary>A VARCHAR value given as UTF-8 bytes (no transcoding); rejected unless the bytes are valid UTF-8.</summary>
    public DuckDbChunkWriter AppendUtf8(ReadOnlySpan<byte> value)
    {
        var c = Next(DuckDbType.Varchar, "UTF-8 string");
        if (!System.Text.Unicode.Utf8.IsValid(value))
        {
            throw Reject(c, "the bytes are not valid UTF-8");
        }

        WriteString(c, value);
        return Advance();
    }

    public DuckDbChunkWriter Append(byte[]? value) => value is null ? AppendNull() : Append(value.AsSpan());

    public DuckDbChunkWriter Append(ReadOnlySpan<byte> value)
    {
        var c = Next(DuckDbType.Blob, "byte[]");
        WriteString(c, value);
        return Advance();
    }

    public DuckDbChunkWriter Append(long? value) => value is { } v ? Append(v) : AppendNull();

    public DuckDbChunkWriter Append(int? value) => value is { } v ? Append(v) : AppendNull();

    public DuckDbChunkWriter Append(bool? value) => value is { } v ? Append(v) : AppendNull();

    public DuckDbChunkWriter Append(double? value) => value is { } v ? Append(v) : AppendNull();

    public DuckDbChunkWriter Append(decimal? value) => value is { } v ? Append(v) : AppendNull();

    public DuckDbChunkWriter Append(DateTimeOffset? value) => value is { } v ? Append(v) : AppendNull();

    public DuckDbChunkWriter Append(DateOnly? value) => value is { } v ? Append(v) : AppendNull();

    public DuckDbChunkWriter Append(Guid? value) => value is { } v ? Append(v) : AppendNull();

    public DuckDbChunkWriter AppendNull()
    {
        var c = Current("NULL");
        var mask = (ulong*)validity[c];
        if (mask is null)
        {
            NativeMethods.VectorEnsureValidityWritable(vectors[c]);
            mask = NativeMethods.VectorGetValidity(vectors[c]);
            validity[c] = (nint)mask;
        }

        mask[row >> 6] &= ~(1UL << (row & 63));
        column++;
        return this;
    }

    /// <summary>Completes the row; at 2,048 rows the chunk is handed over (an appender's to DuckDB, which may then report a constraint failure).</summary>
    public void EndRow()
    {
        EnsureUsable();
        if (column != columns.Length)
        {
            var given = column;
            column = 0;
            throw new DuckDbException("append", $"row ended after {given} of {columns.Length} values for {target} ({string.Join(", ", columns.Select(x => x.ToString()))}); the row was discarded", null);
        }

        column = 0;
        row++;
        RowsAppended++;
        if (row == capacity)
        {
            ChunkFull();
        }
    }

    // A chunk reset may move buffers and drops validity masks: fetch them again.
    private protected void RefreshVectors()
    {
        for (var c = 0; c < columns.Length; c++)
        {
            vectors[c] = NativeMethods.DataChunkGetVector(CurrentChunk, (ulong)c);
            data[c] = (nint)NativeMethods.VectorGetData(vectors[c]);
            validity[c] = 0;
        }
    }

    private static bool IsInteger(DuckDbType type) => type is DuckDbType.TinyInt or DuckDbType.SmallInt or DuckDbType.Integer
        or DuckDbType.BigInt or DuckDbType.UTinyInt or DuckDbType.USmallInt or DuckDbType.UInteger or DuckDbType.UBigInt or DuckDbType.HugeInt;

    /// <summary>The column the next value goes to, checked to exist; the row in progress is dropped on failure.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Current(string what)
    {
        EnsureUsable();
        if (column >= columns.Length)
        {
            column = 0;
            throw new DuckDbException("append", $"a {what} value was appended past the last of the {columns.Length} columns of {target} (missing EndRow?); the row was discarded", null);
        }

        return column;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Next(DuckDbType expected, string what)
    {
        var c = Current(what);
        return columns[c].Type == expected ? c : throw Reject(c, $"a {what} does not fit this column");
    }

    /// <summary>Marks the cell valid (a discarded row may have left it NULL) and moves to the next column.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private DuckDbChunkWriter Advance()
    {
        var mask = (ulong*)validity[column];
        if (mask is not null)
        {
            mask[row >> 6] |= 1UL << (row & 63);
        }

        column++;
        return this;
    }

    private int Encode(int c, string value, Span<byte> buffer)
    {
        try
        {
            return StrictUtf8.GetBytes(value, buffer);
        }
        catch (EncoderFallbackException ex)
        {
            throw Reject(c, "the string is not valid UTF-16 (a lone surrogate)", ex);
        }
    }

    // duckdb_string_t: up to 12 bytes inline (zero-padded, DuckDB compares all 16 bytes), longer
    // strings copied into the vector's own heap by DuckDB.
    private void WriteString(int c, ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length <= 12)
        {
            var cell = (byte*)data[c] + (row * 16);
            *(uint*)cell = (uint)bytes.Length;
            var inline = new Span<byte>(cell + 4, 12);
            bytes.CopyTo(inline);
            inline[bytes.Length..].Clear();
            return;
        }

        fixed (byte* pointer = bytes)
        {
            NativeMethods.VectorAssignStringElementLen(vectors[c], (ulong)row, pointer, (ulong)bytes.Length);
        }
    }

    private DuckDbException Reject(int c, string reason, Exception? inner = null)
    {
        column = 0;
        return new DuckDbException("append",
            $"column '{columns[c].Name}' ({columns[c].TypeName}) of {target}, row {RowsAppended + 1}: {reason}; the row was discarded",
            null, DuckDbErrorType.InvalidInput, inner);
    }
}
