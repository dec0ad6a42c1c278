using System.Text.Json;
using System.Text.Json.Serialization;

namespace BaloyiBank.Contracts;

/// <summary>
/// Instants on the wire are ISO 8601 in UTC with a <c>Z</c> suffix (e.g. <c>2026-01-01T09:30:00.123Z</c>),
/// whatever offset the producer held; an incoming offset is converted to UTC.
/// </summary>
public sealed class UtcInstantConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.GetDateTimeOffset().ToUniversalTime();

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.UtcDateTime);
    }
}
