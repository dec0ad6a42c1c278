using System.Text.Json.Serialization;

namespace BaloyiBank.Cleansing;

/// <summary>Source-generated JSON for the audit's per-reason counts bronze's headers and the partition ownership records (no reflection on the flush path).</summary>
[JsonSerializable(typeof(SortedDictionary<string, long>))]
[JsonSerializable(typeof(SortedDictionary<string, string>))]
[JsonSerializable(typeof(OwnershipRecord))]
internal sealed partial class CleansingJsonContext : JsonSerializerContext;
