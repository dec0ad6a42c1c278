namespace BaloyiBank.Cli.Presentation;

/// <summary>What the CLI shows of a running pipeline at one moment; decoupled from each service's own progress type.</summary>
internal sealed record RunSnapshot(
    long Generated,
    long Appended,
    long CatchUp,
    double EventsPerSecond,
    TimeSpan Elapsed,
    DateTimeOffset? SimulatedFrom,
    DateTimeOffset? SimulatedClock,
    IReadOnlyDictionary<string, long> ByKind,
    IReadOnlyDictionary<string, long> ByType,
    IReadOnlyList<long> NextOffsets,
    CleansingSnapshot? Cleansing,
    string? Error);

/// <summary>What cleansing did in this run: every consumed event is valid (silver), quarantined or a duplicate.</summary>
internal sealed record CleansingSnapshot(
    long Consumed,
    long Valid,
    long Quarantined,
    long Duplicates,
    long Batches,
    long Lag,
    IReadOnlyDictionary<string, long> QuarantinedByReason,
    IReadOnlyList<KindReconciliation> ByGeneratorKind);

/// <summary>One generator kind next to what cleansing made of it (this run's counts).</summary>
internal sealed record KindReconciliation(string Kind, long Generated, string Expected, long Observed)
{
    public bool Matches => Generated == Observed;
}
