using BaloyiBank.DuckDb.Native;

namespace BaloyiBank.DuckDb;

/// <summary>
/// A connection to a <see cref="DuckDbDatabase"/>: holds transaction state (<c>BEGIN</c> /
/// <c>COMMIT</c> through <see cref="Execute"/>). Not thread-safe: use one connection per
/// thread. Results, statements and appenders it creates must be used on the same thread and
/// stay valid after the connection is disposed until they are disposed themselves.
/// </summary>
public sealed class DuckDbConnection : IDisposable
{
    private readonly ConnectionHandle handle;

    internal DuckDbConnection(ConnectionHandle handle, DuckDbDatabase database)
    {
        this.handle = handle;
        Database = database;
    }

    public DuckDbDatabase Database { get; }

    internal ConnectionHandle Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(handle.IsClosed, this);
            return handle;
        }
    }

    /// <summary>
    /// Runs one or more statements; returns the rows inserted, updated or deleted by the last one
    /// (0 for statements that change no rows).
    /// </summary>
    public long Execute(string sql)
    {
        using var result = Query(sql);
        return result.RowsChanged;
    }

    /// <summary>Runs a query and returns its materialized result (dispose it).</summary>
    public DuckDbResult Query(string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);
        var connection = Handle;
        var result = ResultHandle.Allocate();
        try
        {
            if (NativeMethods.Query(connection, sql, result) != DuckDbState.Success)
            {
                throw DuckDbResult.Error(result, "query", sql);
            }

            return new DuckDbResult(result, sql);
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The first column of the first row as <typeparamref name="T"/> (see <see cref="DuckDbResult.Get{T}"/>).
    /// No row or NULL gives null for a nullable <typeparamref name="T"/> and throws otherwise.
    /// </summary>
    public T ExecuteScalar<T>(string sql)
    {
        using var result = Query(sql);
        if (result.Read())
        {
            return result.Get<T>(0);
        }

        return default(T) is null
            ? default!
            : throw new InvalidOperationException($"The query returned no rows; ask for a nullable type to accept that. SQL: {sql}");
    }

    /// <summary>Prepares a statement with <c>$1</c>, <c>$2</c> … (or <c>?</c>) parameters.</summary>
    public DuckDbPreparedStatement Prepare(string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);
        var connection = Handle;
        _ = NativeMethods.Prepare(connection, sql, out var statement);
        try
        {
            unsafe
            {
                // duckdb_prepare returns a statement even on failure: it carries the error.
                if (statement.IsInvalid)
                {
                    throw new DuckDbException("prepare", "duckdb_prepare returned no statement", sql);
                }

                var error = NativeMethods.PrepareError(statement);
                if (error is not null)
                {
                    throw new DuckDbException("prepare", NativeMethods.Utf8(error), sql);
                }
            }

            statement.Pin(connection);
            return new DuckDbPreparedStatement(statement, sql);
        }
        catch
        {
            statement.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A bulk appender into <paramref name="table"/> (all its columns, in table order).
    /// See <see cref="DuckDbAppender"/> for the failure rules.
    /// </summary>
    public DuckDbAppender CreateAppender(string table, string? schema = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(table);
        return DuckDbAppender.Create(this, schema, table);
    }

    public void Dispose() => handle.Dispose();
}
