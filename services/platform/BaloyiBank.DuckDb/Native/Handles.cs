using System.Runtime.InteropServices;

namespace BaloyiBank.DuckDb.Native;

/// <summary>
/// Base for DuckDB handles that keep their parent alive: a connection pins its database, a
/// statement or appender pins its connection, so native objects are always freed child first,
/// even when finalizers run in arbitrary order.
/// </summary>
internal abstract class DuckDbHandle : SafeHandle
{
    private SafeHandle? parent;

    protected DuckDbHandle()
        : base(0, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == 0;

    /// <summary>Pins <paramref name="owner"/> until this handle is released.</summary>
    internal void Pin(SafeHandle owner)
    {
        var added = false;
        owner.DangerousAddRef(ref added);
        if (added)
        {
            parent = owner;
        }
    }

    protected sealed override bool ReleaseHandle()
    {
        try
        {
            Free(handle);
        }
        finally
        {
            parent?.DangerousRelease();
            parent = null;
        }

        return true;
    }

    protected abstract void Free(nint value);
}

internal sealed class DatabaseHandle : DuckDbHandle
{
    protected override void Free(nint value) => NativeMethods.Close(ref value);
}

internal sealed class ConnectionHandle : DuckDbHandle
{
    protected override void Free(nint value) => NativeMethods.Disconnect(ref value);
}

internal sealed class PreparedStatementHandle : DuckDbHandle
{
    protected override void Free(nint value) => NativeMethods.DestroyPrepare(ref value);
}

/// <summary>An appender plus the data chunk this library fills for it; both freed together.</summary>
internal sealed class AppenderHandle : DuckDbHandle
{
    internal nint Chunk;

    protected override void Free(nint value)
    {
        if (Chunk != 0)
        {
            NativeMethods.DestroyDataChunk(ref Chunk);
            Chunk = 0;
        }

        // Destroy closes, i.e. flushes, an appender not closed yet. Disposal closed it already (or it
        // faulted); an appender that was never disposed must not write from the finalizer thread.
        _ = NativeMethods.AppenderClearRaw(value);
        _ = NativeMethods.AppenderDestroy(ref value);
    }
}

/// <summary>
/// A <c>duckdb_result</c> lives in native memory (DuckDB writes it through a pointer), together
/// with the data chunk currently being read from it.
/// </summary>
internal sealed unsafe class ResultHandle : DuckDbHandle
{
    internal nint Chunk;

    private ResultHandle(nint memory) => SetHandle(memory);

    internal static ResultHandle Allocate() =>
        new((nint)NativeMemory.AllocZeroed((nuint)sizeof(DuckDbResultNative)));

    internal DuckDbResultNative* Pointer => (DuckDbResultNative*)handle;

    internal void DestroyChunk()
    {
        if (Chunk != 0)
        {
            NativeMethods.DestroyDataChunk(ref Chunk);
            Chunk = 0;
        }
    }

    protected override void Free(nint value)
    {
        DestroyChunk();
        // duckdb_destroy_result is safe on a zeroed or failed result and must run even after an
        // error, or DuckDB's error string leaks.
        NativeMethods.DestroyResult((DuckDbResultNative*)value);
        NativeMemory.Free((void*)value);
    }
}
