using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using BaloyiBank.Delta;
using DuckDB.NET.Data;

namespace BaloyiBank.Warehouse;

/// <summary>
/// Reads a table's change files with DuckDB: checks that they hold the table's columns with its exact types
/// (a DECIMAL with more places would be truncated on the way in, so it is refused instead), counts them, and
/// yields the newest row per key for the engines that stage rows themselves.
/// </summary>
internal static class ChangeFiles
{
    public static string FileList(int count) => $"[{string.Join(", ", Enumerable.Range(1, count).Select(i => $"${i}"))}]";

    /// <summary>Checks the files' columns and types against the table; returns their row count.</summary>
    public static long Check(DuckDBConnection connection, WarehouseTable table, IReadOnlyList<string> files)
    {
        CheckSchema(connection, table, files);
        return connection.Scalar<long>($"SELECT count(*) FROM read_parquet({FileList(files.Count)})", files);
    }

    /// <summary>Checks that the files exist and hold the table's columns with its exact types.</summary>
    public static void CheckSchema(DuckDBConnection connection, WarehouseTable table, IReadOnlyList<string> files)
    {
        foreach (var file in files)
        {
            if (!File.Exists(file))
            {
                throw new FileNotFoundException($"Change file of warehouse table '{table.Name}' not found: {file}", file);
            }
        }

        var found = new Dictionary<string, string>(StringComparer.Ordinal);
        using (var describe = connection.Command($"DESCRIBE SELECT * FROM read_parquet({FileList(files.Count)})", files))
        using (var result = describe.ExecuteReader())
        {
            while (result.Read())
            {
                found[result.GetString(0)] = result.GetString(1);
            }
        }

        var problems = new List<string>();
        foreach (var column in table.Schema.Columns)
        {
            var expected = DeltaSchema.DuckDbTypeName(column.Type);
            if (!found.TryGetValue(column.Name, out var actual))
            {
                problems.Add($"column '{column.Name}' ({expected}) is missing");
            }
            else if (Normalize(actual) != expected)
            {
                problems.Add($"column '{column.Name}' is {actual}, the table wants {expected}");
            }
        }

        if (problems.Count > 0)
        {
            throw new InvalidDataException(
                $"The change files of warehouse table '{table.Name}' do not match its schema: {string.Join("; ", problems)}. Fix: write the files with the table's TableSchema (first file: {files[0]}).");
        }
    }

    /// <summary>The newest row per key, in the table's column order (the deleted flag included).</summary>
    public static DuckDBDataReader ReadNewest(DuckDBConnection connection, WarehouseTable table, IReadOnlyList<string> files)
    {
        var dialect = new DuckDbSqlDialect("main");
        using var statement = connection.Command(
            $"SELECT {dialect.SourceColumnList(table)} FROM read_parquet({FileList(files.Count)}) QUALIFY row_number() OVER ({dialect.NewestFirst(table)}) = 1",
            files);
        return statement.ExecuteReader();
    }

    private static string Normalize(string duckDbType) => duckDbType switch
    {
        "TIMESTAMP WITH TIME ZONE" => "TIMESTAMPTZ",
        _ => duckDbType,
    };
}

