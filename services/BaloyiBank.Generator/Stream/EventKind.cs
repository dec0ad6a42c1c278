namespace BaloyiBank.Generator;

/// <summary>
/// What one generated record is. Every record has exactly one kind. Only
/// <c>transaction.posted</c> records are ever anything but <see cref="Clean"/>, so a defect
/// never cascades (reference events stay clean).
/// </summary>
public enum EventKind
{
    /// <summary>A valid event, in time order.</summary>
    Clean,
    /// <summary>A valid event whose occurredAt is minutes to a day behind the stream (out of order).</summary>
    Late,
    /// <summary>The exact bytes of an earlier valid transaction, re-sent minutes later with the same key.</summary>
    Duplicate,
    /// <summary>Not parseable: truncated, a corrupted byte, or invalid UTF-8.</summary>
    MalformedJson,
    /// <summary>Well-formed JSON without one required field (amount, accountId, currency, occurredAt or transactionId).</summary>
    MissingField,
    /// <summary>A currency code that is not ISO 4217.</summary>
    UnknownCurrency,
    /// <summary>An amount of zero or below.</summary>
    NonPositiveAmount,
    /// <summary>An account that was never opened.</summary>
    UnknownAccount,
    /// <summary>occurredAt days to months ahead of the stream.</summary>
    FutureTimestamp,
}

public static class EventKinds
{
    public static IReadOnlyList<EventKind> All { get; } = Enum.GetValues<EventKind>();

    /// <summary>Clean and late records carry valid facts; every other kind is to be quarantined or dropped.</summary>
    public static bool IsValid(EventKind kind) => kind is EventKind.Clean or EventKind.Late;

    /// <summary>The snake_case name used in metrics and reports.</summary>
    public static string Name(EventKind kind) => kind switch
    {
        EventKind.Clean => "clean",
        EventKind.Late => "late",
        EventKind.Duplicate => "duplicate",
        EventKind.MalformedJson => "malformed_json",
        EventKind.MissingField => "missing_field",
        EventKind.UnknownCurrency => "unknown_currency",
        EventKind.NonPositiveAmount => "non_positive_amount",
        EventKind.UnknownAccount => "unknown_account",
        EventKind.FutureTimestamp => "future_timestamp",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
