using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization;

namespace BaloyiBank.Delta;

// One row of a classic V1 checkpoint (PROTOCOL.md "Checkpoint Schema"): exactly one of the struct columns is set.
// Parquet.Net's serializer writes these classes as the protocol's nested columns (structs, MAP<string,string>,
// a list of strings) and reads them back from any checkpoint, ignoring columns it does not name (stats_parsed, …).
// Names are the protocol's field names; the classes are data carriers only.

[SuppressMessage("Design", "CA1002:Do not expose generic lists", Justification = "Serializer data carriers.")]
[SuppressMessage("Usage", "CA2227:Collection properties should be read only", Justification = "Serializer data carriers.")]
internal sealed class CheckpointRow
{
    [JsonPropertyName("txn")]
    public CheckpointTxn? Txn { get; set; }

    [JsonPropertyName("add")]
    public CheckpointAdd? Add { get; set; }

    [JsonPropertyName("remove")]
    public CheckpointRemove? Remove { get; set; }

    [JsonPropertyName("metaData")]
    public CheckpointMetadata? MetaData { get; set; }

    [JsonPropertyName("protocol")]
    public CheckpointProtocol? Protocol { get; set; }
}

internal sealed class CheckpointTxn
{
    [JsonPropertyName("appId")]
    public string? AppId { get; set; }

    [JsonPropertyName("version")]
    public long Version { get; set; }

    [JsonPropertyName("lastUpdated")]
    public long? LastUpdated { get; set; }
}

[SuppressMessage("Usage", "CA2227:Collection properties should be read only", Justification = "Serializer data carriers.")]
internal sealed class CheckpointAdd
{
    [JsonPropertyName("path")]
    public string? Path { get; set; }

    [JsonPropertyName("partitionValues")]
    public Dictionary<string, string?>? PartitionValues { get; set; }

    [JsonPropertyName("size")]
    public long Size { get; set; }

    [JsonPropertyName("modificationTime")]
    public long ModificationTime { get; set; }

    [JsonPropertyName("dataChange")]
    public bool DataChange { get; set; }

    [JsonPropertyName("stats")]
    public string? Stats { get; set; }

    [JsonPropertyName("tags")]
    public Dictionary<string, string?>? Tags { get; set; }
}

[SuppressMessage("Usage", "CA2227:Collection properties should be read only", Justification = "Serializer data carriers.")]
internal sealed class CheckpointRemove
{
    [JsonPropertyName("path")]
    public string? Path { get; set; }

    [JsonPropertyName("deletionTimestamp")]
    public long? DeletionTimestamp { get; set; }

    [JsonPropertyName("dataChange")]
    public bool DataChange { get; set; }

    [JsonPropertyName("extendedFileMetadata")]
    public bool? ExtendedFileMetadata { get; set; }

    [JsonPropertyName("partitionValues")]
    public Dictionary<string, string?>? PartitionValues { get; set; }

    [JsonPropertyName("size")]
    public long? Size { get; set; }
}

[SuppressMessage("Design", "CA1002:Do not expose generic lists", Justification = "Serializer data carriers.")]
[SuppressMessage("Usage", "CA2227:Collection properties should be read only", Justification = "Serializer data carriers.")]
internal sealed class CheckpointMetadata
{
    [JsonPropertyName("id")]
    public string? Id { get; set; }

    [JsonPropertyName("name")]
    public string? Name { get; set; }

    [JsonPropertyName("description")]
    public string? Description { get; set; }

    [JsonPropertyName("format")]
    public CheckpointFormat? Format { get; set; }

    [JsonPropertyName("schemaString")]
    public string? SchemaString { get; set; }

    [JsonPropertyName("partitionColumns")]
    public List<string>? PartitionColumns { get; set; }

    [JsonPropertyName("configuration")]
    public Dictionary<string, string?>? Configuration { get; set; }

    [JsonPropertyName("createdTime")]
    public long? CreatedTime { get; set; }
}

[SuppressMessage("Usage", "CA2227:Collection properties should be read only", Justification = "Serializer data carriers.")]
internal sealed class CheckpointFormat
{
    [JsonPropertyName("provider")]
    public string? Provider { get; set; }

    [JsonPropertyName("options")]
    public Dictionary<string, string?>? Options { get; set; }
}

internal sealed class CheckpointProtocol
{
    [JsonPropertyName("minReaderVersion")]
    public int MinReaderVersion { get; set; }

    [JsonPropertyName("minWriterVersion")]
    public int MinWriterVersion { get; set; }
}
