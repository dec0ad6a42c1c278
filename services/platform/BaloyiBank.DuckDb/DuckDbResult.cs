using System.Text;
using BaloyiBank.DuckDb.Native;

namespace BaloyiBank.DuckDb;

/// <summary>
/// A query result, read forward row by row with <see cref="Read"/> and typed getters; underneath
/// it walks DuckDB's data chunks (up to 2,048 rows each) and reads the column vectors in place.
/// Getters convert only where that is exact (wider integers, DECIMAL to decimal) and otherwise
/// throw <see cref="InvalidCastException"/>; a NULL throws too, so check <see cref="IsNull"/>.
/// Not thread-safe.
/// </summary>
public sealed unsafe class DuckDbResult : IDisposable
{
    private readonly ResultHandle handle;
    private readonly string sql;
    private readonly DuckDbColumn[] columns;
    private readonly DuckDbType[] storage;
    private readonly nint[] data;
    private readonly nint[] validity;
    private long row = -1;
    private long size;
    private bool finished;

    internal DuckDbResult(ResultHandle handle, string sql)
    {
        this.handle = handle;
        this.sql = sql;
        (columns, storage) = DescribeColumns(handle);
        data = new nint[columns.Length];
        validity = new nint[columns.Length];

        RowsChanged = (long)NativeMethods.RowsChanged(handle);
    }

    /// <summary>The result's columns, in order.</summary>
    public IReadOnlyList<DuckDbColumn> Columns => columns;

    public int ColumnCount => columns.Length;

    /// <summary>Rows inserted, updated or deleted by the statement (0 for queries).</summary>
    public long RowsChanged { get; }

    /// <summary>Column names, in order.</summary>
    public IReadOnlyList<string> ColumnNames => [.. columns.Select(c => c.Name)];

