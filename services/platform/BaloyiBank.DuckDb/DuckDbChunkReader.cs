using System.Text;
using BaloyiBank.DuckDb.Native;

namespace BaloyiBank.DuckDb;

/// <summary>
/// A query result read a data chunk at a time (up to 2,048 rows): each column of the current chunk is a span over
/// DuckDB's own vector, so a caller moving millions of rows reads them without a call, a type switch or an
/// allocation per value. Fixed-width columns come as their storage integers (a DECIMAL as its unscaled integer, a
/// DATE as days and a TIMESTAMP as microseconds since the Unix epoch, a BOOLEAN as one byte); strings by row.
/// Spans are valid until the next <see cref="NextChunk"/> or <see cref="Dispose"/>. Not thread-safe.
/// </summary>
public sealed unsafe class DuckDbChunkReader : IDisposable
{
    private readonly ResultHandle handle;
    private readonly string sql;
    private readonly DuckDbColumn[] columns;
    private readonly DuckDbType[] storage;
    private readonly nint[] data;
    private readonly nint[] validity;
    private bool finished;

    private DuckDbChunkReader(ResultHandle handle, string sql)
    {
        this.handle = handle;
        this.sql = sql;
        (columns, storage) = DuckDbResult.DescribeColumns(handle);
        data = new nint[columns.Length];
        validity = new nint[columns.Length];
    }

    /// <summary>Runs a query for chunk-wise reading (dispose the reader).</summary>
    public static DuckDbChunkReader Query(DuckDbConnection connection, string sql)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(sql);
        var native = connection.Handle;
        var result = ResultHandle.Allocate();
        try
        {
            if (NativeMethods.Query(native, sql, result) != DuckDbState.Success)
            {
                throw DuckDbResult.Error(result, "query", sql);
            }

            return new DuckDbChunkReader(result, sql);
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    /// <summary>The result's columns, in order.</summary>
    public IReadOnlyList<DuckDbColumn> Columns => columns;

    /// <summary>Rows in the current chunk (0 before the first <see cref="NextChunk"/> and after the last).</summary>
    public int RowCount { get; private set; }

    /// <summary>Moves to the next chunk; false at the end of the result.</summary>
    public bool NextChunk()
    {
        ObjectDisposedException.ThrowIf(handle.IsClosed, this);
        while (!finished)
        {
            handle.DestroyChunk();
            var chunk = NativeMethods.FetchChunk(*handle.Pointer);
            GC.KeepAlive(handle);
            if (chunk == 0)
            {
                finished = true;
                RowCount = 0;
                return false;
            }

            handle.Chunk = chunk;
            RowCount = checked((int)NativeMethods.DataChunkGetSize(chunk));
            for (var c = 0; c < columns.Length; c++)
            {
                var vector = NativeMethods.DataChunkGetVector(chunk, (ulong)c);
                data[c] = (nint)NativeMethods.VectorGetData(vector);
                validity[c] = (nint)NativeMethods.VectorGetValidity(vector);
            }

            if (RowCount > 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when the column holds no NULL in the current chunk (then <see cref="IsNull"/> need not be asked).</summary>
    public bool HasNoNulls(int column)
    {
        CheckColumn(column);
        var mask = (ulong*)validity[column];
        if (mask is null)
        {
            return true;
        }

        var full = RowCount >> 6;
        for (var i = 0; i < full; i++)
        {
            if (mask[i] != ulong.MaxValue)
            {
                return false;
            }
        }

        var rest = RowCount & 63;
        return rest == 0 || (mask[full] | ~((1UL << rest) - 1)) == ulong.MaxValue;
    }

    public bool IsNull(int column, int row)
    {
        CheckRow(column, row);
        var mask = (ulong*)validity[column];
        return mask is not null && (mask[row >> 6] & (1UL << (row & 63))) == 0;
    }

    /// <summary>INTEGER, DATE (days since 1970-01-01) or a DECIMAL stored as INTEGER, as stored. NULL rows hold garbage.</summary>
    public ReadOnlySpan<int> Int32Values(int column) => Values<int>(column, "int", DuckDbType.Integer, DuckDbType.Date);

    /// <summary>
    /// BIGINT, TIMESTAMP / TIMESTAMP WITH TIME ZONE (microseconds since the Unix epoch) or a DECIMAL stored as BIGINT
    /// (its unscaled integer: a DECIMAL(18,2) gives whole cents), as stored. NULL rows hold garbage.
    /// </summary>
    public ReadOnlySpan<long> Int64Values(int column) => Values<long>(column, "long", DuckDbType.BigInt, DuckDbType.Timestamp, DuckDbType.TimestampTz);

    /// <summary>BOOLEAN as one byte per row (0 = false). NULL rows hold garbage.</summary>
    public ReadOnlySpan<byte> BooleanValues(int column) => Values<byte>(column, "bool", DuckDbType.Boolean);

    /// <summary>The UTF-8 bytes of a VARCHAR (or BLOB) value, in place (valid until the next chunk).</summary>
    public ReadOnlySpan<byte> Utf8(int column, int row)
    {
        CheckRow(column, row);
        if (storage[column] is not (DuckDbType.Varchar or DuckDbType.Blob))
        {
            throw Mismatch(column, "string");
        }

        // duckdb_string_t: 4-byte length, then 12 inline bytes, or a 4-byte prefix and a pointer.
        var cell = (byte*)data[column] + ((long)row * 16);
        var length = *(uint*)cell;
        var bytes = length <= 12 ? cell + 4 : *(byte**)(cell + 8);
        return new ReadOnlySpan<byte>(bytes, checked((int)length));
    }

    public string GetString(int column, int row) => Encoding.UTF8.GetString(Utf8(column, row));

    public void Dispose() => handle.Dispose();

    private ReadOnlySpan<T> Values<T>(int column, string wanted, params ReadOnlySpan<DuckDbType> types)
        where T : unmanaged
    {
        CheckColumn(column);
        if (!types.Contains(storage[column]))
        {
            throw Mismatch(column, wanted);
        }

        return RowCount == 0 ? default : new ReadOnlySpan<T>((void*)data[column], RowCount);
    }

    private void CheckColumn(int column)
    {
        ObjectDisposedException.ThrowIf(handle.IsClosed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(column);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(column, columns.Length);
    }

    private void CheckRow(int column, int row)
    {
        CheckColumn(column);
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, RowCount);
    }

    private InvalidCastException Mismatch(int column, string wanted) =>
        new($"Column '{columns[column].Name}' is {columns[column].TypeName}" +
            (storage[column] != columns[column].Type ? $" (stored as {DuckDbTypeNames.Of(storage[column])})" : string.Empty) +
            $"; it cannot be read as {wanted} values. SQL: {sql}");
}
