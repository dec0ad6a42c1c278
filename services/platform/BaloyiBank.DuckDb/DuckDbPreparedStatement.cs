using System.Text;
using BaloyiBank.DuckDb.Native;

namespace BaloyiBank.DuckDb;

/// <summary>
/// A prepared statement. Parameters are numbered from 1, like <c>$1</c> in the SQL; bound values
/// stay until rebound or <see cref="ClearBindings"/>. Decimals bind exactly as DECIMAL (never via
/// double); a <see cref="DateTimeOffset"/> binds as its UTC instant in microseconds.
/// Not thread-safe.
/// </summary>
public sealed class DuckDbPreparedStatement : IDisposable
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly PreparedStatementHandle handle;
    private readonly string sql;

    internal DuckDbPreparedStatement(PreparedStatementHandle handle, string sql)
    {
        this.handle = handle;
        this.sql = sql;
        ParameterCount = checked((int)NativeMethods.ParameterCount(handle));
    }

    public int ParameterCount { get; }

    public DuckDbPreparedStatement Bind(int index, string? value)
    {
        if (value is null)
        {
            return BindNull(index);
        }

        byte[] bytes;
        try
        {
            bytes = StrictUtf8.GetBytes(value);
        }
        catch (EncoderFallbackException ex)
        {
            throw new ArgumentException($"Parameter {index}: the string is not valid UTF-16 (a lone surrogate).", nameof(value), ex);
        }

        unsafe
        {
            fixed (byte* text = bytes)
            {
                return Check(index, NativeMethods.BindVarcharLength(Handle(index), (ulong)index, text, (ulong)bytes.Length), "VARCHAR");
            }
        }
    }

    public DuckDbPreparedStatement Bind(int index, long value) =>
        Check(index, NativeMethods.BindInt64(Handle(index), (ulong)index, value), "BIGINT");

    public DuckDbPreparedStatement Bind(int index, int value) =>
        Check(index, NativeMethods.BindInt32(Handle(index), (ulong)index, value), "INTEGER");

    public DuckDbPreparedStatement Bind(int index, short value) =>
        Check(index, NativeMethods.BindInt16(Handle(index), (ulong)index, value), "SMALLINT");

    public DuckDbPreparedStatement Bind(int index, bool value) =>
        Check(index, NativeMethods.BindBoolean(Handle(index), (ulong)index, value), "BOOLEAN");

    public DuckDbPreparedStatement Bind(int index, double value) =>
        Check(index, NativeMethods.BindDouble(Handle(index), (ulong)index, value), "DOUBLE");

    /// <summary>Binds DECIMAL(w, s) with the value's own digits and scale: exact.</summary>
    public DuckDbPreparedStatement Bind(int index, decimal value)
    {
        var native = ValueCodec.ToNativeDecimal(value);
        return Check(index, NativeMethods.BindDecimal(Handle(index), (ulong)index, native), $"DECIMAL({native.Width},{native.Scale})");
    }

    /// <summary>
    /// Binds the UTC instant: as TIMESTAMP when the parameter is a TIMESTAMP, otherwise as TIMESTAMP WITH
    /// TIME ZONE, so no session time zone is applied either way. Sub-microsecond ticks are dropped.
    /// </summary>
    public DuckDbPreparedStatement Bind(int index, DateTimeOffset value)
    {
        var statement = Handle(index);
        var micros = new DuckDbTimestampNative { Micros = ValueCodec.ToMicros(value) };
        return (DuckDbType)NativeMethods.ParameterType(statement, (ulong)index) == DuckDbType.Timestamp
            ? Check(index, NativeMethods.BindTimestamp(statement, (ulong)index, micros), "TIMESTAMP")
            : Check(index, NativeMethods.BindTimestampTz(statement, (ulong)index, micros), "TIMESTAMP WITH TIME ZONE");
    }

    public DuckDbPreparedStatement Bind(int index, DateOnly value) =>
        Check(index, NativeMethods.BindDate(Handle(index), (ulong)index, new DuckDbDateNative { Days = ValueCodec.ToDays(value) }), "DATE");

    public DuckDbPreparedStatement Bind(int index, byte[]? value) =>
        value is null ? BindNull(index) : Bind(index, value.AsSpan());

    public unsafe DuckDbPreparedStatement Bind(int index, ReadOnlySpan<byte> value)
    {
        fixed (byte* bytes = value)
        {
            // A non-null pointer even for an empty blob.
            byte empty = 0;
            var pointer = bytes is null ? &empty : bytes;
            return Check(index, NativeMethods.BindBlob(Handle(index), (ulong)index, pointer, (ulong)value.Length), "BLOB");
        }
    }

    public DuckDbPreparedStatement Bind(int index, Guid value)
    {
        var statement = Handle(index);
        var uuid = NativeMethods.CreateUuid(ValueCodec.ToUuidValue(value));
        try
        {
            return Check(index, NativeMethods.BindValue(statement, (ulong)index, uuid), "UUID");
        }
        finally
        {
            NativeMethods.DestroyValue(ref uuid);
        }
    }

    public DuckDbPreparedStatement BindNull(int index) =>
        Check(index, NativeMethods.BindNull(Handle(index), (ulong)index), "NULL");

    /// <summary>Binds any supported value by its runtime type (null binds NULL).</summary>
    public DuckDbPreparedStatement Bind(int index, object? value) => value switch
    {
        null or DBNull => BindNull(index),
        string v => Bind(index, v),
        long v => Bind(index, v),
        int v => Bind(index, v),
        short v => Bind(index, v),
        bool v => Bind(index, v),
        double v => Bind(index, v),
        decimal v => Bind(index, v),
        DateTimeOffset v => Bind(index, v),
        DateTime v => Bind(index, v.Kind == DateTimeKind.Utc
            ? new DateTimeOffset(v)
            : throw new ArgumentException($"Parameter {index}: bind DateTime only with Kind=Utc (or use DateTimeOffset).", nameof(value))),
        DateOnly v => Bind(index, v),
        byte[] v => Bind(index, v),
        Guid v => Bind(index, v),
        _ => throw new ArgumentException($"Parameter {index}: cannot bind a {value.GetType().Name}.", nameof(value)),
    };

    public void ClearBindings()
    {
        ObjectDisposedException.ThrowIf(handle.IsClosed, this);
        if (NativeMethods.ClearBindings(handle) != DuckDbState.Success)
        {
            throw new DuckDbException("bind", "duckdb_clear_bindings failed", sql);
        }
    }

    /// <summary>Runs the statement; returns the rows it inserted, updated or deleted.</summary>
    public long Execute()
    {
        using var result = Query();
        return result.RowsChanged;
    }

    /// <summary>Runs the statement and returns its materialized result (dispose it).</summary>
    public DuckDbResult Query()
    {
        ObjectDisposedException.ThrowIf(handle.IsClosed, this);
        var result = ResultHandle.Allocate();
        try
        {
            if (NativeMethods.ExecutePrepared(handle, result) != DuckDbState.Success)
            {
                throw DuckDbResult.Error(result, "execute", sql);
            }

            return new DuckDbResult(result, sql);
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    public void Dispose() => handle.Dispose();

    private PreparedStatementHandle Handle(int index)
    {
        ObjectDisposedException.ThrowIf(handle.IsClosed, this);
        if (index < 1 || index > ParameterCount)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index,
                $"Parameters are numbered 1 to {ParameterCount} for this statement. SQL: {sql}");
        }

        return handle;
    }

    private DuckDbPreparedStatement Check(int index, DuckDbState state, string type) =>
        state == DuckDbState.Success
            ? this
            : throw new DuckDbException("bind", $"DuckDB rejected a {type} value for parameter {index}", sql);
}
