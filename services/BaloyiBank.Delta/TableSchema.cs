using System.Diagnostics.CodeAnalysis;

namespace BaloyiBank.Delta;

/// <summary>The column types the lake's tables use, each with one Delta (Spark) type and one DuckDB type.</summary>
[SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "Members mirror the Delta/Spark type names on purpose.")]
public enum ColumnType
{
    /// <summary>UTF-8 text. Delta <c>string</c>, DuckDB <c>VARCHAR</c>.</summary>
    String,
    /// <summary>Delta <c>long</c>, DuckDB <c>BIGINT</c>.</summary>
    Long,
    /// <summary>Delta <c>integer</c>, DuckDB <c>INTEGER</c>.</summary>
    Integer,
    /// <summary>Delta <c>boolean</c>, DuckDB <c>BOOLEAN</c>.</summary>
    Boolean,
    /// <summary>Delta <c>double</c>, DuckDB <c>DOUBLE</c> (coordinates only; never money).</summary>
    Double,
    /// <summary>Money: Delta <c>decimal(18,2)</c>, DuckDB <c>DECIMAL(18,2)</c>.</summary>
    Money,
    /// <summary>A rate or ratio: Delta <c>decimal(18,6)</c>, DuckDB <c>DECIMAL(18,6)</c>.</summary>
    Rate,
    /// <summary>A UTC instant: Delta <c>timestamp</c> (microseconds, adjusted to UTC), DuckDB <c>TIMESTAMPTZ</c>.</summary>
    Timestamp,
    /// <summary>A calendar date: Delta <c>date</c>, DuckDB <c>DATE</c>.</summary>
    Date,
    /// <summary>Raw bytes: Delta <c>binary</c>, DuckDB <c>BLOB</c>.</summary>
    Binary,
}

/// <summary>One column of a lake table. Names are snake_case identifiers chosen in code, never from data.</summary>
public sealed record ColumnSchema(string Name, ColumnType Type, bool Nullable = false);

/// <summary>A lake table's shape: its columns and the columns its files are partitioned by (hive-style folders).</summary>
public sealed record TableSchema(string Name, IReadOnlyList<ColumnSchema> Columns, IReadOnlyList<string> PartitionColumns)
{
    public ColumnSchema Column(string name) =>
        Columns.FirstOrDefault(c => c.Name == name) ?? throw new ArgumentException($"Table {Name} has no column '{name}'.", nameof(name));
}