    /// <summary>The index of the column called <paramref name="name"/> (case-insensitive).</summary>
    public int GetOrdinal(string name)
    {
        for (var c = 0; c < columns.Length; c++)
        {
            if (string.Equals(columns[c].Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return c;
            }
        }

        throw new ArgumentException($"The result has no column '{name}' (it has {string.Join(", ", columns.Select(c => c.Name))}).", nameof(name));
    }

    /// <summary>Moves to the next row; false at the end.</summary>
    public bool Read()
    {
        ObjectDisposedException.ThrowIf(handle.IsClosed, this);
        if (finished)
        {
            return false;
        }

        row++;
        while (row >= size)
        {
            handle.DestroyChunk();
            var chunk = NativeMethods.FetchChunk(*handle.Pointer);
            GC.KeepAlive(handle);
            if (chunk == 0)
            {
                finished = true;
                row = -1;
                size = 0;
                return false;
            }

            handle.Chunk = chunk;
            size = (long)NativeMethods.DataChunkGetSize(chunk);
            row = 0;
            for (var c = 0; c < columns.Length; c++)
            {
                var vector = NativeMethods.DataChunkGetVector(chunk, (ulong)c);
                data[c] = (nint)NativeMethods.VectorGetData(vector);
                validity[c] = (nint)NativeMethods.VectorGetValidity(vector);
            }
        }

        return true;
    }

    /// <summary>Reads every remaining row as <see cref="GetValue"/> values (for tests and small results).</summary>
    public List<object?[]> ReadAll()
    {
        List<object?[]> rows = [];
        while (Read())
        {
            var values = new object?[columns.Length];
            for (var c = 0; c < values.Length; c++)
            {
                values[c] = GetValue(c);
            }

            rows.Add(values);
        }

        return rows;
    }

    public bool IsNull(int column)
    {
        Check(column);
        var mask = (ulong*)validity[column];
        return mask is not null && (mask[row >> 6] & (1UL << (int)(row & 63))) == 0;
    }

    public string GetString(int column) => storage[Value(column)] switch
    {
        DuckDbType.Varchar => ReadString(column),
        var other => throw Mismatch(column, "string", other),
    };

    public byte[] GetBlob(int column) => storage[Value(column)] switch
    {
        DuckDbType.Blob or DuckDbType.Varchar => ReadBytes(column).ToArray(),
        var other => throw Mismatch(column, "byte[]", other),
    };

    public bool GetBoolean(int column) => storage[Value(column)] switch
    {
        DuckDbType.Boolean => *Cell<byte>(column) != 0,
        var other => throw Mismatch(column, "bool", other),
    };

    public long GetInt64(int column)
    {
        var type = storage[Value(column)];
        if (columns[column].Type == DuckDbType.Decimal)
        {
            throw Mismatch(column, "long", DuckDbType.Decimal);
        }

        try
        {
            return type switch
            {
                DuckDbType.TinyInt => *Cell<sbyte>(column),
                DuckDbType.SmallInt => *Cell<short>(column),
                DuckDbType.Integer => *Cell<int>(column),
                DuckDbType.BigInt => *Cell<long>(column),
                DuckDbType.UTinyInt => *Cell<byte>(column),
                DuckDbType.USmallInt => *Cell<ushort>(column),
                DuckDbType.UInteger => *Cell<uint>(column),
                DuckDbType.UBigInt => checked((long)*Cell<ulong>(column)),
                DuckDbType.HugeInt => checked((long)ReadHugeInt(column)),
                DuckDbType.UHugeInt => checked((long)ReadUHugeInt(column)),
                _ => throw Mismatch(column, "long", type),
            };
        }
        catch (OverflowException ex)
        {
            throw new OverflowException($"Column '{columns[column].Name}' ({columns[column].TypeName}) holds a value that does not fit a long.", ex);
        }
    }

    public int GetInt32(int column) => Narrow<int>(column, GetInt64(column));

    public short GetInt16(int column) => Narrow<short>(column, GetInt64(column));

    public double GetDouble(int column)
    {
        var type = columns[Value(column)].Type;
        return type switch
        {
            DuckDbType.Double => *Cell<double>(column),
            DuckDbType.Float => *Cell<float>(column),
            DuckDbType.Decimal => (double)GetDecimal(column),
            DuckDbType.TinyInt or DuckDbType.SmallInt or DuckDbType.Integer or DuckDbType.BigInt
                or DuckDbType.UTinyInt or DuckDbType.USmallInt or DuckDbType.UInteger => GetInt64(column),
            _ => throw Mismatch(column, "double", type),
        };
    }

    /// <summary>DECIMAL of any width (exact), or an integer column, as <see cref="decimal"/>.</summary>
    public decimal GetDecimal(int column)
    {
        var info = columns[Value(column)];
        switch (info.Type)
        {
            case DuckDbType.Decimal:
                break;
            case DuckDbType.HugeInt:
                return ValueCodec.FromScaled(ReadHugeInt(column), 0);
            case DuckDbType.UHugeInt:
                return ValueCodec.FromScaled(checked((Int128)ReadUHugeInt(column)), 0);
            case DuckDbType.UBigInt:
                return *Cell<ulong>(column);
            default:
                return GetInt64(column);
        }

        Int128 unscaled = storage[column] switch
        {
            DuckDbType.SmallInt => *Cell<short>(column),
            DuckDbType.Integer => *Cell<int>(column),
            DuckDbType.BigInt => *Cell<long>(column),
            DuckDbType.HugeInt => ReadHugeInt(column),
            var other => throw Mismatch(column, "decimal", other),
        };
        return ValueCodec.FromScaled(unscaled, info.DecimalScale);
    }

    /// <summary>TIMESTAMP (taken as UTC) or TIMESTAMP WITH TIME ZONE, as a UTC <see cref="DateTimeOffset"/>.</summary>
    public DateTimeOffset GetTimestamp(int column)
    {
        var type = storage[Value(column)];
        return type switch
        {
            DuckDbType.Timestamp or DuckDbType.TimestampTz => ValueCodec.FromMicros(*Cell<long>(column)),
            DuckDbType.TimestampMs => ValueCodec.FromTicksSinceEpoch(*Cell<long>(column), TimeSpan.TicksPerMillisecond, "TIMESTAMP_MS"),
            DuckDbType.TimestampS => ValueCodec.FromTicksSinceEpoch(*Cell<long>(column), TimeSpan.TicksPerSecond, "TIMESTAMP_S"),
            // Nanoseconds below DateTimeOffset's 100 ns tick are dropped (floored).
            DuckDbType.TimestampNs => ValueCodec.FromTicksSinceEpoch(ValueCodec.FloorDiv(*Cell<long>(column), 100), 1, "TIMESTAMP_NS"),
            _ => throw Mismatch(column, "DateTimeOffset", type),
        };
    }

    public DateOnly GetDate(int column) => storage[Value(column)] switch
    {
        DuckDbType.Date => ValueCodec.FromDays(*Cell<int>(column)),
        var other => throw Mismatch(column, "DateOnly", other),
    };

    public Guid GetGuid(int column) => storage[Value(column)] switch
    {
        DuckDbType.Uuid => ValueCodec.FromUuid(Cell<DuckDbHugeInt>(column)->Lower, Cell<DuckDbHugeInt>(column)->Upper),
        var other => throw Mismatch(column, "Guid", other),
    };

    /// <summary>
    /// The value as its natural .NET type (null for NULL): bool, sbyte/short/int/long, byte/ushort/uint/ulong,
    /// Int128/UInt128, float, double, decimal, string, byte[], DateOnly, TimeOnly, DateTimeOffset (UTC), Guid.
    /// Other types (LIST, STRUCT, INTERVAL, ENUM …) throw <see cref="NotSupportedException"/>: cast them in SQL.
    /// </summary>
    public object? GetValue(int column)
    {
        if (IsNull(column))
        {
            return null;
        }

        return columns[column].Type switch
        {
            DuckDbType.Boolean => GetBoolean(column),
            DuckDbType.TinyInt => *Cell<sbyte>(column),
            DuckDbType.SmallInt => *Cell<short>(column),
            DuckDbType.Integer => *Cell<int>(column),
            DuckDbType.BigInt => *Cell<long>(column),
            DuckDbType.UTinyInt => *Cell<byte>(column),
            DuckDbType.USmallInt => *Cell<ushort>(column),
            DuckDbType.UInteger => *Cell<uint>(column),
            DuckDbType.UBigInt => *Cell<ulong>(column),
            DuckDbType.HugeInt => ReadHugeInt(column),
            DuckDbType.UHugeInt => ReadUHugeInt(column),
            DuckDbType.Float => *Cell<float>(column),
            DuckDbType.Double => *Cell<double>(column),
            DuckDbType.Decimal => GetDecimal(column),
            DuckDbType.Varchar => ReadString(column),
            DuckDbType.Blob => GetBlob(column),
            DuckDbType.Date => GetDate(column),
            DuckDbType.Time => new TimeOnly(*Cell<long>(column) * 10),
            DuckDbType.Timestamp or DuckDbType.TimestampTz or DuckDbType.TimestampS
                or DuckDbType.TimestampMs or DuckDbType.TimestampNs => GetTimestamp(column),
            DuckDbType.Uuid => GetGuid(column),
            var other => throw new NotSupportedException(
                $"Column '{columns[column].Name}' is {DuckDbTypeNames.Of(other)}, which this library does not read; cast it in SQL (e.g. ::VARCHAR)."),
        };
    }

    /// <summary>
    /// The value as <typeparamref name="T"/> through the typed getters (string, long, int, short, bool, double,
    /// decimal, DateTimeOffset, DateOnly, byte[], Guid, object, or a nullable of those).
    /// NULL gives null for a nullable <typeparamref name="T"/> and throws otherwise.
    /// </summary>
    public T Get<T>(int column)
    {
        if (IsNull(column))
        {
            return default(T) is null
                ? default!
                : throw new InvalidCastException($"Column '{columns[column].Name}' is NULL; read it as {typeof(T).Name}? to accept NULL.");
        }

        var type = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        object value =
            type == typeof(string) ? GetString(column)
            : type == typeof(long) ? GetInt64(column)
            : type == typeof(int) ? GetInt32(column)
            : type == typeof(short) ? GetInt16(column)
            : type == typeof(bool) ? GetBoolean(column)
            : type == typeof(double) ? GetDouble(column)
            : type == typeof(decimal) ? GetDecimal(column)
            : type == typeof(DateTimeOffset) ? GetTimestamp(column)
            : type == typeof(DateOnly) ? GetDate(column)
            : type == typeof(byte[]) ? GetBlob(column)
            : type == typeof(Guid) ? GetGuid(column)
            : type == typeof(object) ? GetValue(column)!
            : throw new InvalidCastException($"Reading as {typeof(T).Name} is not supported; use GetValue.");
        return (T)value;
    }

    public void Dispose() => handle.Dispose();

    internal static DuckDbException Error(ResultHandle result, string operation, string? sql)
    {
        var message = NativeMethods.Utf8(NativeMethods.ResultError(result));
        var type = (DuckDbErrorType)NativeMethods.ResultErrorType(result);
        return new DuckDbException(operation, message, sql, type);
    }

    /// <summary>Column info plus how values are stored (a DECIMAL's integer width).</summary>
    /// <summary>Every column of a result: its description and the physical type its values are stored as.</summary>
    internal static (DuckDbColumn[] Columns, DuckDbType[] Storage) DescribeColumns(ResultHandle handle)
    {
        var count = checked((int)NativeMethods.ColumnCount(handle));
        var columns = new DuckDbColumn[count];
        var storage = new DuckDbType[count];
        for (var c = 0; c < count; c++)
        {
            var name = NativeMethods.Utf8(NativeMethods.ColumnName(handle, (ulong)c)) ?? $"column{c}";
            var logical = NativeMethods.ColumnLogicalType(handle, (ulong)c);
            try
            {
                (columns[c], storage[c]) = Describe(name, logical);
            }
            finally
            {
                NativeMethods.DestroyLogicalType(ref logical);
            }
        }

        return (columns, storage);
    }

    internal static (DuckDbColumn Column, DuckDbType Storage) Describe(string name, nint logicalType)
    {
        var type = (DuckDbType)NativeMethods.GetTypeId(logicalType);
        if (type != DuckDbType.Decimal)
        {
            return (new DuckDbColumn(name, type), type);
        }

        var column = new DuckDbColumn(name, type, NativeMethods.DecimalWidth(logicalType), NativeMethods.DecimalScale(logicalType));
        return (column, (DuckDbType)NativeMethods.DecimalInternalType(logicalType));
    }

    private void Check(int column)
    {
        ObjectDisposedException.ThrowIf(handle.IsClosed, this);
        if (row < 0)
        {
            throw new InvalidOperationException("No current row: call Read() first (and only while it returns true).");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(column);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(column, columns.Length);
    }

    /// <summary>Checks the position and that the value is not NULL; returns the column for chaining.</summary>
    private int Value(int column)
    {
        if (IsNull(column))
        {
            throw new InvalidCastException($"Column '{columns[column].Name}' is NULL at this row; check IsNull first.");
        }

        return column;
    }

    private T* Cell<T>(int column)
        where T : unmanaged => (T*)data[column] + row;

    private Int128 ReadHugeInt(int column)
    {
        var cell = Cell<DuckDbHugeInt>(column);
        return ValueCodec.FromHugeInt(cell->Lower, cell->Upper);
    }

    private UInt128 ReadUHugeInt(int column)
    {
        var cell = Cell<DuckDbUHugeInt>(column);
        return new UInt128(cell->Upper, cell->Lower);
    }

    // duckdb_string_t: 4-byte length, then 12 inline bytes, or a 4-byte prefix and a pointer.
    private ReadOnlySpan<byte> ReadBytes(int column)
    {
        var cell = (byte*)data[column] + (row * 16);
        var length = *(uint*)cell;
        var bytes = length <= 12 ? cell + 4 : *(byte**)(cell + 8);
        return new ReadOnlySpan<byte>(bytes, checked((int)length));
    }

    private string ReadString(int column) => Encoding.UTF8.GetString(ReadBytes(column));

    private T Narrow<T>(int column, long value)
        where T : struct, System.Numerics.INumberBase<T>
    {
        try
        {
            return T.CreateChecked(value);
        }
        catch (OverflowException ex)
        {
            throw new OverflowException($"Column '{columns[column].Name}' holds {value}, which does not fit {typeof(T).Name}.", ex);
        }
    }

    private InvalidCastException Mismatch(int column, string wanted, DuckDbType storedAs) =>
        new($"Column '{columns[column].Name}' is {columns[column].TypeName}" +
            (storedAs != columns[column].Type ? $" (stored as {DuckDbTypeNames.Of(storedAs)})" : string.Empty) +
            $"; it cannot be read as {wanted}. SQL: {sql}");
}
