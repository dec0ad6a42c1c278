using BaloyiBank.DuckDb.Native;

namespace BaloyiBank.DuckDb;

/// <summary>
/// An open DuckDB database: a file or in-memory. Thread-safe: any number of threads may each
/// <see cref="Connect"/> and use their own connection. Disposing stops new connections; the
/// native database (and its file lock) is released once the last connection is disposed too.
/// </summary>
/// <remarks>
/// DuckDB holds a read-write lock on a database file across processes: a second process cannot
/// open it (read-only opens in several processes are allowed when nobody writes).
/// </remarks>
public sealed class DuckDbDatabase : IDisposable
{
    internal const string InMemory = ":memory:";

    private static readonly Lazy<nint> InstanceCache = new(NativeMethods.CreateInstanceCache);

    private readonly DatabaseHandle handle;

    /// <summary>Guards the one-time registration of the database's table functions (<see cref="DuckDbRowBuffer"/>).</summary>
    internal Lock FunctionGate { get; } = new();

    /// <summary>True once <see cref="DuckDbRowBuffer.ScanFunction"/> is in this database's catalog.</summary>
    internal volatile bool RowBufferScanRegistered;

    private DuckDbDatabase(DatabaseHandle handle, string path)
    {
        this.handle = handle;
        Path = path;
    }

    /// <summary>The file path, or <c>:memory:</c>.</summary>
    public string Path { get; }

    /// <summary>The loaded DuckDB's version, e.g. <c>v1.5.6</c>.</summary>
    public static unsafe string LibraryVersion
    {
        get
        {
            NativeLibraryLoader.EnsureLoaded();
            return NativeMethods.Utf8(NativeMethods.LibraryVersion()) ?? "unknown";
        }
    }

    /// <summary>
    /// Opens (or creates) the database at <paramref name="path"/>; null or <c>:memory:</c> opens an
    /// in-memory database. Throws <see cref="DuckDbException"/> with DuckDB's reason on failure,
    /// and <see cref="DllNotFoundException"/> when libduckdb cannot be found.
    /// </summary>
    public static unsafe DuckDbDatabase Open(string? path = null, DuckDbConfig? config = null)
    {
        NativeLibraryLoader.EnsureLoaded();
        path = string.IsNullOrEmpty(path) ? InMemory : path;

        nint nativeConfig = 0;
        try
        {
            if (config is not null)
            {
                if (NativeMethods.CreateConfig(out nativeConfig) != DuckDbState.Success)
                {
                    throw new DuckDbException("open", "duckdb_create_config failed (out of memory?)", null);
                }

                foreach (var (name, value) in config.All())
                {
                    if (NativeMethods.SetConfig(nativeConfig, name, value) != DuckDbState.Success)
                    {
                        throw new DuckDbException("open", $"Invalid Configuration Error: DuckDB rejected the setting {name}='{value}'", null, DuckDbErrorType.InvalidConfiguration);
                    }
                }
            }

            // Files go through one process-wide instance cache: two independent DuckDB instances on one
            // file in one process would each believe they own it (the file lock is per process) and
            // diverge. The cache hands out the same instance, or refuses a different configuration.
            var isFile = path != InMemory;
            if (isFile)
            {
                path = System.IO.Path.GetFullPath(path);
            }

            var state = isFile
                ? NativeMethods.GetOrCreateFromCache(InstanceCache.Value, path, out var database, nativeConfig, out var error)
                : NativeMethods.OpenExt(path, out database, nativeConfig, out error);
            if (state != DuckDbState.Success)
            {
                var message = NativeMethods.Utf8(error);
                if (error is not null)
                {
                    NativeMethods.Free(error);
                }

                database.Dispose();
                throw new DuckDbException("open", message is null ? $"cannot open '{path}'" : $"{message} (path: {path})", null);
            }

            return new DuckDbDatabase(database, path);
        }
        finally
        {
            if (nativeConfig != 0)
            {
                NativeMethods.DestroyConfig(ref nativeConfig);
            }
        }
    }

    /// <summary>
    /// Opens a new connection with its session time zone set to UTC, so casts between TIMESTAMP (a UTC
    /// wall clock in this library) and TIMESTAMP WITH TIME ZONE never shift by the machine's zone.
    /// A connection is single-threaded; open one per thread.
    /// </summary>
    public DuckDbConnection Connect()
    {
        ObjectDisposedException.ThrowIf(handle.IsClosed, this);
        if (NativeMethods.Connect(handle, out var nativeConnection) != DuckDbState.Success)
        {
            nativeConnection.Dispose();
            throw new DuckDbException("connect", $"duckdb_connect failed for '{Path}'", null, DuckDbErrorType.Connection);
        }

        nativeConnection.Pin(handle);
        var connection = new DuckDbConnection(nativeConnection, this);
        try
        {
            connection.Execute("SET TimeZone = 'UTC'");
        }
        catch (DuckDbException)
        {
            // A DuckDB built without ICU has no TimeZone setting: its time zone casts are UTC already.
        }

        return connection;
    }

    public void Dispose() => handle.Dispose();

    public override string ToString() => $"DuckDB {Path}";
}
