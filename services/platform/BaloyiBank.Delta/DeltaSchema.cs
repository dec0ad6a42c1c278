using System.Text.Json;
using System.Text.RegularExpressions;

namespace BaloyiBank.Delta;

/// <summary>
/// Translates a <see cref="TableSchema"/> to and from the Delta <c>schemaString</c> (Spark StructType JSON)
/// and to DuckDB DDL types. Only the ten <see cref="ColumnType"/>s exist: anything else in a foreign
/// table's schema is rejected rather than guessed.
/// </summary>
public static partial class DeltaSchema
{
    /// <summary>The Delta (Spark) type name of a column type.</summary>
    public static string DeltaTypeName(ColumnType type) => type switch
    {
        ColumnType.String => "string",
        ColumnType.Long => "long",
        ColumnType.Integer => "integer",
        ColumnType.Boolean => "boolean",
        ColumnType.Double => "double",
        ColumnType.Money => "decimal(18,2)",
        ColumnType.Rate => "decimal(18,6)",
        ColumnType.Timestamp => "timestamp",
        ColumnType.Date => "date",
        ColumnType.Binary => "binary",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown column type."),
    };

    /// <summary>The DuckDB type a column is stored as (TIMESTAMPTZ so Parquet marks it adjusted to UTC).</summary>
    public static string DuckDbTypeName(ColumnType type) => type switch
    {
        ColumnType.String => "VARCHAR",
        ColumnType.Long => "BIGINT",
        ColumnType.Integer => "INTEGER",
        ColumnType.Boolean => "BOOLEAN",
        ColumnType.Double => "DOUBLE",
        ColumnType.Money => "DECIMAL(18,2)",
        ColumnType.Rate => "DECIMAL(18,6)",
        ColumnType.Timestamp => "TIMESTAMPTZ",
        ColumnType.Date => "DATE",
        ColumnType.Binary => "BLOB",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown column type."),
    };

    /// <summary>The <c>schemaString</c> of a <c>metaData</c> action: one JSON line, every field with empty metadata.</summary>
    public static string ToSchemaString(TableSchema schema)
    {
        Validate(schema);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("type", "struct");
            json.WriteStartArray("fields");
            foreach (var column in schema.Columns)
            {
                json.WriteStartObject();
                json.WriteString("name", column.Name);
                json.WriteString("type", DeltaTypeName(column.Type));
                json.WriteBoolean("nullable", column.Nullable);
                json.WriteStartObject("metadata");
                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Parses a <c>schemaString</c> back into a <see cref="TableSchema"/>.</summary>
    /// <exception cref="DeltaProtocolException">The schema uses a type or shape this library does not support.</exception>
    public static TableSchema Parse(string schemaString, string tableName, IReadOnlyList<string> partitionColumns)
    {
        ArgumentNullException.ThrowIfNull(schemaString);
        try
        {
            using var document = JsonDocument.Parse(schemaString);
            var root = document.RootElement;
            if (root.GetProperty("type").GetString() != "struct")
            {
                throw new DeltaProtocolException($"Table {tableName}: schemaString is not a struct.");
            }

            List<ColumnSchema> columns = [];
            foreach (var field in root.GetProperty("fields").EnumerateArray())
            {
                var name = field.GetProperty("name").GetString()!;
                var typeElement = field.GetProperty("type");
                if (typeElement.ValueKind != JsonValueKind.String)
                {
                    throw new DeltaProtocolException(
                        $"Table {tableName}: column '{name}' has a nested type ({typeElement.GetRawText()}); only primitive columns are supported.");
                }

                if (field.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
                    && metadata.EnumerateObject().Any(p => p.Name.StartsWith("delta.", StringComparison.Ordinal)))
                {
                    // Invariants, generated or identity columns and column mapping all live here; none is implemented.
                    throw new DeltaProtocolException(
                        $"Table {tableName}: column '{name}' carries Delta column metadata ({metadata.GetRawText()}), which this library does not implement.");
                }

                var nullable = !field.TryGetProperty("nullable", out var n) || n.GetBoolean();
                columns.Add(new ColumnSchema(name, ParseType(typeElement.GetString()!, tableName, name), nullable));
            }

            var schema = new TableSchema(tableName, columns, [.. partitionColumns]);
            Validate(schema);
            return schema;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new DeltaProtocolException($"Table {tableName}: schemaString is not a valid Delta schema: {e.Message}", e);
        }
    }

    /// <summary>Throws when names are not code-style identifiers, repeat (ignoring case), or partition columns are missing or unpartitionable.</summary>
    public static void Validate(TableSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        if (schema.Columns.Count == 0)
        {
            throw new ArgumentException($"Table {schema.Name} has no columns.", nameof(schema));
        }

        HashSet<string> seen = new(StringComparer.OrdinalIgnoreCase);
        foreach (var column in schema.Columns)
        {
            RequireIdentifier(column.Name, $"column of table {schema.Name}");
            if (!seen.Add(column.Name))
            {
                // Delta requires column names to be unique regardless of case.
                throw new ArgumentException($"Table {schema.Name} has the column '{column.Name}' twice (names are case-insensitive).", nameof(schema));
            }
        }

        foreach (var partition in schema.PartitionColumns)
        {
            var column = schema.Columns.FirstOrDefault(c => c.Name == partition)
                ?? throw new ArgumentException($"Table {schema.Name}: partition column '{partition}' is not a column.", nameof(schema));
            if (column.Type is ColumnType.Binary or ColumnType.Double)
            {
                throw new ArgumentException($"Table {schema.Name}: partition column '{partition}' is {column.Type}; partition by text, numbers, dates or timestamps.", nameof(schema));
            }
        }

        if (schema.PartitionColumns.Count == schema.Columns.Count)
        {
            throw new ArgumentException($"Table {schema.Name}: every column is a partition column; Delta needs at least one data column.", nameof(schema));
        }
    }

    /// <summary>Throws unless <paramref name="name"/> is a plain identifier (letters, digits, underscore), so it can be quoted safely into SQL and paths.</summary>
    public static void RequireIdentifier(string name, string what)
    {
        if (string.IsNullOrEmpty(name) || !IdentifierPattern().IsMatch(name))
        {
            throw new ArgumentException($"'{name}' is not a valid {what} name: use letters, digits and '_' (starting with a letter or '_').", nameof(name));
        }
    }

    /// <summary>A double-quoted SQL identifier (the name is validated first, the quoting is belt and braces).</summary>
    internal static string Quote(string identifier)
    {
        RequireIdentifier(identifier, "SQL identifier");
        return $"\"{identifier}\"";
    }

    private static ColumnType ParseType(string type, string table, string column) => type switch
    {
        "string" => ColumnType.String,
        "long" => ColumnType.Long,
        "integer" => ColumnType.Integer,
        "boolean" => ColumnType.Boolean,
        "double" => ColumnType.Double,
        "decimal(18,2)" => ColumnType.Money,
        "decimal(18,6)" => ColumnType.Rate,
        "timestamp" => ColumnType.Timestamp,
        "date" => ColumnType.Date,
        "binary" => ColumnType.Binary,
        _ => throw new DeltaProtocolException($"Table {table}: column '{column}' has the Delta type '{type}', which this library does not support."),
    };

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex IdentifierPattern();
}
