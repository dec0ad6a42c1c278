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
public sealed unsafe class DuckDbAppender : DuckDbChunkWriter, IDisposable
{
    private readonly AppenderHandle handle;
    private readonly string table;
    private bool closed;
    private DuckDbException? fault;

    private DuckDbAppender(AppenderHandle handle, string table, DuckDbColumn[] columns, DuckDbType[] storage)
        : base($"table '{table}'", columns, storage)
    {
        this.handle = handle;
        this.table = table;
        RefreshVectors();
    }

    private protected override nint CurrentChunk => handle.Chunk;

    private protected override void ChunkFull() => HandOver("append");

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
        ResetRow();
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
        ResetRow();
        return fault;
    }

    private protected override void EnsureUsable()
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
}
