namespace BaloyiBank.EventLog;

/// <summary>
/// Stored log data failed its checksum or structure check where it cannot be a torn tail
/// (valid data follows it, or the segment is sealed). The reader stops here and never returns
/// the damaged records; records before this point are intact.
/// </summary>
public sealed class EventLogCorruptionException : IOException
{
    public EventLogCorruptionException(string logName, int partition, string filePath, long bytePosition, long offset, string reason)
        : base(
            $"Event log '{logName}' partition {partition} is corrupt: {reason} in segment '{filePath}' at byte {bytePosition} (record offset {offset}). " +
            "Records before this point are intact. Keep a copy of the folder for investigation, then restore the partition from a backup " +
            "or replay the affected range from the bronze archive.")
    {
        LogName = logName;
        Partition = partition;
        FilePath = filePath;
        BytePosition = bytePosition;
        Offset = offset;
        Reason = reason;
    }

    public EventLogCorruptionException()
        : this("?", -1, "?", -1, -1, "unknown damage")
    {
    }

    public EventLogCorruptionException(string message)
        : base(message)
    {
        LogName = FilePath = Reason = string.Empty;
        Partition = -1;
        BytePosition = Offset = -1;
    }

    public EventLogCorruptionException(string message, Exception innerException)
        : base(message, innerException)
    {
        LogName = FilePath = Reason = string.Empty;
        Partition = -1;
        BytePosition = Offset = -1;
    }

    public string LogName { get; }
    public int Partition { get; }
    public string FilePath { get; }
    public long BytePosition { get; }
    /// <summary>The offset of the first record the damaged frame would have held.</summary>
    public long Offset { get; }
    public string Reason { get; }
}

/// <summary>Another process (or another log instance in this one) is writing the partition.</summary>
public sealed class EventLogLockedException : IOException
{
    public EventLogLockedException(string logName, int partition, string directory, string? holder, Exception? innerException = null)
        : base(
            $"Event log '{logName}' partition {partition} in '{directory}' is already being written by {holder ?? "another process (pid unknown)"}. " +
            "Only one process may write a partition at a time: stop the other process or use another --data folder.",
            innerException)
    {
        LogName = logName;
        Partition = partition;
        Directory = directory;
        Holder = holder;
    }

    public EventLogLockedException()
        : this("?", -1, "?", null)
    {
    }

    public EventLogLockedException(string message)
        : base(message)
    {
        LogName = Directory = string.Empty;
        Partition = -1;
    }

    public EventLogLockedException(string message, Exception innerException)
        : base(message, innerException)
    {
        LogName = Directory = string.Empty;
        Partition = -1;
    }

    public string LogName { get; }
    public int Partition { get; }
    public string Directory { get; }
    /// <summary>Who holds the lock as it recorded itself ("pid 1234 on host"), when known.</summary>
    public string? Holder { get; }
}

/// <summary>The options do not match the stored log (partition count, name, format), or are invalid.</summary>
public sealed class EventLogConfigurationException : InvalidOperationException
{
    public EventLogConfigurationException()
    {
    }

    public EventLogConfigurationException(string message)
        : base(message)
    {
    }

    public EventLogConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
