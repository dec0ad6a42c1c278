using System.Text.Json;

namespace BaloyiBank.Delta;

// The actions of the Delta log that reader version 1 / writer version 2 use. Field names and meaning
// follow PROTOCOL.md ("Actions"); unknown fields in a foreign log are ignored, as the protocol asks.

/// <summary>The <c>protocol</c> action: the reader and writer versions a client must implement.</summary>
public sealed record ProtocolAction(int MinReaderVersion, int MinWriterVersion)
{
    /// <summary>What this library writes and the most it can read and write: no table features, no column mapping.</summary>
    public static ProtocolAction Supported { get; } = new(1, 2);
}

/// <summary>The <c>metaData</c> action: table identity, schema, partitioning and configuration.</summary>
public sealed record MetadataAction
{
    /// <summary>The table's unique id (a GUID), fixed at creation.</summary>
    public required string Id { get; init; }

    public string? Name { get; init; }

    public string? Description { get; init; }

    public string FormatProvider { get; init; } = "parquet";

    public IReadOnlyDictionary<string, string> FormatOptions { get; init; } = new Dictionary<string, string>();

    /// <summary>The schema as Spark StructType JSON (see <see cref="DeltaSchema"/>).</summary>
    public required string SchemaString { get; init; }

    public required IReadOnlyList<string> PartitionColumns { get; init; }

    public IReadOnlyDictionary<string, string> Configuration { get; init; } = new Dictionary<string, string>();

    /// <summary>Milliseconds since the Unix epoch.</summary>
    public long? CreatedTime { get; init; }
}

/// <summary>The <c>add</c> action: a data file that is part of the table from this version on.</summary>
public sealed record AddFile
{
    /// <summary>The path relative to the table root as written in the log: URI-encoded (RFC 2396), so decode it before use (<see cref="DataPath"/>).</summary>
    public required string Path { get; init; }

    /// <summary>Partition column → serialized value (null for a null partition value).</summary>
    public required IReadOnlyDictionary<string, string?> PartitionValues { get; init; }

    public required long Size { get; init; }

    /// <summary>Milliseconds since the Unix epoch.</summary>
    public required long ModificationTime { get; init; }

    public bool DataChange { get; init; } = true;

    /// <summary>The per-file statistics as a JSON string (numRecords, minValues, maxValues, nullCount), or null.</summary>
    public string? Stats { get; init; }

    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    /// <summary>The file's path relative to the table root, decoded: what the lake stores it under.</summary>
    public string DataPath => DeltaPaths.DecodeDataPath(Path);

    /// <summary>The parsed <see cref="Stats"/>, or null when the file has none.</summary>
    public DeltaFileStatistics? Statistics => Stats is null ? null : DeltaFileStatistics.Parse(Stats);
}

/// <summary>The <c>remove</c> action: a tombstone for a file that left the table.</summary>
public sealed record RemoveFile
{
    public required string Path { get; init; }

    public long? DeletionTimestamp { get; init; }

    public bool DataChange { get; init; } = true;

    public bool? ExtendedFileMetadata { get; init; }

    public IReadOnlyDictionary<string, string?>? PartitionValues { get; init; }

    public long? Size { get; init; }

    public string DataPath => DeltaPaths.DecodeDataPath(Path);

    /// <summary>The tombstone for <paramref name="add"/>, carrying its partition values and size.</summary>
    public static RemoveFile For(AddFile add, long deletionTimestamp, bool dataChange = true)
    {
        ArgumentNullException.ThrowIfNull(add);
        return new()
        {
            Path = add.Path,
            DeletionTimestamp = deletionTimestamp,
            DataChange = dataChange,
            ExtendedFileMetadata = true,
            PartitionValues = add.PartitionValues,
            Size = add.Size,
        };
    }
}

/// <summary>
/// The <c>txn</c> action: an application's progress marker, committed atomically with its data. A streaming
/// writer uses one appId per source partition and the last committed offset as the version (invariant 4).
/// </summary>
public sealed record DeltaTransaction(string AppId, long Version, long? LastUpdated = null);

/// <summary>The <c>commitInfo</c> action: provenance only; never read back into table state.</summary>
public sealed record CommitInfo
{
    public required long Timestamp { get; init; }

    public required string Operation { get; init; }

    public IReadOnlyDictionary<string, string> OperationParameters { get; init; } = new Dictionary<string, string>();

    public long? ReadVersion { get; init; }

    public bool IsBlindAppend { get; init; }

    public string? EngineInfo { get; init; }

    /// <summary>The product's record of where the commit's rows came from (trace contexts, enqueue times); null when none.</summary>
    public CommitLineage? Lineage { get; init; }
}

/// <summary>Per-file statistics (PROTOCOL.md "Per-file Statistics"); values stay JSON because their type is the column's.</summary>
public sealed record DeltaFileStatistics(
    long NumRecords,
    IReadOnlyDictionary<string, JsonElement> MinValues,
    IReadOnlyDictionary<string, JsonElement> MaxValues,
    IReadOnlyDictionary<string, long> NullCount)
{
    public static DeltaFileStatistics Parse(string stats)
    {
        try
        {
            using var document = JsonDocument.Parse(stats);
            var root = document.RootElement;
            return new(
                root.GetProperty("numRecords").GetInt64(),
                Values(root, "minValues"),
                Values(root, "maxValues"),
                root.TryGetProperty("nullCount", out var nulls) && nulls.ValueKind == JsonValueKind.Object
                    ? nulls.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Number).ToDictionary(p => p.Name, p => p.Value.GetInt64())
                    : new Dictionary<string, long>());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new DeltaProtocolException($"File statistics are not valid: {e.Message}. Stats: {stats}", e);
        }
    }

    private static Dictionary<string, JsonElement> Values(JsonElement root, string name) =>
        root.TryGetProperty(name, out var values) && values.ValueKind == JsonValueKind.Object
            ? values.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone())
            : [];
}

/// <summary>One version's actions, as read from a JSON commit (or, for a checkpoint, the whole reconciled state).</summary>
internal sealed record DeltaLogEntry
{
    public ProtocolAction? Protocol { get; init; }

    public MetadataAction? Metadata { get; init; }

    public IReadOnlyList<DeltaTransaction> Transactions { get; init; } = [];

    public IReadOnlyList<RemoveFile> Removes { get; init; } = [];

    public IReadOnlyList<AddFile> Adds { get; init; } = [];

    public CommitInfo? CommitInfo { get; init; }
}
