using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using BaloyiBank.DuckDb.Native;

namespace BaloyiBank.DuckDb;

/// <summary>
/// Rows kept in DuckDB data chunks in memory, for SQL to read without a table in between: fill it like an
/// appender (<see cref="DuckDbChunkWriter"/>), <see cref="Seal"/> it, and use the SQL it returns
/// (<c>row_buffer_scan(17)</c>) in any query on a connection of the same database, as often as needed, e.g.
/// <c>COPY (SELECT * FROM row_buffer_scan(17)) TO 'x.parquet'</c>.
/// </summary>
/// <remarks>
/// <para><b>Why.</b> Appending to a table copies every value three more times (the appender's collection,
/// the table's storage, the scan back out) before a query sees it. A scan of a row buffer hands DuckDB the
/// chunks themselves: each output vector references the buffer's vector (<c>duckdb_vector_reference_vector</c>),
/// so the values written by <see cref="DuckDbChunkWriter"/> are the ones the query reads.</para>
/// <para><b>Lifetime.</b> The chunks live until <see cref="Dispose"/>; a query still running on them must
/// finish first (a query that starts after disposal fails with a clear message). Filling is single-threaded;
/// once sealed the buffer is read-only and any number of queries may scan it, one thread each.</para>
/// </remarks>
public sealed unsafe class DuckDbRowBuffer : DuckDbChunkWriter, IDisposable
{
    /// <summary>The table function every buffer is scanned through.</summary>
    public const string ScanFunction = "row_buffer_scan";

    private static readonly ConcurrentDictionary<long, DuckDbRowBuffer> Sealed = new();
    private static long lastId;

    private readonly string name;
    private readonly nint[] types;
    private readonly byte[][] columnNames;
    private readonly List<nint> chunks = [];
    private nint current;
    private long id;
    private bool disposed;

    private DuckDbRowBuffer(string name, DuckDbColumn[] columns, DuckDbType[] storage, nint[] types)
        : base($"row buffer '{name}'", columns, storage)
    {
        this.name = name;
        this.types = types;
        columnNames = [.. columns.Select(c => Encoding.UTF8.GetBytes(c.Name + "\0"))];
        current = NewChunk();
        RefreshVectors();
    }

    /// <summary>Rows written (completed by <see cref="DuckDbChunkWriter.EndRow"/>).</summary>
    public long RowCount => RowsAppended;

    /// <summary>True once <see cref="Seal"/> was called.</summary>
    public bool IsSealed => id != 0;

    /// <summary>The SQL that scans the rows once sealed (what <see cref="Seal"/> returned); null before.</summary>
    public string? Scan { get; private set; }

    private protected override nint CurrentChunk => current;

    /// <summary>
    /// A buffer with the given columns: <paramref name="columns"/> are names and DuckDB type names
    /// (<c>("amount", "DECIMAL(18,2)")</c>), resolved by DuckDB itself on <paramref name="connection"/>.
    /// </summary>
    public static DuckDbRowBuffer Create(DuckDbConnection connection, string name, IReadOnlyList<(string Name, string Type)> columns)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (columns.Count == 0)
        {
            throw new ArgumentException("A row buffer needs at least one column.", nameof(columns));
        }

