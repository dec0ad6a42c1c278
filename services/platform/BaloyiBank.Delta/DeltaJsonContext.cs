using System.Text.Json.Serialization;

namespace BaloyiBank.Delta;

/// <summary>Source-generated JSON for the few plain values the log embeds as strings, and checkpoint rows (as the log's JSON actions).</summary>
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(CheckpointRow))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class DeltaJsonContext : JsonSerializerContext;
