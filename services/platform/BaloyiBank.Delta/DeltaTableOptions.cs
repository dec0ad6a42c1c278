namespace BaloyiBank.Delta;

/// <summary>How a <see cref="DeltaTable"/> commits, checkpoints and uses local disk. Defaults suit the streaming writer.</summary>
public sealed record DeltaTableOptions
{
    /// <summary>Write a checkpoint after every commit whose version is a multiple of this (Delta's default is 10).</summary>
    public int CheckpointInterval { get; init; } = 10;

    /// <summary>Attempts to land one commit before giving up with <see cref="DeltaCommitRetriesExhaustedException"/>.</summary>
    public int MaxCommitAttempts { get; init; } = 20;

    /// <summary>Upper bound of the random pause after a lost race (grows with the attempt), so racing writers spread out.</summary>
    public TimeSpan CommitRetryJitter { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>The <c>engineInfo</c> written into every commitInfo.</summary>
    public string EngineInfo { get; init; } = "BaloyiBank.Streaming/1.0";

    /// <summary>Local folder for checkpoint and download scratch files (a subfolder of the system temp folder by default).</summary>
    public string? TempDirectory { get; init; }

    /// <summary>
    /// Resolves a lake path to a local file that can be read in place (a folder lake), or null to download it.
    /// Used by <see cref="DeltaTable.GetReadSetAsync"/>.
    /// </summary>
    public Func<string, string?>? LocalFileResolver { get; init; }

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// How long a checkpoint keeps a remove tombstone (Delta's <c>delta.deletedFileRetentionDuration</c>): older ones are
    /// left out, so a checkpoint, and with it a reader's load, does not grow with every file ever removed. Null keeps them
    /// all. Set it to the vacuum retention: <see cref="DeltaTable.VacuumAsync"/> deletes such files anyway.
    /// </summary>
    public TimeSpan? TombstoneRetention { get; init; }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(CheckpointInterval, 1, nameof(CheckpointInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxCommitAttempts, 1, nameof(MaxCommitAttempts));
        ArgumentOutOfRangeException.ThrowIfLessThan(CommitRetryJitter, TimeSpan.Zero, nameof(CommitRetryJitter));
        ArgumentException.ThrowIfNullOrWhiteSpace(EngineInfo, nameof(EngineInfo));
        if (TombstoneRetention is { } retention)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(retention, TimeSpan.Zero, nameof(TombstoneRetention));
        }
    }
}
