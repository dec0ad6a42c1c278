using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using BaloyiBank.DuckDb.Native;

namespace BaloyiBank.DuckDb;

/// <summary>
/// Bulk insert into one table, all its columns in table order:
/// <c>appender.Append(id).Append(amount).AppendNull().EndRow();</c>. Values are written straight
/// into a DuckDB data chunk; every 2,048 rows the chunk is handed to DuckDB's appender, which
/// writes to the table when it flushes (its own batches, <see cref="Flush"/>, <see cref="Close"/>).
/// </summary>
/// <remarks>
/// <para>
/// A value is checked before it is stored: wrong type, out of range, more decimal places than
/// the column's scale (never truncated or rounded), too many or too few columns. Such a failure
/// throws <see cref="DuckDbException"/> and discards only the row in progress, which is never
/// written; the appender stays usable and the next call starts a new row.
/// </para>
/// <para>
/// A failure inside DuckDB while writing (a constraint such as NOT NULL or a primary key) is
/// reported by the call that hands rows over (<see cref="EndRow"/> at a chunk boundary,
/// <see cref="Flush"/>, <see cref="Close"/>). The appender is then faulted: the rows not yet
/// written are discarded and every further call throws; dispose it. Rows DuckDB had already
/// written stay written: run the appender inside <c>BEGIN</c> … <c>COMMIT</c> on its connection
/// for all-or-nothing.
/// </para>
/// <para>
/// <see cref="Dispose"/> closes the appender like <see cref="Close"/> (writing pending rows) unless
/// it is faulted; call <see cref="Close"/> yourself to see errors at a point of your choosing.
/// An appender that is never disposed writes nothing more when the garbage collector frees it.
/// Not thread-safe.
/// </para>
/// </remarks>
public sealed unsafe class DuckDbAppender : IDisposable
{
    private const int MaxStackString = 256;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly AppenderHandle handle;
    private readonly string table;
    private readonly DuckDbColumn[] columns;
    private readonly DuckDbType[] storage;
    private readonly nint[] vectors;
    private readonly nint[] data;
    private readonly nint[] validity;
    private readonly int capacity;
    private int row;
    private int column;
    private bool closed;
    private DuckDbException? fault;

    private DuckDbAppender(AppenderHandle handle, string table, DuckDbColumn[] columns, DuckDbType[] storage)
    {
        this.handle = handle;
        this.table = table;
        this.columns = columns;
        this.storage = storage;
        vectors = new nint[columns.Length];
        data = new nint[columns.Length];
        validity = new nint[columns.Length];
        capacity = (int)NativeMethods.VectorSize();
        RefreshVectors();
    }

    /// <summary>The table's columns, in the order values are appended.</summary>
    public IReadOnlyList<DuckDbColumn> Columns => columns;

    /// <summary>Rows completed by <see cref="EndRow"/> since the appender was created.</summary>
    public long RowsAppended { get; private set; }

    public DuckDbAppender Append(string? value)
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

    public DuckDbAppender Append(long value)
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

    public DuckDbAppender Append(int value) => Append((long)value);

    public DuckDbAppender Append(short value) => Append((long)value);

    public DuckDbAppender Append(bool value)
    {
        var c = Next(DuckDbType.Boolean, "bool");
        ((byte*)data[c])[row] = value ? (byte)1 : (byte)0;
        return Advance();
    }

    public DuckDbAppender Append(double value)
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
    public DuckDbAppender Append(decimal value)
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
    public DuckDbAppender Append(DateTimeOffset value)
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

    public DuckDbAppender Append(DateOnly value)
    {
        var c = Next(DuckDbType.Date, "DateOnly");
        ((int*)data[c])[row] = ValueCodec.ToDays(value);
        return Advance();
    }

    public DuckDbAppender Append(Guid value)
    {
        var c = Next(DuckDbType.Uuid, "Guid");
        ((DuckDbHugeInt*)data[c])[row] = ValueCodec.ToUuidStorage(value);
        return Advance();
    }

    /// <summary>A VARCHAR value given as UTF-8 bytes (no transcoding); rejected unless the bytes are valid UTF-8.</summary>
    public DuckDbAppender AppendUtf8(ReadOnlySpan<byte> value)
    {
        var c = Next(DuckDbType.Varchar, "UTF-8 string");
        if (!System.Text.Unicode.Utf8.IsValid(value))
        {
            throw Reject(c, "the bytes are not valid UTF-8");
        }

        WriteString(c, value);
        return Advance();
    }

