using System.Text.Json.Serialization;

namespace BaloyiBank.Contracts;

/// <summary>
/// A raw bank event as it travels on the event log. Every event names its type and schema
/// version on the wire so that consumers can route and validate bytes they have never seen.
/// Versioning rule: add optional fields within a version; change meaning only with a new
/// <see cref="SchemaVersion"/>.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type", UnknownDerivedTypeHandling = JsonUnknownDerivedTypeHandling.FailSerialization)]
[JsonDerivedType(typeof(CustomerRegistered), EventTypes.CustomerRegistered)]
[JsonDerivedType(typeof(AccountOpened), EventTypes.AccountOpened)]
[JsonDerivedType(typeof(TransactionPosted), EventTypes.TransactionPosted)]
[JsonDerivedType(typeof(LoanDisbursed), EventTypes.LoanDisbursed)]
[JsonDerivedType(typeof(LoanPaymentMade), EventTypes.LoanPaymentMade)]
public abstract record BankEvent
{
    /// <summary>The schema version this producer wrote. Consumers reject versions they do not know.</summary>
    [JsonPropertyOrder(-10)]
    public int SchemaVersion { get; init; } = EventTypes.CurrentSchemaVersion;

    /// <summary>Unique id of this event (not of the business fact: see the entity ids).</summary>
    [JsonPropertyOrder(-9)]
    public required string EventId { get; init; }

    /// <summary>When the fact happened, as a UTC instant (event time, not processing time).</summary>
    [JsonPropertyOrder(-8)]
    public required DateTimeOffset OccurredAt { get; init; }

    /// <summary>The partition key on the event log: the account id for every money movement.</summary>
    [JsonIgnore]
    public abstract string PartitionKey { get; }
}

/// <summary>The wire names of the event types and the schema version this build writes.</summary>
public static class EventTypes
{
    public const int CurrentSchemaVersion = 1;

    public const string CustomerRegistered = "customer.registered";
    public const string AccountOpened = "account.opened";
    public const string TransactionPosted = "transaction.posted";
    public const string LoanDisbursed = "loan.disbursed";
    public const string LoanPaymentMade = "loan.payment_made";

    public static IReadOnlyList<string> All { get; } =
        [CustomerRegistered, AccountOpened, TransactionPosted, LoanDisbursed, LoanPaymentMade];
}

/// <summary>Where money moved: the bank's map dashboards plot these.</summary>
public sealed record GeoLocation(string City, string Country, double Latitude, double Longitude);