/// <summary>Writes rows from another engine's reader into a Parquet file through DuckDB (for <see cref="IWarehouse.ExportAsync"/>).</summary>
internal static class ParquetExport
{
    public static void CheckPath(string parquetPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(parquetPath);
        if (parquetPath.Contains('\'', StringComparison.Ordinal) || parquetPath.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"Export path '{parquetPath}' must not contain quotes or NUL.", nameof(parquetPath));
        }
    }

    public static string CopyTo(string relationSql, string parquetPath) =>
        $"COPY ({relationSql}) TO '{Path.GetFullPath(parquetPath)}' (FORMAT parquet, COMPRESSION zstd)";

    /// <summary>Appends every row of <paramref name="reader"/> (columns in <paramref name="relation"/>'s order) and writes the file.</summary>
    public static async Task<long> FromReaderAsync(DbDataReader reader, TableSchema relation, string parquetPath, CancellationToken cancellationToken)
    {
        CheckPath(parquetPath);
        using var connection = DuckDbConnections.Open();
        var duck = new DuckDbSqlDialect("main");
        connection.Execute($"CREATE TABLE export ({string.Join(", ", relation.Columns.Select(c => $"{duck.Quote(c.Name)} {DeltaSchema.DuckDbTypeName(c.Type)}"))})");
        long rows = 0;
        using (var appender = connection.CreateAppender("export"))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var row = appender.CreateRow();
                for (var i = 0; i < relation.Columns.Count; i++)
                {
                    Append(row, reader, i, relation.Columns[i].Type);
                }

                row.EndRow();
                rows++;
            }

            appender.Close();
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(parquetPath))!);
        connection.Execute(CopyTo("SELECT * FROM export", parquetPath));
        return rows;
    }

    [SuppressMessage("Performance", "CA1859", Justification = "Any provider's reader.")]
    private static void Append(IDuckDBAppenderRow row, DbDataReader reader, int i, ColumnType type)
    {
        if (reader.IsDBNull(i))
        {
            row.AppendNullValue();
            return;
        }

        _ = type switch
        {
            ColumnType.String => row.AppendValue(reader.GetString(i)),
            ColumnType.Long => row.AppendValue(reader.GetInt64(i)),
            ColumnType.Integer => row.AppendValue(reader.GetInt32(i)),
            ColumnType.Boolean => row.AppendValue(reader.GetBoolean(i)),
            ColumnType.Double => row.AppendValue(reader.GetDouble(i)),
            ColumnType.Money or ColumnType.Rate => row.AppendValue(reader.GetDecimal(i)),
            ColumnType.Timestamp => row.AppendValue(AsUtc(reader.GetValue(i))),
            ColumnType.Date => row.AppendValue(reader.GetValue(i) switch
            {
                DateOnly d => d,
                DateTime dt => DateOnly.FromDateTime(dt),
                var other => throw new InvalidCastException($"Column {reader.GetName(i)} holds {other.GetType().Name}, not a date."),
            }),
            ColumnType.Binary => row.AppendValue((byte[])reader.GetValue(i)),
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown column type."),
        };
    }

    /// <summary>timestamptz (Npgsql: a UTC DateTime) or DATETIME2 holding UTC (SqlClient: an unspecified DateTime).</summary>
    internal static DateTimeOffset AsUtc(object value) => value switch
    {
        DateTimeOffset o => o.ToUniversalTime(),
        DateTime { Kind: DateTimeKind.Local } local => new DateTimeOffset(local.ToUniversalTime(), TimeSpan.Zero),
        DateTime dt => new DateTimeOffset(DateTime.SpecifyKind(dt, DateTimeKind.Utc), TimeSpan.Zero),
        _ => throw new InvalidCastException($"A timestamp column holds {value.GetType().Name}."),
    };
}

/// <summary>
/// A forward-only <see cref="DbDataReader"/> over a DuckDB result in a table's column order, for SqlBulkCopy:
/// timestamps come out as UTC <see cref="DateTime"/> (DATETIME2), dates as <see cref="DateTime"/>, money as decimal,
/// blobs as byte arrays.
/// </summary>
internal sealed class DuckDbChangeReader(DbDataReader result, IReadOnlyList<ColumnSchema> columns) : DbDataReader
{
    public override int FieldCount => columns.Count;

    public override object this[int ordinal] => GetValue(ordinal);

    public override object this[string name] => GetValue(GetOrdinal(name));

    public override int RecordsAffected => -1;

    public override bool HasRows => true;

    public override bool IsClosed => false;

    public override int Depth => 0;

    public long RowsRead { get; private set; }

    public override bool Read()
    {
        if (!result.Read())
        {
            return false;
        }

        RowsRead++;
        return true;
    }

    public override bool NextResult() => false;

    public override string GetName(int ordinal) => columns[ordinal].Name;

