using System.Runtime.InteropServices;

namespace BaloyiBank.DuckDb.Native;

// duckdb_state: DuckDBSuccess = 0, DuckDBError = 1.
internal enum DuckDbState
{
    Success = 0,
    Error = 1,
}

// duckdb_result: six pointer-sized words; only ever touched through the accessor functions.
[StructLayout(LayoutKind.Sequential)]
internal struct DuckDbResultNative
{
    public ulong DeprecatedColumnCount;
    public ulong DeprecatedRowCount;
    public ulong DeprecatedRowsChanged;
    public nint DeprecatedColumns;
    public nint DeprecatedErrorMessage;
    public nint InternalData;
}

// duckdb_hugeint: value = upper * 2^64 + lower.
[StructLayout(LayoutKind.Sequential)]
internal struct DuckDbHugeInt
{
    public ulong Lower;
    public long Upper;
}

// duckdb_uhugeint (UUID values are passed as one).
[StructLayout(LayoutKind.Sequential)]
internal struct DuckDbUHugeInt
{
    public ulong Lower;
    public ulong Upper;
}

// duckdb_decimal: width and scale bytes, then the hugeint at offset 8 (24 bytes in all).
[StructLayout(LayoutKind.Sequential)]
internal struct DuckDbDecimalNative
{
    public byte Width;
    public byte Scale;
    public DuckDbHugeInt Value;
}

// duckdb_timestamp: microseconds since 1970-01-01 (UTC for TIMESTAMP WITH TIME ZONE).
[StructLayout(LayoutKind.Sequential)]
internal struct DuckDbTimestampNative
{
    public long Micros;
}

// duckdb_date: days since 1970-01-01.
[StructLayout(LayoutKind.Sequential)]
internal struct DuckDbDateNative
{
    public int Days;
}

/// <summary>
/// The subset of DuckDB's C API (duckdb.h, v1.5) this library uses. Handles that must be freed
/// exactly once travel as <see cref="SafeHandle"/>s; chunks, vectors and logical types are raw
/// pointers owned by the code that created them.
/// </summary>
internal static unsafe partial class NativeMethods
{
    private const string Lib = "duckdb";

    // ---- Open / connect / configuration -------------------------------------------------

    [LibraryImport(Lib, EntryPoint = "duckdb_library_version")]
    internal static partial byte* LibraryVersion();

    [LibraryImport(Lib, EntryPoint = "duckdb_create_config")]
    internal static partial DuckDbState CreateConfig(out nint config);