    public DuckDbAppender Append(byte[]? value) => value is null ? AppendNull() : Append(value.AsSpan());

    public DuckDbAppender Append(ReadOnlySpan<byte> value)
    {
        var c = Next(DuckDbType.Blob, "byte[]");
        WriteString(c, value);
        return Advance();
    }

    public DuckDbAppender Append(long? value) => value is { } v ? Append(v) : AppendNull();

    public DuckDbAppender Append(int? value) => value is { } v ? Append(v) : AppendNull();

    public DuckDbAppender Append(bool? value) => value is { } v ? Append(v) : AppendNull();

    public DuckDbAppender Append(double? value) => value is { } v ? Append(v) : AppendNull();

    public DuckDbAppender Append(decimal? value) => value is { } v ? Append(v) : AppendNull();

    public DuckDbAppender Append(DateTimeOffset? value) => value is { } v ? Append(v) : AppendNull();

    public DuckDbAppender Append(DateOnly? value) => value is { } v ? Append(v) : AppendNull();

    public DuckDbAppender Append(Guid? value) => value is { } v ? Append(v) : AppendNull();

    public DuckDbAppender AppendNull()
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

    /// <summary>Completes the row; at 2,048 rows the chunk goes to DuckDB (which may then report a constraint failure).</summary>
    public void EndRow()
    {
        EnsureUsable();
        if (column != columns.Length)
        {
            var given = column;
            column = 0;
            throw new DuckDbException("append", $"row ended after {given} of {columns.Length} values for table '{table}' ({string.Join(", ", columns.Select(x => x.ToString()))}); the row was discarded", null);
        }

        column = 0;
        row++;
        RowsAppended++;
        if (row == capacity)
        {
            HandOver("append");
        }
    }

    /// <summary>Writes every completed row to the table now.</summary>
    public void Flush()
    {
        EnsureUsable();
        HandOver("flush");
        if (NativeMethods.AppenderFlush(handle) != DuckDbState.Success)
        {
            throw Fault("flush");
        }
    }

    /// <summary>Writes every completed row and closes the appender; a row in progress is discarded.</summary>
    public void Close()
    {
        if (closed)
        {
            return;
        }

        EnsureUsable();
        column = 0;
        HandOver("close");
        if (NativeMethods.AppenderClose(handle) != DuckDbState.Success)
        {
            throw Fault("close");
        }

        closed = true;
    }

    /// <summary>Closes (writing pending rows) unless faulted or already closed, then frees the appender.</summary>
    public void Dispose()
    {
        if (handle.IsClosed)
        {
            return;
        }

        try
        {
            if (!closed && fault is null)
            {
                Close();
            }
        }
        finally
        {
            handle.Dispose();
        }
    }

    internal static DuckDbAppender Create(DuckDbConnection connection, string? schema, string table)
    {
        var connectionHandle = connection.Handle;
        _ = NativeMethods.AppenderCreate(connectionHandle, schema, table, out var appender);
        var nativeTypes = Array.Empty<nint>();
        try
        {
            if (appender.IsInvalid)
            {
                throw new DuckDbException("append", $"duckdb_appender_create returned nothing for '{table}'", null);
            }

            if (ReadError(appender, "append", table) is { } error)
            {
                throw error;
            }

            appender.Pin(connectionHandle);
            var count = checked((int)NativeMethods.AppenderColumnCount(appender));
            var names = ColumnNames(connectionHandle, schema, table, count);
            nativeTypes = new nint[count];
            var columns = new DuckDbColumn[count];
            var storage = new DuckDbType[count];
            for (var c = 0; c < count; c++)
            {
                nativeTypes[c] = NativeMethods.AppenderColumnType(appender, (ulong)c);
                (columns[c], storage[c]) = DuckDbResult.Describe(names[c], nativeTypes[c]);
            }

            fixed (nint* types = nativeTypes)
            {
                appender.Chunk = NativeMethods.CreateDataChunk(types, (ulong)count);
            }

            return new DuckDbAppender(appender, table, columns, storage);
        }
        catch
        {
            appender.Dispose();
            throw;
        }
        finally
        {
            for (var c = 0; c < nativeTypes.Length; c++)
            {
                if (nativeTypes[c] != 0)
                {
                    NativeMethods.DestroyLogicalType(ref nativeTypes[c]);
                }
            }
        }
    }