    public override int GetOrdinal(string name)
    {
        for (var i = 0; i < columns.Count; i++)
        {
            if (columns[i].Name == name)
            {
                return i;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(name), name, $"No column '{name}'.");
    }

    public override Type GetFieldType(int ordinal) => columns[ordinal].Type switch
    {
        ColumnType.String => typeof(string),
        ColumnType.Long => typeof(long),
        ColumnType.Integer => typeof(int),
        ColumnType.Boolean => typeof(bool),
        ColumnType.Double => typeof(double),
        ColumnType.Money or ColumnType.Rate => typeof(decimal),
        ColumnType.Timestamp or ColumnType.Date => typeof(DateTime),
        ColumnType.Binary => typeof(byte[]),
        _ => typeof(object),
    };

    public override string GetDataTypeName(int ordinal) => GetFieldType(ordinal).Name;

    public override bool IsDBNull(int ordinal) => result.IsDBNull(ordinal);

    public override object GetValue(int ordinal)
    {
        if (result.IsDBNull(ordinal))
        {
            return DBNull.Value;
        }

        return columns[ordinal].Type switch
        {
            ColumnType.String => result.GetString(ordinal),
            ColumnType.Long => result.GetInt64(ordinal),
            ColumnType.Integer => result.GetInt32(ordinal),
            ColumnType.Boolean => result.GetBoolean(ordinal),
            ColumnType.Double => result.GetDouble(ordinal),
            ColumnType.Money or ColumnType.Rate => result.GetDecimal(ordinal),
            ColumnType.Timestamp => result.GetFieldValue<DateTimeOffset>(ordinal).UtcDateTime,
            ColumnType.Date => result.GetFieldValue<DateOnly>(ordinal).ToDateTime(TimeOnly.MinValue),
            ColumnType.Binary => result.GetBlob(ordinal),
            var other => throw new NotSupportedException($"Column type {other} is not supported."),
        };
    }

    public override int GetValues(object[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var n = Math.Min(values.Length, columns.Count);
        for (var i = 0; i < n; i++)
        {
            values[i] = GetValue(i);
        }

        return n;
    }

    public override bool GetBoolean(int ordinal) => result.GetBoolean(ordinal);

    public override byte GetByte(int ordinal) => result.GetByte(ordinal);

    public override long GetBytes(int ordinal, long dataOffset, byte[]? buffer, int bufferOffset, int length)
    {
        var bytes = result.GetBlob(ordinal);
        if (buffer is null)
        {
            return bytes.Length;
        }

        var n = (int)Math.Max(0, Math.Min(length, bytes.Length - dataOffset));
        Array.Copy(bytes, dataOffset, buffer, bufferOffset, n);
        return n;
    }

    public override char GetChar(int ordinal) => result.GetString(ordinal)[0];

    public override long GetChars(int ordinal, long dataOffset, char[]? buffer, int bufferOffset, int length)
    {
        var text = result.GetString(ordinal);
        if (buffer is null)
        {
            return text.Length;
        }

        var n = (int)Math.Max(0, Math.Min(length, text.Length - dataOffset));
        text.CopyTo((int)dataOffset, buffer, bufferOffset, n);
        return n;
    }

    public override DateTime GetDateTime(int ordinal) => (DateTime)GetValue(ordinal);

    public override decimal GetDecimal(int ordinal) => result.GetDecimal(ordinal);

    public override double GetDouble(int ordinal) => result.GetDouble(ordinal);

    public override float GetFloat(int ordinal) => (float)result.GetDouble(ordinal);

    public override Guid GetGuid(int ordinal) => result.GetGuid(ordinal);

    public override short GetInt16(int ordinal) => result.GetInt16(ordinal);

    public override int GetInt32(int ordinal) => result.GetInt32(ordinal);

    public override long GetInt64(int ordinal) => result.GetInt64(ordinal);

    public override string GetString(int ordinal) => result.GetString(ordinal);

    public override System.Collections.IEnumerator GetEnumerator() => new DbEnumerator(this);

    public override DataTable GetSchemaTable()
    {
        var table = new DataTable("schema");
        table.Columns.Add("ColumnName", typeof(string));
        table.Columns.Add("ColumnOrdinal", typeof(int));
        table.Columns.Add("DataType", typeof(Type));
        table.Columns.Add("AllowDBNull", typeof(bool));
        for (var i = 0; i < columns.Count; i++)
        {
            table.Rows.Add(columns[i].Name, i, GetFieldType(i), columns[i].Nullable);
        }

        return table;
    }
}
