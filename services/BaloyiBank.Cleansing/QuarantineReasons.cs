namespace BaloyiBank.Cleansing;

/// <summary>
/// The quarantine reason codes (the <c>reason</c> column and the metrics' <c>bb.reason</c> tag).
/// Stable snake_case strings: dashboards and the pipeline's audit key on them.
/// </summary>
public static class QuarantineReasons
{
    /// <summary>The payload exceeds <see cref="CleansingOptions.MaxPayloadBytes"/>.</summary>
    public const string PayloadTooLarge = "payload_too_large";
    /// <summary>The bytes are not valid UTF-8 (or a string escapes a lone UTF-16 surrogate).</summary>
    public const string InvalidUtf8 = "invalid_utf8";
    /// <summary>Not one well-formed JSON text: empty, truncated, control bytes, a byte order mark, trailing content.</summary>
    public const string MalformedJson = "malformed_json";
    /// <summary>Well-formed JSON whose root is not an object (array, string, number, literal).</summary>
    public const string NotAnObject = "not_an_object";
    /// <summary>Containers nest deeper than <see cref="CleansingOptions.MaxNestingDepth"/>.</summary>
    public const string NestingTooDeep = "nesting_too_deep";
    /// <summary><c>type</c> names no event this service knows.</summary>
    public const string UnknownEventType = "unknown_event_type";
    /// <summary><c>schemaVersion</c> is not one this service reads.</summary>
    public const string UnsupportedSchemaVersion = "unsupported_schema_version";
    /// <summary>A required property is absent or null (the detail names it).</summary>
    public const string MissingField = "missing_field";
    /// <summary>A property has the wrong JSON type (a string for a number, "NaN", an object for a string…).</summary>
    public const string WrongType = "wrong_type";
    /// <summary>A property name occurs twice in one object.</summary>
    public const string DuplicateField = "duplicate_field";
    /// <summary>A value of the right type breaks a rule: unknown enum member, bad id, coordinates out of range, inconsistent split.</summary>
    public const string InvalidValue = "invalid_value";
    /// <summary>An amount is not a whole number of cents (a rate: of millionths).</summary>
    public const string AmountPrecision = "amount_precision";
    /// <summary>An amount does not fit decimal(18,2) (a rate: decimal(18,6)).</summary>
    public const string AmountOutOfRange = "amount_out_of_range";
    /// <summary>An amount that must be positive is zero or negative (or a balance that must not be negative is).</summary>
    public const string NonPositiveAmount = "non_positive_amount";
    /// <summary>The currency is not an active ISO 4217 code, written in upper case.</summary>
    public const string UnknownCurrency = "unknown_currency";
    /// <summary>The currency differs from the currency the account was opened in.</summary>
    public const string CurrencyMismatch = "currency_mismatch";
    /// <summary>A timestamp or date does not parse as ISO 8601 (instants need an offset), or lies before the floor.</summary>
    public const string InvalidTimestamp = "invalid_timestamp";
    /// <summary>occurredAt lies beyond the enqueue time or the partition's watermark by more than the tolerance.</summary>
    public const string FutureTimestamp = "future_timestamp";
    /// <summary>The account was never opened on this partition.</summary>
    public const string UnknownAccount = "unknown_account";
    /// <summary>A second <c>account.opened</c> for an account already opened (reference data is never overwritten).</summary>
    public const string DuplicateAccount = "duplicate_account";

    public static IReadOnlyList<string> All { get; } =
    [
        PayloadTooLarge, InvalidUtf8, MalformedJson, NotAnObject, NestingTooDeep, UnknownEventType,
        UnsupportedSchemaVersion, MissingField, WrongType, DuplicateField, InvalidValue, AmountPrecision,
        AmountOutOfRange, NonPositiveAmount, UnknownCurrency, CurrencyMismatch, InvalidTimestamp,
        FutureTimestamp, UnknownAccount, DuplicateAccount,
    ];

    /// <summary>
    /// What the cleanser must make of a record of each generator kind, keyed by the kind's
    /// snake_case name (<c>EventKinds.Name</c>) so that this service needs no generator reference.
    /// The pipeline's audit compares the generator's tally with silver, quarantine and duplicates with it.
    /// </summary>
    public static ExpectedOutcome ForGeneratorKind(string kindName) => kindName switch
    {
        "clean" or "late" => ExpectedOutcome.Valid,
        "duplicate" => ExpectedOutcome.Duplicate,
        "malformed_json" => ExpectedOutcome.QuarantinedAs(MalformedJson, InvalidUtf8),
        "missing_field" => ExpectedOutcome.QuarantinedAs(MissingField),
        "unknown_currency" => ExpectedOutcome.QuarantinedAs(UnknownCurrency),
        "non_positive_amount" => ExpectedOutcome.QuarantinedAs(NonPositiveAmount),
        "unknown_account" => ExpectedOutcome.QuarantinedAs(UnknownAccount),
        "future_timestamp" => ExpectedOutcome.QuarantinedAs(FutureTimestamp),
        _ => throw new ArgumentOutOfRangeException(nameof(kindName), kindName, "Not a generator event kind."),
    };
}

/// <summary>The outcome a generator kind must get: its kind and, when quarantined, the reasons that count as right.</summary>
public sealed record ExpectedOutcome(OutcomeKind Kind, IReadOnlySet<string> Reasons)
{
    public static ExpectedOutcome Valid { get; } = new(OutcomeKind.Valid, new HashSet<string>());

    public static ExpectedOutcome Duplicate { get; } = new(OutcomeKind.Duplicate, new HashSet<string>());

    public static ExpectedOutcome QuarantinedAs(params string[] reasons) => new(OutcomeKind.Quarantined, new HashSet<string>(reasons, StringComparer.Ordinal));

    /// <summary>True when <paramref name="outcome"/> is what this kind must get.</summary>
    public bool Matches(in CleansingOutcome outcome) =>
        outcome.Kind == Kind && (Kind != OutcomeKind.Quarantined || Reasons.Contains(outcome.Reason!));
}
