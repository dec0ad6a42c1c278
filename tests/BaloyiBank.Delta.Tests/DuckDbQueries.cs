using DuckDB.NET.Data;

namespace BaloyiBank.Delta.Tests;

/// <summary>One-line SQL on a DuckDB.NET connection, for the tests' checks of the files.</summary>
public static class DuckDbQueries
{
    public static long Execute(this DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteNonQuery();
    }

    public static DuckDBDataReader Query(this DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteReader();
    }

    /// <summary>The first column of the first row; throws when there is no row or it is NULL.</summary>
    public static T ExecuteScalar<T>(this DuckDBConnection connection, string sql)
    {
        using var reader = connection.Query(sql);
        if (!reader.Read() || reader.IsDBNull(0))
        {
            throw new InvalidOperationException($"The query returned no value. SQL: {sql}");
        }

        return reader.GetFieldValue<T>(0);
    }
}
