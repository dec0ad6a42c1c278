using System.Text.Json;
using System.Text.Json.Serialization;

namespace BaloyiBank.Contracts;

/// <summary>
/// Source-generated System.Text.Json metadata for every wire event: no reflection, stable
/// camelCase names, enums as snake_case strings, decimals as JSON numbers (never floats).
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict,
    AllowOutOfOrderMetadataProperties = true,
    Converters = [
        typeof(UtcInstantConverter),
        typeof(SnakeCaseEnumConverter<CustomerSegment>), typeof(SnakeCaseEnumConverter<AccountType>),
        typeof(SnakeCaseEnumConverter<TransactionType>), typeof(SnakeCaseEnumConverter<Channel>),
        typeof(SnakeCaseEnumConverter<LoanProduct>), typeof(SnakeCaseEnumConverter<MerchantCategory>)])]
[JsonSerializable(typeof(BankEvent))]
public sealed partial class BankEventJsonContext : JsonSerializerContext;

/// <summary>Enum members on the wire as snake_case strings: <c>card_purchase</c>, <c>credit_card</c>.</summary>
public sealed class SnakeCaseEnumConverter<TEnum>() : JsonStringEnumConverter<TEnum>(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false)
    where TEnum : struct, Enum;

/// <summary>Serializes and parses wire events with the source-generated context.</summary>
public static class BankEventSerializer
{
    /// <summary>The content type carried in the log record's headers.</summary>
    public const string ContentType = "application/vnd.baloyibank.event+json; v=1";

    public static byte[] Serialize(BankEvent bankEvent) =>
        JsonSerializer.SerializeToUtf8Bytes(bankEvent, BankEventJsonContext.Default.BankEvent);

    public static void Serialize(Utf8JsonWriter writer, BankEvent bankEvent) =>
        JsonSerializer.Serialize(writer, bankEvent, BankEventJsonContext.Default.BankEvent);

    /// <summary>Strict parse of a well-formed event; throws <see cref="JsonException"/> otherwise.</summary>
    public static BankEvent Deserialize(ReadOnlySpan<byte> utf8Json) =>
        JsonSerializer.Deserialize(utf8Json, BankEventJsonContext.Default.BankEvent)
        ?? throw new JsonException("The payload is the JSON literal null, not an event.");
}
