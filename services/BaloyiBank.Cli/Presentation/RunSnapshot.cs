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
    string? Error);
