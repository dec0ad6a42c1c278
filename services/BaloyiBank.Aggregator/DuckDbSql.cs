using DuckDB.NET.Data;

namespace BaloyiBank.Aggregator;

/// <summary>DuckDB as a SQL engine over Parquet files (the verifier's recomputation, the benchmark's baseline) through DuckDB.NET.</summary>
internal static class DuckDbSql
{
    /// <summary>
    /// A private in-memory database; its session time zone is UTC, so casts between TIMESTAMP and TIMESTAMPTZ never
    /// shift by the machine's zone.
    /// </summary>
    public static DuckDBConnection Open()
    {
        var connection = new DuckDBConnection(DuckDBConnectionStringBuilder.InMemoryConnectionString);
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

    public static DuckDBDataReader Query(this DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteReader();
    }

    public static long Execute(this DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteNonQuery();
    }

    /// <summary>The first column of the first row; throws when there is no row or it is NULL.</summary>
    public static T Scalar<T>(this DuckDBConnection connection, string sql)
    {
        using var reader = connection.Query(sql);
        if (!reader.Read() || reader.IsDBNull(0))
        {
            throw new InvalidOperationException($"The query returned no value. SQL: {sql}");
        }

        return reader.GetFieldValue<T>(0);
    }
}
