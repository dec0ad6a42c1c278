namespace BaloyiBank.Cleansing;

/// <summary>One raw event as read from the log: its position, its times and its bytes (not copied).</summary>
public readonly ref struct RawEvent(int partition, long offset, DateTimeOffset enqueuedAt, DateTimeOffset ingestedAt, ReadOnlySpan<byte> payload)
{
    public int Partition { get; } = partition;
    public long Offset { get; } = offset;
    /// <summary>When the log accepted the record (broker time).</summary>
    public DateTimeOffset EnqueuedAt { get; } = enqueuedAt;
    /// <summary>When the cleanser took it (its wall clock).</summary>
    public DateTimeOffset IngestedAt { get; } = ingestedAt;
    public ReadOnlySpan<byte> Payload { get; } = payload;
}

/// <summary>Where a consumed event ends (architecture invariant 5): silver, quarantine or the duplicate counter.</summary>
public enum OutcomeKind : byte
{
    Valid,
    Quarantined,
    Duplicate,
}

/// <summary>
/// What the cleanser made of one raw event: a silver row (<see cref="OutcomeKind.Valid"/>), a
/// reason to quarantine it, or the id of the transaction it repeats. A struct, so that the
/// per-event path allocates nothing beyond the row.
/// </summary>
public readonly record struct CleansingOutcome
{
    /// <summary>Quarantine details are cut to this length (the column's contract).</summary>
    public const int MaxDetailLength = 500;

    private CleansingOutcome(OutcomeKind kind, SilverRow? row, string? reason, string? detail, string? eventType, string? transactionId)
    {
        Kind = kind;
        Row = row;
        Reason = reason;
        Detail = detail;
        EventType = eventType;
        TransactionId = transactionId;
    }

    public OutcomeKind Kind { get; }

    /// <summary>The silver row of a valid event.</summary>
    public SilverRow? Row { get; }

    /// <summary>The quarantine reason code (see <see cref="QuarantineReasons"/>).</summary>
    public string? Reason { get; }

    /// <summary>What exactly is wrong, for a human, at most <see cref="MaxDetailLength"/> characters.</summary>
    public string? Detail { get; }

    /// <summary>The event's <c>type</c> when it is a known one, for quarantined events.</summary>
    public string? EventType { get; }

    /// <summary>The repeated transaction's id, for duplicates.</summary>
    public string? TransactionId { get; }

    public static CleansingOutcome Valid(SilverRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return new(OutcomeKind.Valid, row, null, null, null, null);
    }

    public static CleansingOutcome Quarantined(string reason, string detail, string? eventType)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        ArgumentNullException.ThrowIfNull(detail);
        return new(OutcomeKind.Quarantined, null, reason, detail.Length <= MaxDetailLength ? detail : detail[..MaxDetailLength], eventType, null);
    }

    public static CleansingOutcome Duplicate(string transactionId)
    {
        ArgumentException.ThrowIfNullOrEmpty(transactionId);
        return new(OutcomeKind.Duplicate, null, null, null, null, transactionId);
    }

    public override string ToString() => Kind switch
    {
        OutcomeKind.Valid => $"valid {Row!.Table.Name}",
        OutcomeKind.Quarantined => $"quarantined {Reason}: {Detail}",
        _ => $"duplicate {TransactionId}",
    };
}
