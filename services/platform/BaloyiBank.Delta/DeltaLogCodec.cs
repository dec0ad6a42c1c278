using System.Buffers;
using System.Text;
using System.Text.Json;

namespace BaloyiBank.Delta;

/// <summary>Newline-delimited JSON actions, one action per line, in and out (PROTOCOL.md "Delta Log Entries").</summary>
internal static class DeltaLogCodec
{
    private static readonly JsonWriterOptions WriterOptions = new() { Indented = false, SkipValidation = false };

    /// <summary>
    /// A commit file's bytes. commitInfo comes first (the protocol requires that where in-commit timestamps
    /// are on, and it is harmless elsewhere), then protocol, metaData, txn, remove, add.
    /// </summary>
    public static byte[] Encode(DeltaLogEntry entry)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        if (entry.CommitInfo is { } info)
        {
            Line(buffer, json => WriteCommitInfo(json, info));
        }

        WriteState(buffer, entry);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Every action except commitInfo, one per line: a checkpoint's rows, before they become Parquet.</summary>
    public static void WriteState(IBufferWriter<byte> buffer, DeltaLogEntry entry)
    {
        if (entry.Protocol is { } protocol)
        {
            Line(buffer, json => WriteProtocol(json, protocol));
        }

        if (entry.Metadata is { } metadata)
        {
            Line(buffer, json => WriteMetadata(json, metadata));
        }

        foreach (var txn in entry.Transactions)
        {
            Line(buffer, json => WriteTransaction(json, txn));
        }

        foreach (var remove in entry.Removes)
        {
            Line(buffer, json => WriteRemove(json, remove));
        }

        foreach (var add in entry.Adds)
        {
            Line(buffer, json => WriteAdd(json, add));
        }
    }

    /// <summary>Parses a commit file (or checkpoint rows rendered as JSON, where unused action columns are null).</summary>
    public static DeltaLogEntry Decode(ReadOnlySpan<byte> content, string source)
    {
        var lines = new List<JsonDocument>();
        try
        {
            foreach (var range in content.Split((byte)'\n'))
            {
                var line = content[range];
                if (line.Trim(" \r\t"u8).IsEmpty)
                {
                    continue;
                }

                lines.Add(JsonDocument.Parse(line.ToArray()));
            }

            return Decode(lines.Select(l => l.RootElement), source);
        }
        catch (JsonException e)
        {
            throw new DeltaLogCorruptException($"Delta log file {source} is not valid newline-delimited JSON: {e.Message}", e) { LogFile = source };
        }
        finally
        {
            foreach (var document in lines)
            {
                document.Dispose();
            }
        }
    }

    public static DeltaLogEntry Decode(IEnumerable<JsonElement> actions, string source)
    {
        ProtocolAction? protocol = null;
        MetadataAction? metadata = null;
        CommitInfo? commitInfo = null;
        List<DeltaTransaction> transactions = [];
        List<AddFile> adds = [];
        List<RemoveFile> removes = [];
        try
        {
            foreach (var action in actions)
            {
                foreach (var property in action.EnumerateObject())
                {
                    if (property.Value.ValueKind == JsonValueKind.Null)
                    {
                        continue;
                    }

                    switch (property.Name)
                    {
                        case "protocol":
                            protocol = ReadProtocol(property.Value);
                            break;
                        case "metaData":
                            metadata = ReadMetadata(property.Value);
                            break;
                        case "txn":
                            transactions.Add(ReadTransaction(property.Value));
                            break;
                        case "add":
                            adds.Add(ReadAdd(property.Value));
                            break;
                        case "remove":
                            removes.Add(ReadRemove(property.Value));
                            break;
                        case "commitInfo":
                            commitInfo = ReadCommitInfo(property.Value);
                            break;
                        default:
                            // cdc, domainMetadata and future actions: unrecognised actions must be ignored.
                            break;
                    }
                }
            }
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new DeltaLogCorruptException($"Delta log file {source} has an action missing a required field or with a wrong type: {e.Message}", e) { LogFile = source };
        }

        return new()
        {
            Protocol = protocol,
            Metadata = metadata,
            CommitInfo = commitInfo,
            Transactions = transactions,
            Adds = adds,
            Removes = removes,
        };
    }

    private static void Line(IBufferWriter<byte> buffer, Action<Utf8JsonWriter> write)
    {
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            write(json);
            json.WriteEndObject();
        }

