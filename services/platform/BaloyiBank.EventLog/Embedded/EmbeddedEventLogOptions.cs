using Microsoft.Extensions.Logging;

namespace BaloyiBank.EventLog.Embedded;

/// <summary>Options of <see cref="EmbeddedEventLog.Open"/>, for use without dependency injection.</summary>
public sealed class EmbeddedEventLogOptions
{
    /// <summary>The log's folder; created if missing. Holds <c>log.json</c> and one folder per partition.</summary>
    public required string Directory { get; init; }

    public string Name { get; init; } = "bank-events";

    /// <summary>Partition count of a new log; must match the stored count of an existing one.</summary>
    public int Partitions { get; init; } = 8;

    /// <summary>A partition starts a new segment file once the active one would grow past this size (default 128 MiB).</summary>
    public long SegmentBytes { get; init; } = EventLogLimits.DefaultSegmentBytes;

    /// <summary>
    /// Sealed segments whose newest record was enqueued longer ago than this are deleted (default 7 days).
    /// The active segment is never deleted, so the newest records always stay.
    /// </summary>
    public TimeSpan Retention { get; init; } = TimeSpan.FromDays(7);

    /// <summary>
    /// What an acknowledged append survives. false (default): <c>AppendAsync</c> returns once each
    /// partition's frame is written to the operating system (one write call): a process crash or
    /// SIGKILL loses nothing acknowledged; a power loss or kernel crash may lose recent batches.
    /// true: it also fsyncs each touched segment before returning, so acknowledged batches survive
    /// power loss. Either way a clean dispose fsyncs, and a batch is all-or-nothing per partition.
    /// Readers in this process see a batch once it is acknowledged; readers in other processes read
    /// the files and may see it a moment before its fsync completes.
    /// </summary>
    public bool FsyncOnAppend { get; init; }

    /// <summary>
    /// Every this many appended bytes per partition, ask the OS to start writing them to disk in the
    /// background (Linux sync_file_range; default 8 MiB, 0 turns it off). Keeps disk writes flowing
    /// with appends rather than in one burst at close, and bounds unflushed data. Not an fsync: it
    /// changes nothing about what an acknowledgement guarantees.
    /// </summary>
    public long WriteBehindBytes { get; init; } = 8L * 1024 * 1024;

    /// <summary>Bytes between sparse-index entries (default 4 KiB); every frame at least this far from the last indexed one is indexed.</summary>
    public int IndexIntervalBytes { get; init; } = 4096;

    /// <summary>How often a reader re-checks the files when no in-process writer signals it (default 50 ms).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>How often the writing instance applies retention, besides at every segment roll (default 5 minutes).</summary>
    public TimeSpan RetentionCheckInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Clock for enqueue times and retention; tests pass a manual clock.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Receives torn-tail repairs and retention deletions; optional.</summary>
    public ILogger? Logger { get; init; }

    internal IEnumerable<string> Validate()
    {
        foreach (var failure in EventLogOptionsValidator.CheckCommon(Name, Partitions))
        {
            yield return failure;
        }

        foreach (var failure in EventLogOptionsValidator.CheckEmbedded(Directory, SegmentBytes, Retention))
        {
            yield return failure;
        }

        if (WriteBehindBytes < 0)
        {
            yield return $"WriteBehindBytes must be zero (off) or positive (got {WriteBehindBytes}).";
        }

        if (IndexIntervalBytes < 1)
        {
            yield return $"IndexIntervalBytes must be positive (got {IndexIntervalBytes}).";
        }

        if (PollInterval <= TimeSpan.Zero || PollInterval > TimeSpan.FromMinutes(1))
        {
            yield return $"PollInterval must be between 0 and 1 minute (got {PollInterval}).";
        }

        if (RetentionCheckInterval <= TimeSpan.Zero)
        {
            yield return $"RetentionCheckInterval must be positive (got {RetentionCheckInterval}).";
        }
    }
}