    [LibraryImport(Lib, EntryPoint = "duckdb_set_config", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial DuckDbState SetConfig(nint config, string name, string option);

    [LibraryImport(Lib, EntryPoint = "duckdb_destroy_config")]
    internal static partial void DestroyConfig(ref nint config);

    [LibraryImport(Lib, EntryPoint = "duckdb_open_ext", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial DuckDbState OpenExt(string? path, out DatabaseHandle database, nint config, out byte* error);

    [LibraryImport(Lib, EntryPoint = "duckdb_create_instance_cache")]
    internal static partial nint CreateInstanceCache();

    [LibraryImport(Lib, EntryPoint = "duckdb_get_or_create_from_cache", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial DuckDbState GetOrCreateFromCache(nint instanceCache, string path, out DatabaseHandle database, nint config, out byte* error);

    [LibraryImport(Lib, EntryPoint = "duckdb_close")]
    internal static partial void Close(ref nint database);

    [LibraryImport(Lib, EntryPoint = "duckdb_connect")]
    internal static partial DuckDbState Connect(DatabaseHandle database, out ConnectionHandle connection);

    [LibraryImport(Lib, EntryPoint = "duckdb_disconnect")]
    internal static partial void Disconnect(ref nint connection);

    [LibraryImport(Lib, EntryPoint = "duckdb_free")]
    internal static partial void Free(void* pointer);

    [LibraryImport(Lib, EntryPoint = "duckdb_vector_size")]
    internal static partial ulong VectorSize();

    // ---- Query execution and results ------------------------------------------------------

    [LibraryImport(Lib, EntryPoint = "duckdb_query", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial DuckDbState Query(ConnectionHandle connection, string query, ResultHandle result);

    [LibraryImport(Lib, EntryPoint = "duckdb_destroy_result")]
    internal static partial void DestroyResult(DuckDbResultNative* result);

    [LibraryImport(Lib, EntryPoint = "duckdb_result_error")]
    internal static partial byte* ResultError(ResultHandle result);

    [LibraryImport(Lib, EntryPoint = "duckdb_result_error_type")]
    internal static partial int ResultErrorType(ResultHandle result);

    [LibraryImport(Lib, EntryPoint = "duckdb_column_count")]
    internal static partial ulong ColumnCount(ResultHandle result);

    [LibraryImport(Lib, EntryPoint = "duckdb_column_name")]
    internal static partial byte* ColumnName(ResultHandle result, ulong column);

    [LibraryImport(Lib, EntryPoint = "duckdb_column_logical_type")]
    internal static partial nint ColumnLogicalType(ResultHandle result, ulong column);

    [LibraryImport(Lib, EntryPoint = "duckdb_rows_changed")]
    internal static partial ulong RowsChanged(ResultHandle result);

    // Takes duckdb_result by value (a 48-byte struct): the caller dereferences its handle.
    [LibraryImport(Lib, EntryPoint = "duckdb_fetch_chunk")]
    internal static partial nint FetchChunk(DuckDbResultNative result);

    // ---- Logical types -----------------------------------------------------------------

    [LibraryImport(Lib, EntryPoint = "duckdb_get_type_id")]
    internal static partial int GetTypeId(nint logicalType);

    [LibraryImport(Lib, EntryPoint = "duckdb_decimal_width")]
    internal static partial byte DecimalWidth(nint logicalType);

    [LibraryImport(Lib, EntryPoint = "duckdb_decimal_scale")]
    internal static partial byte DecimalScale(nint logicalType);

    [LibraryImport(Lib, EntryPoint = "duckdb_decimal_internal_type")]
    internal static partial int DecimalInternalType(nint logicalType);

    [LibraryImport(Lib, EntryPoint = "duckdb_destroy_logical_type")]
    internal static partial void DestroyLogicalType(ref nint logicalType);

    // ---- Data chunks, vectors, validity ----------------------------------------------------

    [LibraryImport(Lib, EntryPoint = "duckdb_create_data_chunk")]
    internal static partial nint CreateDataChunk(nint* types, ulong columnCount);

    [LibraryImport(Lib, EntryPoint = "duckdb_destroy_data_chunk")]
    internal static partial void DestroyDataChunk(ref nint chunk);

    [LibraryImport(Lib, EntryPoint = "duckdb_data_chunk_reset")]
    internal static partial void DataChunkReset(nint chunk);

    [LibraryImport(Lib, EntryPoint = "duckdb_data_chunk_get_size")]
    internal static partial ulong DataChunkGetSize(nint chunk);

    [LibraryImport(Lib, EntryPoint = "duckdb_data_chunk_set_size")]
    internal static partial void DataChunkSetSize(nint chunk, ulong size);

    [LibraryImport(Lib, EntryPoint = "duckdb_data_chunk_get_vector")]
    internal static partial nint DataChunkGetVector(nint chunk, ulong column);

    [LibraryImport(Lib, EntryPoint = "duckdb_vector_get_data")]
    internal static partial void* VectorGetData(nint vector);

    [LibraryImport(Lib, EntryPoint = "duckdb_vector_get_validity")]
    internal static partial ulong* VectorGetValidity(nint vector);

    [LibraryImport(Lib, EntryPoint = "duckdb_vector_ensure_validity_writable")]
    internal static partial void VectorEnsureValidityWritable(nint vector);

    [LibraryImport(Lib, EntryPoint = "duckdb_vector_assign_string_element_len")]
    internal static partial void VectorAssignStringElementLen(nint vector, ulong index, byte* value, ulong length);

    // ---- Prepared statements ---------------------------------------------------------------

    [LibraryImport(Lib, EntryPoint = "duckdb_prepare", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial DuckDbState Prepare(ConnectionHandle connection, string query, out PreparedStatementHandle statement);

    [LibraryImport(Lib, EntryPoint = "duckdb_destroy_prepare")]
    internal static partial void DestroyPrepare(ref nint statement);

    [LibraryImport(Lib, EntryPoint = "duckdb_prepare_error")]
    internal static partial byte* PrepareError(PreparedStatementHandle statement);

    [LibraryImport(Lib, EntryPoint = "duckdb_nparams")]
    internal static partial ulong ParameterCount(PreparedStatementHandle statement);

    [LibraryImport(Lib, EntryPoint = "duckdb_param_type")]
    internal static partial int ParameterType(PreparedStatementHandle statement, ulong index);

    [LibraryImport(Lib, EntryPoint = "duckdb_clear_bindings")]
    internal static partial DuckDbState ClearBindings(PreparedStatementHandle statement);

    [LibraryImport(Lib, EntryPoint = "duckdb_bind_boolean")]
    internal static partial DuckDbState BindBoolean(PreparedStatementHandle statement, ulong index, [MarshalAs(UnmanagedType.U1)] bool value);

    [LibraryImport(Lib, EntryPoint = "duckdb_bind_int16")]
    internal static partial DuckDbState BindInt16(PreparedStatementHandle statement, ulong index, short value);

    [LibraryImport(Lib, EntryPoint = "duckdb_bind_int32")]
    internal static partial DuckDbState BindInt32(PreparedStatementHandle statement, ulong index, int value);

    [LibraryImport(Lib, EntryPoint = "duckdb_bind_int64")]
    internal static partial DuckDbState BindInt64(PreparedStatementHandle statement, ulong index, long value);

    [LibraryImport(Lib, EntryPoint = "duckdb_bind_double")]
    internal static partial DuckDbState BindDouble(PreparedStatementHandle statement, ulong index, double value);

    [LibraryImport(Lib, EntryPoint = "duckdb_bind_decimal")]
    internal static partial DuckDbState BindDecimal(PreparedStatementHandle statement, ulong index, DuckDbDecimalNative value);

    [LibraryImport(Lib, EntryPoint = "duckdb_bind_date")]
    internal static partial DuckDbState BindDate(PreparedStatementHandle statement, ulong index, DuckDbDateNative value);

    [LibraryImport(Lib, EntryPoint = "duckdb_bind_timestamp")]
    internal static partial DuckDbState BindTimestamp(PreparedStatementHandle statement, ulong index, DuckDbTimestampNative value);

    [LibraryImport(Lib, EntryPoint = "duckdb_bind_timestamp_tz")]
    internal static partial DuckDbState BindTimestampTz(PreparedStatementHandle statement, ulong index, DuckDbTimestampNative value);

    [LibraryImport(Lib, EntryPoint = "duckdb_bind_varchar_length")]
    internal static partial DuckDbState BindVarcharLength(PreparedStatementHandle statement, ulong index, byte* value, ulong length);

    [LibraryImport(Lib, EntryPoint = "duckdb_bind_blob")]
    internal static partial DuckDbState BindBlob(PreparedStatementHandle statement, ulong index, void* data, ulong length);

    [LibraryImport(Lib, EntryPoint = "duckdb_bind_null")]
    internal static partial DuckDbState BindNull(PreparedStatementHandle statement, ulong index);

    [LibraryImport(Lib, EntryPoint = "duckdb_bind_value")]
    internal static partial DuckDbState BindValue(PreparedStatementHandle statement, ulong index, nint value);

    [LibraryImport(Lib, EntryPoint = "duckdb_create_uuid")]
    internal static partial nint CreateUuid(DuckDbUHugeInt value);

    [LibraryImport(Lib, EntryPoint = "duckdb_destroy_value")]
    internal static partial void DestroyValue(ref nint value);

    [LibraryImport(Lib, EntryPoint = "duckdb_execute_prepared")]
    internal static partial DuckDbState ExecutePrepared(PreparedStatementHandle statement, ResultHandle result);

    // ---- Appender --------------------------------------------------------------------------

    [LibraryImport(Lib, EntryPoint = "duckdb_appender_create", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial DuckDbState AppenderCreate(ConnectionHandle connection, string? schema, string table, out AppenderHandle appender);

    [LibraryImport(Lib, EntryPoint = "duckdb_appender_column_count")]
    internal static partial ulong AppenderColumnCount(AppenderHandle appender);

    [LibraryImport(Lib, EntryPoint = "duckdb_appender_column_type")]
    internal static partial nint AppenderColumnType(AppenderHandle appender, ulong column);

    [LibraryImport(Lib, EntryPoint = "duckdb_appender_error_data")]
    internal static partial nint AppenderErrorData(AppenderHandle appender);

    [LibraryImport(Lib, EntryPoint = "duckdb_append_data_chunk")]
    internal static partial DuckDbState AppendDataChunk(AppenderHandle appender, nint chunk);

    [LibraryImport(Lib, EntryPoint = "duckdb_appender_flush")]
    internal static partial DuckDbState AppenderFlush(AppenderHandle appender);

    [LibraryImport(Lib, EntryPoint = "duckdb_appender_clear")]
    internal static partial DuckDbState AppenderClear(AppenderHandle appender);

    // The raw form for the handle's own release, when the SafeHandle can no longer be passed.
    [LibraryImport(Lib, EntryPoint = "duckdb_appender_clear")]
    internal static partial DuckDbState AppenderClearRaw(nint appender);

    [LibraryImport(Lib, EntryPoint = "duckdb_appender_close")]
    internal static partial DuckDbState AppenderClose(AppenderHandle appender);

    [LibraryImport(Lib, EntryPoint = "duckdb_appender_destroy")]
    internal static partial DuckDbState AppenderDestroy(ref nint appender);

    [LibraryImport(Lib, EntryPoint = "duckdb_error_data_message")]
    internal static partial byte* ErrorDataMessage(nint errorData);

    [LibraryImport(Lib, EntryPoint = "duckdb_error_data_error_type")]
    internal static partial int ErrorDataErrorType(nint errorData);

    [LibraryImport(Lib, EntryPoint = "duckdb_error_data_has_error")]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool ErrorDataHasError(nint errorData);

    [LibraryImport(Lib, EntryPoint = "duckdb_destroy_error_data")]
    internal static partial void DestroyErrorData(ref nint errorData);

    // ---- Table description (column names for the appender's messages) -----------------------

    [LibraryImport(Lib, EntryPoint = "duckdb_table_description_create", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial DuckDbState TableDescriptionCreate(ConnectionHandle connection, string? schema, string table, out nint description);

    [LibraryImport(Lib, EntryPoint = "duckdb_table_description_get_column_name")]
    internal static partial byte* TableDescriptionGetColumnName(nint description, ulong index);

    [LibraryImport(Lib, EntryPoint = "duckdb_table_description_destroy")]
    internal static partial void TableDescriptionDestroy(ref nint description);

    /// <summary>Decodes a NUL-terminated UTF-8 string owned by DuckDB (not freed here).</summary>
    internal static string? Utf8(byte* text) =>
        text is null ? null : Marshal.PtrToStringUTF8((nint)text);
}
