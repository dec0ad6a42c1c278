using System.Text.Json.Serialization;

namespace BaloyiBank.Delta;

/// <summary>Source-generated JSON for the few plain values the log embeds as strings.</summary>
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class DeltaJsonContext : JsonSerializerContext;