        buffer.Write("\n"u8);
    }

    private static void WriteProtocol(Utf8JsonWriter json, ProtocolAction protocol)
    {
        json.WriteStartObject("protocol");
        json.WriteNumber("minReaderVersion", protocol.MinReaderVersion);
        json.WriteNumber("minWriterVersion", protocol.MinWriterVersion);
        json.WriteEndObject();
    }

    private static void WriteMetadata(Utf8JsonWriter json, MetadataAction metadata)
    {
        json.WriteStartObject("metaData");
        json.WriteString("id", metadata.Id);
        if (metadata.Name is { } name)
        {
            json.WriteString("name", name);
        }

        if (metadata.Description is { } description)
        {
            json.WriteString("description", description);
        }

        json.WriteStartObject("format");
        json.WriteString("provider", metadata.FormatProvider);
        WriteMap(json, "options", metadata.FormatOptions!);
        json.WriteEndObject();
        json.WriteString("schemaString", metadata.SchemaString);
        json.WriteStartArray("partitionColumns");
        foreach (var column in metadata.PartitionColumns)
        {
            json.WriteStringValue(column);
        }

        json.WriteEndArray();
        WriteMap(json, "configuration", metadata.Configuration!);
        if (metadata.CreatedTime is { } created)
        {
            json.WriteNumber("createdTime", created);
        }

        json.WriteEndObject();
    }

    private static void WriteTransaction(Utf8JsonWriter json, DeltaTransaction txn)
    {
        json.WriteStartObject("txn");
        json.WriteString("appId", txn.AppId);
        json.WriteNumber("version", txn.Version);
        if (txn.LastUpdated is { } updated)
        {
            json.WriteNumber("lastUpdated", updated);
        }

        json.WriteEndObject();
    }

    private static void WriteAdd(Utf8JsonWriter json, AddFile add)
    {
        json.WriteStartObject("add");
        json.WriteString("path", add.Path);
        WriteMap(json, "partitionValues", add.PartitionValues);
        json.WriteNumber("size", add.Size);
        json.WriteNumber("modificationTime", add.ModificationTime);
        json.WriteBoolean("dataChange", add.DataChange);
        if (add.Stats is { } stats)
        {
            json.WriteString("stats", stats);
        }

        if (add.Tags is { } tags)
        {
            WriteMap(json, "tags", tags!);
        }

        json.WriteEndObject();
    }

    private static void WriteRemove(Utf8JsonWriter json, RemoveFile remove)
    {
        json.WriteStartObject("remove");
        json.WriteString("path", remove.Path);
        if (remove.DeletionTimestamp is { } deleted)
        {
            json.WriteNumber("deletionTimestamp", deleted);
        }

        json.WriteBoolean("dataChange", remove.DataChange);
        if (remove.ExtendedFileMetadata is { } extended)
        {
            json.WriteBoolean("extendedFileMetadata", extended);
        }

        if (remove.PartitionValues is { } values)
        {
            WriteMap(json, "partitionValues", values);
        }

        if (remove.Size is { } size)
        {
            json.WriteNumber("size", size);
        }

        json.WriteEndObject();
    }

    private static void WriteCommitInfo(Utf8JsonWriter json, CommitInfo info)
    {
        json.WriteStartObject("commitInfo");
        json.WriteNumber("timestamp", info.Timestamp);
        json.WriteString("operation", info.Operation);
        WriteMap(json, "operationParameters", info.OperationParameters!);
        if (info.ReadVersion is { } read)
        {
            json.WriteNumber("readVersion", read);
        }

        json.WriteBoolean("isBlindAppend", info.IsBlindAppend);
        if (info.EngineInfo is { } engine)
        {
            json.WriteString("engineInfo", engine);
        }

        if (info.Lineage is { IsEmpty: false } lineage)
        {
            json.WriteStartObject(LineageProperty);
            if (lineage.TraceParents.Count > 0)
            {
                json.WriteStartArray("traceparents");
                foreach (var traceparent in lineage.TraceParents)
                {
                    json.WriteStringValue(traceparent);
                }

                json.WriteEndArray();
            }

            if (lineage.Enqueued is { Count: > 0 } enqueued)
            {
                json.WriteString("enqueued", enqueued.ToString());
            }

            json.WriteEndObject();
        }

        json.WriteEndObject();
    }

    /// <summary>The product's own commitInfo field (Delta readers ignore commitInfo fields they do not know).</summary>
    private const string LineageProperty = "baloyibank";

    private static CommitLineage? ReadLineage(JsonElement e)
    {
        if (!e.TryGetProperty(LineageProperty, out var lineage) || lineage.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        return new CommitLineage
        {
            TraceParents = lineage.TryGetProperty("traceparents", out var parents) && parents.ValueKind == JsonValueKind.Array
                ? [.. parents.EnumerateArray().Where(p => p.ValueKind == JsonValueKind.String).Select(p => p.GetString()!)]
                : [],
            Enqueued = EnqueueTimes.Parse(OptionalString(lineage, "enqueued")),
        };
    }

    private static void WriteMap(Utf8JsonWriter json, string name, IReadOnlyDictionary<string, string?> map)
    {
        json.WriteStartObject(name);
        foreach (var (key, value) in map.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (value is null)
            {
                json.WriteNull(key);
            }
            else
            {
                json.WriteString(key, value);
            }
        }

        json.WriteEndObject();
    }

    private static ProtocolAction ReadProtocol(JsonElement e) =>
        new(e.GetProperty("minReaderVersion").GetInt32(), e.GetProperty("minWriterVersion").GetInt32());

    private static MetadataAction ReadMetadata(JsonElement e)
    {
        var format = e.GetProperty("format");
        return new()
        {
            Id = e.GetProperty("id").GetString()!,
            Name = OptionalString(e, "name"),
            Description = OptionalString(e, "description"),
            FormatProvider = format.GetProperty("provider").GetString()!,
            FormatOptions = NonNullMap(format, "options"),
            SchemaString = e.GetProperty("schemaString").GetString()!,
            PartitionColumns = [.. e.GetProperty("partitionColumns").EnumerateArray().Select(c => c.GetString()!)],
            Configuration = NonNullMap(e, "configuration"),
            CreatedTime = OptionalLong(e, "createdTime"),
        };
    }

    private static DeltaTransaction ReadTransaction(JsonElement e) =>
        new(e.GetProperty("appId").GetString()!, e.GetProperty("version").GetInt64(), OptionalLong(e, "lastUpdated"));

    private static AddFile ReadAdd(JsonElement e) => new()
    {
        Path = e.GetProperty("path").GetString()!,
        PartitionValues = Map(e, "partitionValues") ?? throw new KeyNotFoundException("add.partitionValues is missing"),
        Size = e.GetProperty("size").GetInt64(),
        ModificationTime = e.GetProperty("modificationTime").GetInt64(),
        DataChange = e.GetProperty("dataChange").GetBoolean(),
        Stats = OptionalString(e, "stats"),
        Tags = Map(e, "tags") is { } tags ? tags.ToDictionary(p => p.Key, p => p.Value ?? "") : null,
    };

    private static RemoveFile ReadRemove(JsonElement e) => new()
    {
        Path = e.GetProperty("path").GetString()!,
        DeletionTimestamp = OptionalLong(e, "deletionTimestamp"),
        DataChange = e.GetProperty("dataChange").GetBoolean(),
        ExtendedFileMetadata = e.TryGetProperty("extendedFileMetadata", out var x) && x.ValueKind != JsonValueKind.Null ? x.GetBoolean() : null,
        PartitionValues = Map(e, "partitionValues"),
        Size = OptionalLong(e, "size"),
    };

    private static CommitInfo ReadCommitInfo(JsonElement e) => new()
    {
        Timestamp = OptionalLong(e, "timestamp") ?? 0,
        Operation = OptionalString(e, "operation") ?? "",
        OperationParameters = e.TryGetProperty("operationParameters", out var p) && p.ValueKind == JsonValueKind.Object
            ? p.EnumerateObject().ToDictionary(x => x.Name, x => x.Value.ValueKind == JsonValueKind.String ? x.Value.GetString()! : x.Value.GetRawText())
            : new Dictionary<string, string>(),
        ReadVersion = OptionalLong(e, "readVersion"),
        IsBlindAppend = e.TryGetProperty("isBlindAppend", out var b) && b.ValueKind == JsonValueKind.True,
        EngineInfo = OptionalString(e, "engineInfo"),
        Lineage = ReadLineage(e),
    };

    private static string? OptionalString(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v.GetString() : null;

    private static long? OptionalLong(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v.GetInt64() : null;

    private static Dictionary<string, string?>? Map(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var map) || map.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        // Checkpoints written by Spark hold maps as objects here (DuckDB renders MAP as a JSON object too).
        return map.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.Null ? null : p.Value.GetString());
    }

    private static Dictionary<string, string> NonNullMap(JsonElement e, string name) =>
        Map(e, name)?.Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value!) ?? [];

    internal static string Utf8(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);
}