        EnsureScanFunction(connection);
        var select = string.Join(", ", columns.Select(c => $"CAST(NULL AS {c.Type}) AS \"{c.Name.Replace("\"", "\"\"", StringComparison.Ordinal)}\""));
        var sql = $"SELECT {select} LIMIT 0";
        using var result = ResultHandle.Allocate();
        if (NativeMethods.Query(connection.Handle, sql, result) != DuckDbState.Success)
        {
            throw DuckDbResult.Error(result, "row buffer", sql);
        }

        var types = new nint[columns.Count];
        var described = new DuckDbColumn[columns.Count];
        var storage = new DuckDbType[columns.Count];
        try
        {
            for (var c = 0; c < columns.Count; c++)
            {
                types[c] = NativeMethods.ColumnLogicalType(result, (ulong)c);
                (described[c], storage[c]) = DuckDbResult.Describe(columns[c].Name, types[c]);
            }

            return new DuckDbRowBuffer(name, described, storage, types);
        }
        catch
        {
            DestroyTypes(types);
            throw;
        }
    }

    /// <summary>Ends writing (a row in progress is dropped) and returns the SQL that scans the rows, e.g. <c>row_buffer_scan(17)</c>.</summary>
    public string Seal()
    {
        EnsureUsable();
        ResetRow();
        if (row > 0)
        {
            NativeMethods.DataChunkSetSize(current, (ulong)row);
            chunks.Add(current);
            current = 0;
            row = 0;
        }

        id = Interlocked.Increment(ref lastId);
        Sealed[id] = this;
        Scan = string.Create(CultureInfo.InvariantCulture, $"{ScanFunction}({id})");
        return Scan;
    }

    /// <summary>Frees the chunks; a scan that starts afterwards fails.</summary>
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        if (id != 0)
        {
            Sealed.TryRemove(id, out _);
        }

        for (var i = 0; i < chunks.Count; i++)
        {
            var chunk = chunks[i];
            NativeMethods.DestroyDataChunk(ref chunk);
        }

        chunks.Clear();
        if (current != 0)
        {
            NativeMethods.DestroyDataChunk(ref current);
            current = 0;
        }

        DestroyTypes(types);
    }

    public override string ToString() => $"row buffer '{name}' ({RowCount} rows{(IsSealed ? ", sealed" : "")})";

    private protected override void EnsureUsable()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (id != 0)
        {
            throw new InvalidOperationException($"The row buffer '{name}' is sealed: it takes no more rows.");
        }
    }

    private protected override void ChunkFull()
    {
        NativeMethods.DataChunkSetSize(current, (ulong)row);
        chunks.Add(current);
        current = NewChunk();
        row = 0;
        RefreshVectors();
    }

    private nint NewChunk()
    {
        fixed (nint* pointer = types)
        {
            return NativeMethods.CreateDataChunk(pointer, (ulong)types.Length);
        }
    }

    private static void DestroyTypes(nint[] types)
    {
        for (var c = 0; c < types.Length; c++)
        {
            if (types[c] != 0)
            {
                NativeMethods.DestroyLogicalType(ref types[c]);
            }
        }
    }

    /// <summary>Registers <see cref="ScanFunction"/> once per database (the catalog entry is database-wide).</summary>
    private static void EnsureScanFunction(DuckDbConnection connection)
    {
        var database = connection.Database;
        if (database.RowBufferScanRegistered)
        {
            return;
        }

        lock (database.FunctionGate)
        {
            if (database.RowBufferScanRegistered)
            {
                return;
            }

            // Another wrapper of the same cached database instance may have registered it already.
            var present = connection.ExecuteScalar<long>($"SELECT count(*) FROM duckdb_functions() WHERE function_name = '{ScanFunction}'") > 0;
            if (!present)
            {
                var function = NativeMethods.CreateTableFunction();
                var bigint = NativeMethods.CreateLogicalType((int)DuckDbType.BigInt);
                try
                {
                    NativeMethods.TableFunctionSetName(function, ScanFunction);
                    NativeMethods.TableFunctionAddParameter(function, bigint);
                    NativeMethods.TableFunctionSetBind(function, &Bind);
                    NativeMethods.TableFunctionSetInit(function, &Init);
                    NativeMethods.TableFunctionSetFunction(function, &ScanChunk);
                    if (NativeMethods.RegisterTableFunction(connection.Handle, function) != DuckDbState.Success)
                    {
                        throw new DuckDbException("row buffer", $"duckdb_register_table_function refused '{ScanFunction}'", null);
                    }
                }
                finally
                {
                    NativeMethods.DestroyLogicalType(ref bigint);
                    NativeMethods.DestroyTableFunction(ref function);
                }
            }

            database.RowBufferScanRegistered = true;
        }
    }

    // ---- The table function: bind (columns of the buffer), init (a cursor), scan (one chunk per call) ----

    [UnmanagedCallersOnly]
    private static void Bind(nint info)
    {
        try
        {
            var parameter = NativeMethods.BindGetParameter(info, 0);
            var bufferId = NativeMethods.GetInt64(parameter);
            NativeMethods.DestroyValue(ref parameter);
            if (!Sealed.TryGetValue(bufferId, out var buffer))
            {
                SetError(info, $"{ScanFunction}({bufferId}): no such sealed row buffer (disposed already?)", &NativeMethods.BindSetError);
                return;
            }

            for (var c = 0; c < buffer.types.Length; c++)
            {
                fixed (byte* columnName = buffer.columnNames[c])
                {
                    NativeMethods.BindAddResultColumn(info, columnName, buffer.types[c]);
                }
            }

            NativeMethods.BindSetBindData(info, (nint)bufferId, &ForgetBindData);
            NativeMethods.BindSetCardinality(info, (ulong)buffer.RowCount, isExact: true);
        }
        catch (Exception ex)
        {
            SetError(info, $"{ScanFunction}: {ex.Message}", &NativeMethods.BindSetError);
        }
    }

    [UnmanagedCallersOnly]
    private static void Init(nint info)
    {
        try
        {
            // One thread reads the chunks in order; the cursor is the next chunk's index.
            var cursor = (long*)NativeMemory.AllocZeroed((nuint)sizeof(long));
            NativeMethods.InitSetInitData(info, (nint)cursor, &FreeInitData);
            NativeMethods.InitSetMaxThreads(info, 1);
        }
        catch (Exception ex)
        {
            SetError(info, $"{ScanFunction}: {ex.Message}", &NativeMethods.InitSetError);
        }
    }

    [UnmanagedCallersOnly]
    private static void ScanChunk(nint info, nint output)
    {
        try
        {
            var bufferId = (long)NativeMethods.FunctionGetBindData(info);
            var cursor = (long*)NativeMethods.FunctionGetInitData(info);
            if (!Sealed.TryGetValue(bufferId, out var buffer))
            {
                SetError(info, $"{ScanFunction}({bufferId}): the row buffer was disposed during the scan", &NativeMethods.FunctionSetError);
                return;
            }

            if (*cursor >= buffer.chunks.Count)
            {
                NativeMethods.DataChunkSetSize(output, 0);
                return;
            }

            var chunk = buffer.chunks[(int)*cursor];
            (*cursor)++;
            for (var c = 0; c < buffer.types.Length; c++)
            {
                NativeMethods.VectorReferenceVector(NativeMethods.DataChunkGetVector(output, (ulong)c), NativeMethods.DataChunkGetVector(chunk, (ulong)c));
            }

            NativeMethods.DataChunkSetSize(output, NativeMethods.DataChunkGetSize(chunk));
        }
        catch (Exception ex)
        {
            SetError(info, $"{ScanFunction}: {ex.Message}", &NativeMethods.FunctionSetError);
        }
    }

    [UnmanagedCallersOnly]
    private static void ForgetBindData(nint data)
    {
        // The bind data is the buffer's id, not memory.
    }

    [UnmanagedCallersOnly]
    private static void FreeInitData(nint data) => NativeMemory.Free((void*)data);

    private static void SetError(nint info, string message, delegate*<nint, byte*, void> set)
    {
        var bytes = Encoding.UTF8.GetBytes(message + "\0");
        fixed (byte* text = bytes)
        {
            set(info, text);
        }
    }
}
