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

/// <summary>
/// How a table's Parquet files are encoded, a writer's choice that readers never need to know.
/// <see cref="Default"/>: zstd at DuckDB's default level, dictionary encoding tried on every column (best for the
/// repeated values of analytic tables). <see cref="Archive"/>: for tables dominated by a column of unique values
/// (raw payloads): no dictionary attempt and zstd level 1, which for bronze costs ~25–35 % less CPU and writes
/// slightly smaller files (docs/BENCHMARKS.md, session 4).
/// </summary>
public sealed record ParquetLayout(bool Dictionary, int? ZstdLevel)
{
    public static ParquetLayout Default { get; } = new(Dictionary: true, ZstdLevel: null);

    /// <summary>
    /// Row groups of 16,384 rows (~7 MB of payload each): Parquet.Net writes a column chunk as one page through
    /// pooled buffers, and pages of a million raw payloads outgrow the pools, so every flush allocated them anew.
    /// </summary>
    public static ParquetLayout Archive { get; } = new(Dictionary: false, ZstdLevel: 1) { RowGroupRows = 16_384 };

    /// <summary>Rows per Parquet row group at most.</summary>
    public int RowGroupRows { get; init; } = DefaultRowGroupRows;

    /// <summary>Big enough for column-chunk compression, small enough for readers' memory.</summary>
    public const int DefaultRowGroupRows = 1_000_000;

    /// <summary>The options of DuckDB's <c>COPY … TO</c> for this layout.</summary>
    public string CopyOptions =>
        "FORMAT parquet, COMPRESSION zstd"
        + (ZstdLevel is { } level ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $", COMPRESSION_LEVEL {level}") : "")
        + (Dictionary ? "" : ", DICTIONARY_SIZE_LIMIT 1");
}

/// <summary>A lake table's shape: its columns and the columns its files are partitioned by (hive-style folders).</summary>
public sealed record TableSchema(string Name, IReadOnlyList<ColumnSchema> Columns, IReadOnlyList<string> PartitionColumns)
{
    /// <summary>How the table's data files are encoded (not part of the Delta schema).</summary>
    public ParquetLayout Layout { get; init; } = ParquetLayout.Default;

    public ColumnSchema Column(string name) =>
        Columns.FirstOrDefault(c => c.Name == name) ?? throw new ArgumentException($"Table {Name} has no column '{name}'.", nameof(name));
}
