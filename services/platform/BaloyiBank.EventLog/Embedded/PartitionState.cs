namespace BaloyiBank.EventLog.Embedded;

/// <summary>What this instance's writer has made visible in a partition: readers never read past it.</summary>
/// <param name="LastTimestampTicks">Enqueue time of the newest record, or <see cref="long.MinValue"/> when none.</param>
internal sealed record CommittedEnd(long SegmentBase, long SegmentLength, long NextOffset, long LastTimestampTicks);

/// <summary>Per-partition state shared by the writer and the readers of one log instance.</summary>
internal sealed class PartitionState(int partition, string directory)
{
    private volatile CommittedEnd? _committed;
    private TaskCompletionSource _appended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Partition { get; } = partition;

    public string Directory { get; } = directory;

    /// <summary>Null unless this instance writes the partition; readers then poll the files.</summary>
    public CommittedEnd? Committed => _committed;

    /// <summary>Completes at the next publish; take it before looking for data so no wake-up is missed.</summary>
    public Task Appended => Volatile.Read(ref _appended).Task;

    public void Publish(CommittedEnd? end)
    {
        _committed = end;
        Interlocked.Exchange(ref _appended, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }
}
