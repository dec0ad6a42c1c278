using System.Data.Common;
using DuckDB.NET.Data;

namespace BaloyiBank.Warehouse;

/// <summary>Opens DuckDB.NET connections the way the warehouse needs them, and the few one-line commands it runs.</summary>
internal static class DuckDbConnections
{
    /// <summary>
    /// Opens a connection to the database file at <paramref name="path"/> (null: a private in-memory database) with
    /// DuckDB <paramref name="settings"/> (e.g. <c>threads</c>, <c>memory_limit</c>) applied when the database starts.
    /// The session's time zone is UTC, so casts between TIMESTAMP and TIMESTAMPTZ never shift by the machine's zone.
    /// </summary>
    /// <remarks>
    /// DuckDB.NET shares one database per full path within the process, open while any of its connections is:
    /// the first connection's settings win.
    /// </remarks>
    public static DuckDBConnection Open(string? path = null, IReadOnlyDictionary<string, string>? settings = null)
    {
        var builder = new DuckDBConnectionStringBuilder
        {
            DataSource = path is null ? DuckDBConnectionStringBuilder.InMemoryDataSource : Path.GetFullPath(path),
        };
        foreach (var (name, value) in settings ?? new Dictionary<string, string>())
        {
            builder[name] = value;
        }

        var connection = new DuckDBConnection(builder.ConnectionString);
        try
        {
            connection.Open();
            connection.Execute("SET TimeZone = 'UTC'");
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>A command with positional parameters (<c>$1</c>, <c>$2</c> … in <paramref name="sql"/>).</summary>
    public static DuckDBCommand Command(this DuckDBConnection connection, string sql, IEnumerable<object?>? parameters = null)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var value in parameters ?? [])
        {
            command.Parameters.Add(new DuckDBParameter { Value = value });
        }

        return command;
    }

    /// <summary>Runs the statements; returns the rows they inserted, updated, deleted or copied.</summary>
    public static long Execute(this DuckDBConnection connection, string sql, IEnumerable<object?>? parameters = null)
    {
        using var command = connection.Command(sql, parameters);
        return command.ExecuteNonQuery();
    }

    /// <summary>The first column of the first row; throws when there is no row or it is NULL.</summary>
    public static T Scalar<T>(this DuckDBConnection connection, string sql, IEnumerable<object?>? parameters = null)
    {
        using var command = connection.Command(sql, parameters);
        using var reader = command.ExecuteReader();
        if (!reader.Read() || reader.IsDBNull(0))
        {
            throw new InvalidOperationException($"The query returned no value. SQL: {sql}");
        }

        return reader.GetFieldValue<T>(0);
    }

    /// <summary>A BLOB column's bytes (DuckDB.NET hands BLOBs out as a stream over the result's memory).</summary>
    public static byte[] GetBlob(this DbDataReader reader, int ordinal)
    {
        using var stream = reader.GetStream(ordinal);
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }
}
