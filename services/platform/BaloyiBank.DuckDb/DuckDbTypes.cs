namespace BaloyiBank.DuckDb;

// The members mirror DuckDB's SQL type names (INTEGER, DOUBLE, DECIMAL …) on purpose.
#pragma warning disable CA1720

/// <summary>DuckDB's type ids (<c>duckdb_type</c> in duckdb.h; the numbers are the C values).</summary>
public enum DuckDbType
{
    Invalid = 0,
    Boolean = 1,
    TinyInt = 2,
    SmallInt = 3,
    Integer = 4,
    BigInt = 5,
    UTinyInt = 6,
    USmallInt = 7,
    UInteger = 8,
    UBigInt = 9,
    Float = 10,
    Double = 11,
    Timestamp = 12,
    Date = 13,
    Time = 14,
    Interval = 15,
    HugeInt = 16,
    Varchar = 17,
    Blob = 18,
    Decimal = 19,
    TimestampS = 20,
    TimestampMs = 21,
    TimestampNs = 22,
    Enum = 23,
    List = 24,
    Struct = 25,
    Map = 26,
    Uuid = 27,
    Union = 28,
    Bit = 29,
    TimeTz = 30,
    TimestampTz = 31,
    UHugeInt = 32,
    Array = 33,
    Any = 34,
    BigNum = 35,
    SqlNull = 36,
    StringLiteral = 37,
    IntegerLiteral = 38,
    TimeNs = 39,
    Geometry = 40,
    Variant = 41,
}

/// <summary>DuckDB's error categories (<c>duckdb_error_type</c>), carried by <see cref="DuckDbException"/>.</summary>
public enum DuckDbErrorType
{
    Invalid = 0,
    OutOfRange = 1,
    Conversion = 2,
    UnknownType = 3,
    Decimal = 4,
    MismatchType = 5,
    DivideByZero = 6,
    ObjectSize = 7,
    InvalidType = 8,
    Serialization = 9,
    Transaction = 10,
    NotImplemented = 11,
    Expression = 12,
    Catalog = 13,
    Parser = 14,
    Planner = 15,
    Scheduler = 16,
    Executor = 17,
    Constraint = 18,
    Index = 19,
    Stat = 20,
    Connection = 21,
    Syntax = 22,
    Settings = 23,
    Binder = 24,
    Network = 25,
    Optimizer = 26,
    NullPointer = 27,
    IO = 28,
    Interrupt = 29,
    Fatal = 30,
    Internal = 31,
    InvalidInput = 32,
    OutOfMemory = 33,
    Permission = 34,
    ParameterNotResolved = 35,
    ParameterNotAllowed = 36,
    Dependency = 37,
    Http = 38,
    MissingExtension = 39,
    Autoload = 40,
    Sequence = 41,
    InvalidConfiguration = 42,
}

#pragma warning restore CA1720

/// <summary>A result or table column: its name and DuckDB type (width and scale for DECIMAL).</summary>
public sealed record DuckDbColumn(string Name, DuckDbType Type, byte DecimalWidth = 0, byte DecimalScale = 0)
{
    /// <summary>The SQL spelling, e.g. <c>DECIMAL(18,2)</c> or <c>TIMESTAMP WITH TIME ZONE</c>.</summary>
    public string TypeName => DuckDbTypeNames.Of(Type, DecimalWidth, DecimalScale);

    public override string ToString() => $"{Name} {TypeName}";
}

internal static class DuckDbTypeNames
{
    internal static string Of(DuckDbType type, byte width = 0, byte scale = 0) => type switch
    {
        DuckDbType.Decimal => $"DECIMAL({width},{scale})",
        DuckDbType.TimestampTz => "TIMESTAMP WITH TIME ZONE",
        DuckDbType.TimestampS => "TIMESTAMP_S",
        DuckDbType.TimestampMs => "TIMESTAMP_MS",
        DuckDbType.TimestampNs => "TIMESTAMP_NS",
        DuckDbType.TimeTz => "TIME WITH TIME ZONE",
        DuckDbType.SqlNull => "NULL",
        _ => type.ToString().ToUpperInvariant(),
    };
}

/// <summary>Start-up options for <see cref="DuckDbDatabase.Open(string?, DuckDbConfig?)"/>.</summary>
public sealed record DuckDbConfig
{
    /// <summary>Worker threads DuckDB may use (<c>threads</c>); null keeps DuckDB's default (all cores).</summary>
    public int? Threads { get; init; }

    /// <summary>DuckDB's memory cap, e.g. <c>"2GB"</c> (<c>memory_limit</c>); null keeps the default (80% of RAM).</summary>
    public string? MemoryLimit { get; init; }

    /// <summary>Opens the file read-only (<c>access_mode=READ_ONLY</c>); several processes may then share it.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>Any other DuckDB setting by its name (see <c>duckdb_settings()</c>).</summary>
    public IReadOnlyDictionary<string, string> Options { get; init; } = new Dictionary<string, string>();

    internal IEnumerable<KeyValuePair<string, string>> All()
    {
        if (Threads is { } threads)
        {
            yield return new("threads", threads.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        if (MemoryLimit is { } memoryLimit)
        {
            yield return new("memory_limit", memoryLimit);
        }

        if (ReadOnly)
        {
            yield return new("access_mode", "READ_ONLY");
        }

        foreach (var option in Options)
        {
            yield return option;
        }
    }
}
