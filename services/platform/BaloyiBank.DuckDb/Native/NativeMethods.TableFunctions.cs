using System.Runtime.InteropServices;

namespace BaloyiBank.DuckDb.Native;

/// <summary>
/// Table functions (duckdb.h "Table Functions", "Table Function Bind/Init"), values and vector references:
/// what <see cref="DuckDbRowBuffer"/> needs to let SQL scan chunks built in .NET without copying them.
/// Callbacks are <c>[UnmanagedCallersOnly]</c> functions passed as C function pointers.
/// </summary>
internal static unsafe partial class NativeMethods
{
    [LibraryImport(Lib, EntryPoint = "duckdb_create_table_function")]
    internal static partial nint CreateTableFunction();

    [LibraryImport(Lib, EntryPoint = "duckdb_destroy_table_function")]
    internal static partial void DestroyTableFunction(ref nint function);

    [LibraryImport(Lib, EntryPoint = "duckdb_table_function_set_name", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial void TableFunctionSetName(nint function, string name);

    [LibraryImport(Lib, EntryPoint = "duckdb_table_function_add_parameter")]
    internal static partial void TableFunctionAddParameter(nint function, nint logicalType);

    [LibraryImport(Lib, EntryPoint = "duckdb_table_function_set_bind")]
    internal static partial void TableFunctionSetBind(nint function, delegate* unmanaged<nint, void> bind);

    [LibraryImport(Lib, EntryPoint = "duckdb_table_function_set_init")]
    internal static partial void TableFunctionSetInit(nint function, delegate* unmanaged<nint, void> init);

    [LibraryImport(Lib, EntryPoint = "duckdb_table_function_set_function")]
    internal static partial void TableFunctionSetFunction(nint function, delegate* unmanaged<nint, nint, void> scan);

    [LibraryImport(Lib, EntryPoint = "duckdb_register_table_function")]
    internal static partial DuckDbState RegisterTableFunction(ConnectionHandle connection, nint function);

    [LibraryImport(Lib, EntryPoint = "duckdb_create_logical_type")]
    internal static partial nint CreateLogicalType(int typeId);

    [LibraryImport(Lib, EntryPoint = "duckdb_bind_get_parameter")]
    internal static partial nint BindGetParameter(nint info, ulong index);

    [LibraryImport(Lib, EntryPoint = "duckdb_get_int64")]
    internal static partial long GetInt64(nint value);

    [LibraryImport(Lib, EntryPoint = "duckdb_bind_add_result_column")]
    internal static partial void BindAddResultColumn(nint info, byte* name, nint logicalType);

    [LibraryImport(Lib, EntryPoint = "duckdb_bind_set_bind_data")]
    internal static partial void BindSetBindData(nint info, nint data, delegate* unmanaged<nint, void> destroy);

    [LibraryImport(Lib, EntryPoint = "duckdb_bind_set_cardinality")]
    internal static partial void BindSetCardinality(nint info, ulong cardinality, [MarshalAs(UnmanagedType.U1)] bool isExact);

    [LibraryImport(Lib, EntryPoint = "duckdb_bind_set_error")]
    internal static partial void BindSetError(nint info, byte* error);

    [LibraryImport(Lib, EntryPoint = "duckdb_init_set_init_data")]
    internal static partial void InitSetInitData(nint info, nint data, delegate* unmanaged<nint, void> destroy);

    [LibraryImport(Lib, EntryPoint = "duckdb_init_set_max_threads")]
    internal static partial void InitSetMaxThreads(nint info, ulong maxThreads);

    [LibraryImport(Lib, EntryPoint = "duckdb_init_get_bind_data")]
    internal static partial nint InitGetBindData(nint info);

    [LibraryImport(Lib, EntryPoint = "duckdb_init_set_error")]
    internal static partial void InitSetError(nint info, byte* error);

    [LibraryImport(Lib, EntryPoint = "duckdb_function_get_bind_data")]
    internal static partial nint FunctionGetBindData(nint info);

    [LibraryImport(Lib, EntryPoint = "duckdb_function_get_init_data")]
    internal static partial nint FunctionGetInitData(nint info);

    [LibraryImport(Lib, EntryPoint = "duckdb_function_set_error")]
    internal static partial void FunctionSetError(nint info, byte* error);

    [LibraryImport(Lib, EntryPoint = "duckdb_vector_reference_vector")]
    internal static partial void VectorReferenceVector(nint toVector, nint fromVector);
}
