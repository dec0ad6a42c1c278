using BaloyiBank.Contracts;

namespace BaloyiBank.Generator;

/// <summary>
/// One record of the generated stream, before serialization: the event (already carrying any
/// field-level defect) plus what is needed to damage its bytes reproducibly. Skipped records
/// on resume are never serialized.
/// </summary>
internal readonly struct GeneratedEvent(long sequence, EventKind kind, BankEvent @event, byte defectVariant, ulong defectSeed)
{
    public long Sequence { get; } = sequence;
    public EventKind Kind { get; } = kind;
    public BankEvent Event { get; } = @event;

    /// <summary>Which damage (for malformed JSON) or which field (for a missing field).</summary>
    public byte DefectVariant { get; } = defectVariant;

    /// <summary>Random bits drawn at generation time that place the damage within the bytes.</summary>
    public ulong DefectSeed { get; } = defectSeed;

    public string Key => Event.PartitionKey;

    public int TypeIndex => EventTypeIndex.Of(Event);

    public GeneratedEvent WithSequence(long sequence) => new(sequence, Kind, Event, DefectVariant, DefectSeed);
}

/// <summary>Event types as dense indexes, in the order of <see cref="EventTypes.All"/>.</summary>
internal static class EventTypeIndex
{
    public const int Count = 5;

    public static int Of(BankEvent bankEvent) => bankEvent switch
    {
        CustomerRegistered => 0,
        AccountOpened => 1,
        TransactionPosted => 2,
        LoanDisbursed => 3,
        LoanPaymentMade => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(bankEvent), bankEvent.GetType().Name, "Not a generated event type."),
    };

    public static string Name(int index) => EventTypes.All[index];
}

/// <summary>Money as whole cents inside the simulation; decimals with exactly two places on the wire.</summary>
internal static class Money
{
    public static decimal FromCents(long cents)
    {
        var magnitude = cents < 0 ? (ulong)(-cents) : (ulong)cents;
        return new decimal((int)(uint)magnitude, (int)(uint)(magnitude >> 32), 0, cents < 0, 2);
    }

    /// <summary>Cents of a decimal amount, rounding half to even like every other rounding here.</summary>
    public static long ToCents(decimal amount) => (long)decimal.Round(amount * 100m, MidpointRounding.ToEven);
}
