using System.Text.Json.Serialization;

namespace BaloyiBank.Cleansing;

/// <summary>Source-generated JSON for the audit's per-reason counts and bronze's headers (no reflection on the flush path).</summary>
[JsonSerializable(typeof(SortedDictionary<string, long>))]
[JsonSerializable(typeof(SortedDictionary<string, string>))]
internal sealed partial class CleansingJsonContext : JsonSerializerContext;