    private static string[] ColumnNames(ConnectionHandle connection, string? schema, string table, int count)
    {
        var names = new string[count];
        for (var c = 0; c < count; c++)
        {
            names[c] = $"#{c + 1}";
        }

        // Names only make messages readable; without a description the positions do.
        if (NativeMethods.TableDescriptionCreate(connection, schema, table, out var description) == DuckDbState.Success)
        {
            for (var c = 0; c < count; c++)
            {
                var name = NativeMethods.TableDescriptionGetColumnName(description, (ulong)c);
                if (name is not null)
                {
                    names[c] = NativeMethods.Utf8(name)!;
                    NativeMethods.Free(name);
                }
            }
        }

        if (description != 0)
        {
            NativeMethods.TableDescriptionDestroy(ref description);
        }

        return names;
    }

    private static DuckDbException? ReadError(AppenderHandle appender, string operation, string table)
    {
        var errorData = NativeMethods.AppenderErrorData(appender);
        try
        {
            return errorData != 0 && NativeMethods.ErrorDataHasError(errorData)
                ? new DuckDbException(operation, $"{NativeMethods.Utf8(NativeMethods.ErrorDataMessage(errorData))} (table '{table}')", null,
                    (DuckDbErrorType)NativeMethods.ErrorDataErrorType(errorData))
                : null;
        }
        finally
        {
            if (errorData != 0)
            {
                NativeMethods.DestroyErrorData(ref errorData);
            }
        }
    }

    private static bool IsInteger(DuckDbType type) => type is DuckDbType.TinyInt or DuckDbType.SmallInt or DuckDbType.Integer
        or DuckDbType.BigInt or DuckDbType.UTinyInt or DuckDbType.USmallInt or DuckDbType.UInteger or DuckDbType.UBigInt or DuckDbType.HugeInt;

    /// <summary>Hands the filled chunk to DuckDB's appender and starts an empty one.</summary>
    private void HandOver(string operation)
    {
        if (row == 0)
        {
            return;
        }

        NativeMethods.DataChunkSetSize(handle.Chunk, (ulong)row);
        var state = NativeMethods.AppendDataChunk(handle, handle.Chunk);
        NativeMethods.DataChunkReset(handle.Chunk);
        row = 0;
        RefreshVectors();
        if (state != DuckDbState.Success)
        {
            throw Fault(operation);
        }
    }

    /// <summary>Records DuckDB's error, drops what is buffered so nothing half-written lands later, and faults.</summary>
    private DuckDbException Fault(string operation)
    {
        fault = ReadError(handle, operation, table)
            ?? new DuckDbException(operation, $"the appender for '{table}' failed without a message", null);
        _ = NativeMethods.AppenderClear(handle);
        row = 0;
        column = 0;
        return fault;
    }

    // A chunk reset may move buffers and drops validity masks: fetch them again.
    private void RefreshVectors()
    {
        for (var c = 0; c < columns.Length; c++)
        {
            vectors[c] = NativeMethods.DataChunkGetVector(handle.Chunk, (ulong)c);
            data[c] = (nint)NativeMethods.VectorGetData(vectors[c]);
            validity[c] = 0;
        }
    }

    private void EnsureUsable()
    {
        ObjectDisposedException.ThrowIf(handle.IsClosed, this);
        if (fault is not null)
        {
            throw new InvalidOperationException($"The appender for '{table}' failed earlier and cannot be used again; dispose it. First error: {fault.Message}", fault);
        }

        if (closed)
        {
            throw new InvalidOperationException($"The appender for '{table}' is closed.");
        }
    }

    /// <summary>The column the next value goes to, checked to exist; the row in progress is dropped on failure.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Current(string what)
    {
        EnsureUsable();
        if (column >= columns.Length)
        {
            column = 0;
            throw new DuckDbException("append", $"a {what} value was appended past the last of the {columns.Length} columns of '{table}' (missing EndRow?); the row was discarded", null);
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
    private DuckDbAppender Advance()
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
            $"column '{columns[c].Name}' ({columns[c].TypeName}) of '{table}', row {RowsAppended + 1}: {reason}; the row was discarded",
            null, DuckDbErrorType.InvalidInput, inner);
    }
}
