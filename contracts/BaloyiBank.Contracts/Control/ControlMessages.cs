namespace BaloyiBank.Contracts.Control;

// Control messages travel on the control bus (MassTransit) between services; the events
// themselves never do. They evolve by adding optional (non-required) properties, never by
// changing a property's meaning. Trace context rides in the transport's headers, not here.

/// <summary>A cleansing micro-batch became visible in a silver table: its commit entry landed.</summary>
public sealed record SilverBatchCommitted
{
    /// <summary>The silver table, as its lake path (e.g. "silver/transactions").</summary>
    public required string Table { get; init; }

    /// <summary>The table's commit-log (Delta) version that made the batch visible.</summary>
    public required long TableVersion { get; init; }

    /// <summary>The event-log partition the batch covers.</summary>
    public required int Partition { get; init; }

    /// <summary>First offset of the batch's contiguous offset range (inclusive).</summary>
    public required long FirstOffset { get; init; }

    /// <summary>Last offset of the batch's contiguous offset range (inclusive).</summary>
    public required long LastOffset { get; init; }

    /// <summary>Events written to silver (valid, first occurrence).</summary>
    public required long ValidRows { get; init; }

    /// <summary>Events written to quarantine with a reason.</summary>
    public required long QuarantinedRows { get; init; }

    /// <summary>Events dropped as duplicates; valid + quarantined + duplicates = the range's events.</summary>
    public required long DuplicateRows { get; init; }

    /// <summary>Earliest event time among the valid rows; null when there were none.</summary>
    public DateTimeOffset? MinEventTime { get; init; }

    /// <summary>Latest event time among the valid rows; null when there were none.</summary>
    public DateTimeOffset? MaxEventTime { get; init; }

    public required DateTimeOffset CommittedAt { get; init; }
}

/// <summary>The aggregator committed changes to one or more gold tables.</summary>
public sealed record GoldCommitted
{
    /// <summary>The gold tables changed, as lake paths (e.g. "gold/account_balances").</summary>
    public required IReadOnlyList<string> Tables { get; init; }

    /// <summary>
    /// The gold round this commit completed. Rounds number the aggregator's commits over all gold tables (each
    /// table's Delta log has versions of its own) and are what the sink's warehouse watermark counts.
    /// </summary>
    public required long Version { get; init; }

    /// <summary>Rows added or changed, per table in <see cref="Tables"/>.</summary>
    public required IReadOnlyDictionary<string, long> ChangedRows { get; init; }

    public required DateTimeOffset CommittedAt { get; init; }
}

/// <summary>The sink merged gold changes into the warehouse.</summary>
public sealed record WarehouseLoaded
{
    /// <summary>The warehouse tables loaded.</summary>
    public required IReadOnlyList<string> Tables { get; init; }

    public required long RowsInserted { get; init; }

    public required long RowsUpdated { get; init; }

    /// <summary>The gold round loaded up to (<see cref="GoldCommitted.Version"/>), as recorded in the warehouse with the MERGE.</summary>
    public required long Watermark { get; init; }

    /// <summary>Time from the start of staging to the MERGE's commit.</summary>
    public required TimeSpan Duration { get; init; }
}

/// <summary>An operator asked to rebuild a layer into a new generation beside the live one.</summary>
public sealed record ReplayRequested
{
    /// <summary>The layer to rebuild: "silver" or "gold".</summary>
    public required string Layer { get; init; }

    /// <summary>Rebuild from events at or after this event time; null rebuilds from the beginning.</summary>
    public DateTimeOffset? From { get; init; }

    /// <summary>Why, for the audit trail (e.g. "validation rule 7 fixed").</summary>
    public required string Reason { get; init; }
}
