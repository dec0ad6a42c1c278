namespace BaloyiBank.Delta;

/// <summary>The log holds something this library cannot read or write safely (unsupported protocol, type, malformed action).</summary>
public class DeltaProtocolException : Exception
{
    public DeltaProtocolException()
    {
    }

    public DeltaProtocolException(string message)
        : base(message)
    {
    }

    public DeltaProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The commit log is broken: a version is missing from the sequence or a file cannot be parsed.</summary>
public sealed class DeltaLogCorruptException : DeltaProtocolException
{
    public DeltaLogCorruptException()
    {
    }

    public DeltaLogCorruptException(string message)
        : base(message)
    {
    }

    public DeltaLogCorruptException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The lake path of the missing or unreadable log file, when one is to blame.</summary>
    public string? LogFile { get; init; }
}

/// <summary>The table has no commit log at its path.</summary>
public sealed class DeltaTableNotFoundException : Exception
{
    public DeltaTableNotFoundException()
    {
    }

    public DeltaTableNotFoundException(string message)
        : base(message)
    {
    }

    public DeltaTableNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// A concurrent commit changed what this commit depends on (the metadata, or a file it removes or adds),
/// so retrying at a later version would be wrong. The caller must re-read the table and redo its work.
/// </summary>
public sealed class DeltaConcurrentModificationException : Exception
{
    public DeltaConcurrentModificationException()
    {
    }

    public DeltaConcurrentModificationException(string message)
        : base(message)
    {
    }

    public DeltaConcurrentModificationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The version of the winning commit that conflicts.</summary>
    public long ConflictingVersion { get; init; }
}

/// <summary>
/// A <see cref="DeltaCommit.Fences"/> condition failed: another writer committed progress for the fenced appId since this
/// writer read it, so this commit would duplicate or reorder that range. Nothing was written; the caller must drop its
/// work for that appId and resume from the table.
/// </summary>
public sealed class DeltaFencedException : Exception
{
    public DeltaFencedException()
    {
    }

    public DeltaFencedException(string message)
        : base(message)
    {
    }

    public DeltaFencedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The appId whose progress moved.</summary>
    public string AppId { get; init; } = "";

    /// <summary>The txn version the table holds for <see cref="AppId"/>.</summary>
    public long Found { get; init; }

    /// <summary>The table version that showed it.</summary>
    public long TableVersion { get; init; }
}

/// <summary>Every attempt to commit lost the race for its version (too many writers, or too few attempts allowed).</summary>
public sealed class DeltaCommitRetriesExhaustedException : Exception
{
    public DeltaCommitRetriesExhaustedException()
    {
    }

    public DeltaCommitRetriesExhaustedException(string message)
        : base(message)
    {
    }

    public DeltaCommitRetriesExhaustedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
