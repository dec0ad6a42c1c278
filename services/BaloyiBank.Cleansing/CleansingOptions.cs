using BaloyiBank.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Cleansing;

/// <summary>The cleansing service's settings (configuration section <c>Cleansing</c>).</summary>
public sealed class CleansingOptions
{
    public const string SectionName = "Cleansing";

    /// <summary>Largest payload accepted; larger ones are quarantined as <c>payload_too_large</c> (and stored cut to this size).</summary>
    public int MaxPayloadBytes { get; set; } = 64 * 1024;

    /// <summary>Deepest container nesting accepted (the root object is 1, <c>location</c> is 2).</summary>
    public int MaxNestingDepth { get; set; } = 8;

    /// <summary>How far occurredAt may lie beyond the record's enqueue time (producer clock skew).</summary>
    public TimeSpan FutureTolerance { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How far occurredAt may run ahead of the partition's event-time watermark (plus log time elapsed since it moved).</summary>
    public TimeSpan WatermarkTolerance { get; set; } = TimeSpan.FromHours(1);

    /// <summary>occurredAt before this instant is not a real fact of this bank (<c>invalid_timestamp</c>).</summary>
    public DateTimeOffset EarliestOccurredAt { get; set; } = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Event-time span within which a repeated transaction id is a duplicate.</summary>
    public TimeSpan DedupHorizon { get; set; } = TimeSpan.FromHours(24);

    /// <summary>A flush (every partition's open micro-batch, written together) happens once they hold this many records in all…</summary>
    public int FlushRows { get; set; } = 200_000;

    /// <summary>…or this many payload bytes in all…</summary>
    public long FlushBytes { get; set; } = 128L * 1024 * 1024;

    /// <summary>
    /// …or the oldest of them is this old, whichever comes first. The limit is on visibility: a flush starts
    /// early by the time recent flushes took (at most half this age), so the oldest record is committed by then.
    /// </summary>
    public TimeSpan FlushAge { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Tables a flush writes files for at once (silver transactions and bronze take about as long as each other);
    /// the commits still follow one another in table order.
    /// </summary>
    public int FlushWriters { get; set; } = 2;


    /// <summary>
    /// The worker's consumer group: it names the Delta txn appIds (<c>{group}-p{partition}</c>) that
    /// hold each partition's progress, so two groups can clean the same log into separate lakes.
    /// </summary>
    public string ConsumerGroup { get; set; } = "cleansing";

    /// <summary>Records asked of the log per read.</summary>
    public int ReadBatchRecords { get; set; } = 1000;

    /// <summary>How long a read waits for the first record; short, so the age limit is kept on a quiet partition.</summary>
    public TimeSpan ReadWait { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Lake folder of the silver tables (each table is a Delta table below it).</summary>
    public string SilverRoot { get; set; } = "silver";

    /// <summary>
    /// Data files in a table folder that no commit names (a crash between writing files and committing) are
    /// deleted once they are this old; younger ones may belong to a flush still being committed.
    /// </summary>
    public TimeSpan OrphanGracePeriod { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often the worker looks for orphan files (between flushes).</summary>
    public TimeSpan OrphanSweepInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How often the worker compacts its tables (silver, quarantine, bronze, the audit), each partition value (event date,
    /// ingest date …) on its own, and then vacuums them (<c>Lake:VacuumRetention</c>); runs beside the flushes.
    /// </summary>
    public TimeSpan CompactionInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>A partition is compacted once it holds this many small files (one per flush that had rows for it).</summary>
    public int CompactionMinFiles { get; set; } = 8;

    /// <summary>Files of half this size or more are left alone; one compaction takes small files whose sizes add up to at most this.</summary>
    public long CompactionTargetFileBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Lake folder of the raw archive (<c>bank_events</c> below it).</summary>
    public string BronzeRoot { get; set; } = "bronze";

    /// <summary>
    /// Whether flushes also archive the raw records to bronze. A replay turns it off: bronze already holds every
    /// record it reads, and a second copy under another consumer group would archive each record twice.
    /// </summary>
    public bool Archive { get; set; } = true;

    /// <summary>
    /// Whether <see cref="SilverRoot"/> names a layer whose live generation the worker resolves at start
    /// (<c>silver/_generations/</c>; none switched yet is the folder itself). A replay writing a generation it has
    /// claimed sets the generation's folder and turns this off.
    /// </summary>
    public bool FollowGenerations { get; set; } = true;

    /// <summary>With <see cref="FollowGenerations"/>, how often the running worker looks for a switch (one lake listing each time).</summary>
    public TimeSpan GenerationPollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Whether several cleansing processes share the log's partitions. On, each process reads only the partitions it
    /// owns through an ownership record per partition in the lake (<c>{SilverRoot}/_ownership/{ConsumerGroup}/</c>),
    /// balanced to a fair share, and its commits are fenced (see the README). Off (the default), one process reads
    /// every partition and no ownership record is read or written.
    /// </summary>
    public bool ScaleOut { get; set; }

    /// <summary>With <see cref="ScaleOut"/>, this process's name in the ownership records; unique per process (default: machine name and process id).</summary>
    public string InstanceId { get; set; } = DefaultInstanceId();

    /// <summary>With <see cref="ScaleOut"/>, how long an ownership record holds without renewal: a process that stops renewing loses its partitions after this.</summary>
    public TimeSpan OwnershipExpiry { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>With <see cref="ScaleOut"/>, how often a process renews its records, claims unowned or expired ones and steals toward its fair share.</summary>
    public TimeSpan OwnershipRenewInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary><c>{machine}-{pid}</c>, with any character an instance id may not hold replaced by '-'.</summary>
    public static string DefaultInstanceId()
    {
        var name = new string([.. Environment.MachineName.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-')]);
        return $"{(name.Length > 64 ? name[..64] : name)}-{Environment.ProcessId}";
    }

    /// <summary>A copy, for a worker that resolves its silver generation without changing the configured options.</summary>
    internal CleansingOptions MemberwiseCloneForGeneration() => (CleansingOptions)MemberwiseClone();
}

/// <summary>Checks <see cref="CleansingOptions"/> at start-up; every message names the option, the problem and the fix.</summary>
public sealed class CleansingOptionsValidator : IValidateOptions<CleansingOptions>
{
    public ValidateOptionsResult Validate(string? name, CleansingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new OptionProblems(CleansingOptions.SectionName)
            .Require(options.MaxPayloadBytes is >= 1024 and <= 16 * 1024 * 1024, nameof(options.MaxPayloadBytes),
                $"must be between 1024 and 16777216 bytes (got {options.MaxPayloadBytes})",
                "set Cleansing__MaxPayloadBytes to the largest event the producers may send, e.g. 65536")
            .Require(options.MaxNestingDepth is >= 2 and <= 64, nameof(options.MaxNestingDepth),
                $"must be between 2 and 64 (got {options.MaxNestingDepth})",
                "set Cleansing__MaxNestingDepth to at least 2 (events nest one object, location), e.g. 8")
            .Require(options.FutureTolerance >= TimeSpan.Zero && options.FutureTolerance <= TimeSpan.FromDays(1), nameof(options.FutureTolerance),
                $"must be between 00:00:00 and 1.00:00:00 (got {options.FutureTolerance})",
                "set Cleansing__FutureTolerance to the producers' worst clock skew, e.g. 00:05:00")
            .Require(options.WatermarkTolerance > TimeSpan.Zero && options.WatermarkTolerance <= TimeSpan.FromDays(1), nameof(options.WatermarkTolerance),
                $"must be above 00:00:00 and at most 1.00:00:00 (got {options.WatermarkTolerance})",
                "set Cleansing__WatermarkTolerance to the longest event-time gap on a busy partition, e.g. 01:00:00")
            .Require(options.EarliestOccurredAt.Offset == TimeSpan.Zero && options.EarliestOccurredAt.Year >= 1970, nameof(options.EarliestOccurredAt),
                $"must be a UTC instant in 1970 or later (got {options.EarliestOccurredAt:O})",
                "set Cleansing__EarliestOccurredAt to a UTC instant such as 2000-01-01T00:00:00Z")
            .Require(options.DedupHorizon >= TimeSpan.FromHours(1) && options.DedupHorizon <= TimeSpan.FromDays(30), nameof(options.DedupHorizon),
                $"must be between 01:00:00 and 30.00:00:00 (got {options.DedupHorizon})",
                "set Cleansing__DedupHorizon to how long after the fact a producer may re-send, e.g. 1.00:00:00")
            .Require(options.FlushRows is >= 1 and <= 10_000_000, nameof(options.FlushRows),
                $"must be between 1 and 10000000 (got {options.FlushRows})",
                "set Cleansing__FlushRows to the records per flush over all partitions, e.g. 200000")
            .Require(options.FlushBytes is >= 1024 and <= 1024L * 1024 * 1024, nameof(options.FlushBytes),
                $"must be between 1024 and 1073741824 bytes (got {options.FlushBytes})",
                "set Cleansing__FlushBytes to the payload bytes per flush, e.g. 134217728")
            .Require(options.FlushAge > TimeSpan.Zero && options.FlushAge <= TimeSpan.FromMinutes(10), nameof(options.FlushAge),
                $"must be above 00:00:00 and at most 00:10:00 (got {options.FlushAge})",
                "set Cleansing__FlushAge to the longest a batch may wait for more records, e.g. 00:00:02")
            .Require(options.FlushWriters is >= 1 and <= 8, nameof(options.FlushWriters),
                $"must be between 1 and 8 (got {options.FlushWriters})",
                "set Cleansing__FlushWriters to the tables written at once per flush, e.g. 2")
            .Require(!string.IsNullOrWhiteSpace(options.ConsumerGroup) && options.ConsumerGroup.Length <= 64
                    && options.ConsumerGroup.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'), nameof(options.ConsumerGroup),
                $"must be 1-64 letters, digits, '-', '_' or '.' (got '{options.ConsumerGroup}')",
                "set Cleansing__ConsumerGroup to a name such as cleansing")
            .Require(options.ReadBatchRecords is >= 1 and <= 100_000, nameof(options.ReadBatchRecords),
                $"must be between 1 and 100000 (got {options.ReadBatchRecords})",
                "set Cleansing__ReadBatchRecords to the records per log read, e.g. 1000")
            .Require(options.ReadWait > TimeSpan.Zero && options.ReadWait <= TimeSpan.FromSeconds(30), nameof(options.ReadWait),
                $"must be above 00:00:00 and at most 00:00:30 (got {options.ReadWait})",
                "set Cleansing__ReadWait to how long a read may wait for records, e.g. 00:00:00.200")
            .Require(options.OrphanGracePeriod >= TimeSpan.FromMinutes(1) && options.OrphanGracePeriod <= TimeSpan.FromDays(30), nameof(options.OrphanGracePeriod),
                $"must be between 00:01:00 and 30.00:00:00 (got {options.OrphanGracePeriod})",
                "set Cleansing__OrphanGracePeriod well above the longest flush, e.g. 01:00:00")
            .Require(options.OrphanSweepInterval >= TimeSpan.FromSeconds(1) && options.OrphanSweepInterval <= TimeSpan.FromDays(1), nameof(options.OrphanSweepInterval),
                $"must be between 00:00:01 and 1.00:00:00 (got {options.OrphanSweepInterval})",
                "set Cleansing__OrphanSweepInterval to how often to look for orphan files, e.g. 00:10:00")
            .Require(options.CompactionInterval >= TimeSpan.FromSeconds(1) && options.CompactionInterval <= TimeSpan.FromDays(1), nameof(options.CompactionInterval),
                $"must be between 00:00:01 and 1.00:00:00 (got {options.CompactionInterval})",
                "set Cleansing__CompactionInterval to how often small files are merged, e.g. 00:01:00")
            .Require(options.CompactionMinFiles is >= 2 and <= 100_000, nameof(options.CompactionMinFiles),
                $"must be between 2 and 100000 (got {options.CompactionMinFiles})",
                "set Cleansing__CompactionMinFiles to the small files a partition may hold before a rewrite, e.g. 8")
            .Require(options.CompactionTargetFileBytes is >= 1024 and <= 1024L * 1024 * 1024, nameof(options.CompactionTargetFileBytes),
                $"must be between 1024 and 1073741824 bytes (got {options.CompactionTargetFileBytes})",
                "set Cleansing__CompactionTargetFileBytes to the file size compaction aims for, e.g. 67108864")
            .Require(!string.IsNullOrWhiteSpace(options.SilverRoot) && !options.SilverRoot.Contains("..", StringComparison.Ordinal) && !options.SilverRoot.StartsWith('/'), nameof(options.SilverRoot),
                $"must be a relative lake folder (got '{options.SilverRoot}')",
                "set Cleansing__SilverRoot to a lake folder such as silver")
            .Require(!string.IsNullOrWhiteSpace(options.BronzeRoot) && !options.BronzeRoot.Contains("..", StringComparison.Ordinal) && !options.BronzeRoot.StartsWith('/'), nameof(options.BronzeRoot),
                $"must be a relative lake folder (got '{options.BronzeRoot}')",
                "set Cleansing__BronzeRoot to a lake folder such as bronze")
            .Require(options.GenerationPollInterval >= TimeSpan.FromMilliseconds(100) && options.GenerationPollInterval <= TimeSpan.FromHours(1), nameof(options.GenerationPollInterval),
                $"must be between 00:00:00.100 and 01:00:00 (got {options.GenerationPollInterval})",
                "set Cleansing__GenerationPollInterval to how soon a running cleansing follows a silver switch, e.g. 00:00:05")
            .Require(!string.IsNullOrWhiteSpace(options.InstanceId) && options.InstanceId.Length <= 128
                    && options.InstanceId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'), nameof(options.InstanceId),
                $"must be 1-128 letters, digits, '-', '_' or '.' (got '{options.InstanceId}')",
                "set Cleansing__InstanceId to a name unique to this process, e.g. cleansing-1, or leave it unset for machine-pid")
            .Require(options.OwnershipExpiry >= TimeSpan.FromSeconds(1) && options.OwnershipExpiry <= TimeSpan.FromMinutes(10), nameof(options.OwnershipExpiry),
                $"must be between 00:00:01 and 00:10:00 (got {options.OwnershipExpiry})",
                "set Cleansing__OwnershipExpiry to how long a silent process keeps its partitions, e.g. 00:00:30")
            .Require(options.OwnershipRenewInterval >= TimeSpan.FromMilliseconds(100) && options.OwnershipRenewInterval * 2 <= options.OwnershipExpiry, nameof(options.OwnershipRenewInterval),
                $"must be at least 00:00:00.100 and at most half of OwnershipExpiry {options.OwnershipExpiry} (got {options.OwnershipRenewInterval})",
                "set Cleansing__OwnershipRenewInterval to a third of Cleansing__OwnershipExpiry, e.g. 00:00:10, so one slow renewal does not lose the partitions")
            .ToResult();
    }
}
