using System.Globalization;
using BaloyiBank.EventLog;

namespace BaloyiBank.Generator;

/// <summary>
/// Where a stream stands in the log: the highest sequence number on each partition. Because
/// batches are appended one at a time and each partition's part of an append is all-or-nothing,
/// a partition holds exactly the records of its share of the stream up to that number.
/// </summary>
public sealed class ResumePoint
{
    private readonly long[] _lastSequence;

    public ResumePoint(IReadOnlyList<long> lastSequenceByPartition)
    {
        ArgumentNullException.ThrowIfNull(lastSequenceByPartition);
        _lastSequence = [.. lastSequenceByPartition];
        var max = -1L;
        foreach (var sequence in _lastSequence)
        {
            max = Math.Max(max, sequence);
        }

        NextSequence = max + 1;
    }

    public static ResumePoint Fresh(int partitions)
    {
        var none = new long[partitions];
        Array.Fill(none, -1);
        return new ResumePoint(none);
    }

    /// <summary>The highest sequence number per partition, −1 where a partition holds none.</summary>
    public IReadOnlyList<long> LastSequenceByPartition => _lastSequence;

    /// <summary>The first sequence number no partition holds beyond: 1 + the highest found.</summary>
    public long NextSequence { get; }

    /// <summary>True when the record is already in the log (so resuming must skip it).</summary>
    public bool Holds(long sequence, int partition) => sequence <= _lastSequence[partition];
}

/// <summary>The stream in the log was written with other settings (or by something else); resuming would corrupt it.</summary>
public sealed class StreamMismatchException(string message) : InvalidOperationException(message);

/// <summary>Reads the last record of every partition to find where the generated stream stands.</summary>
internal static class StreamResume
{
    private static readonly TimeSpan ReadWait = TimeSpan.FromSeconds(2);

    public static async Task<ResumePoint> ReadAsync(IEventLog log, StreamSettings settings, CancellationToken cancellationToken)
    {
        var fingerprint = settings.Fingerprint();
        var partitions = await log.DescribeAsync(cancellationToken);
        var last = new long[log.PartitionCount];
        Array.Fill(last, -1);
        foreach (var info in partitions)
        {
            if (info.IsEmpty)
            {
                continue;
            }

            var record = await ReadLastAsync(log, info, cancellationToken)
                ?? throw new StreamMismatchException(
                    $"Partition {info.Partition} of event log '{log.Name}' reports records up to offset {info.NextOffset - 1} but none could be read. " +
                    "Fix: check the log's health (baloyi status), or point --data at a new folder to start a fresh stream.");
            var sequenceText = record.Headers[GeneratorHeaders.Sequence];
            var loggedFingerprint = record.Headers[GeneratorHeaders.Fingerprint];
            if (sequenceText is null || loggedFingerprint is null
                || !long.TryParse(sequenceText, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
            {
                throw new StreamMismatchException(
                    $"Partition {info.Partition} of event log '{log.Name}' ends with a record (offset {record.Offset}) the generator did not write " +
                    $"(no valid {GeneratorHeaders.Sequence}/{GeneratorHeaders.Fingerprint} headers). " +
                    "Fix: give the generator a log of its own: point --data at a new folder (or EventLog settings at an empty hub).");
            }

            if (!string.Equals(loggedFingerprint, fingerprint, StringComparison.Ordinal))
            {
                var differences = await DescribeDifferencesAsync(log, partitions, settings, cancellationToken);
                throw new StreamMismatchException(
                    $"Event log '{log.Name}' holds a stream generated with other settings (fingerprint {loggedFingerprint}, these settings give {fingerprint})" +
                    (differences.Count > 0 ? ": " + string.Join(", ", differences) : "") + ". " +
                    "Fix: resume with the stream's own settings (the same --seed and --start, pace, population and defect shares), " +
                    "or point --data at a new folder to start a fresh stream.");
            }

            last[info.Partition] = sequence;
        }

        return new ResumePoint(last);
    }

    private static async Task<LogRecord?> ReadLastAsync(IEventLog log, PartitionInfo info, CancellationToken cancellationToken)
    {
        // NextOffset is last + 1; step further back only if the backend leaves offset gaps.
        for (var back = 1L; ; back *= 64)
        {
            var from = Math.Max(info.FirstOffset, info.NextOffset - back);
            LogRecord? last = null;
            await using (var reader = log.OpenReader(info.Partition, StartPosition.AtOffset(from)))
            {
                while (true)
                {
                    var records = await reader.ReadAsync(4_096, last is null ? ReadWait : TimeSpan.Zero, cancellationToken);
                    if (records.Count == 0)
                    {
                        break;
                    }

                    last = records[^1];
                    if (last.Offset >= info.NextOffset - 1)
                    {
                        break;
                    }
                }
            }

            if (last is not null || from == info.FirstOffset)
            {
                return last;
            }
        }
    }

    /// <summary>Names the differing settings from the full settings line on the stream's first record, when it is still retained.</summary>
    private static async Task<IReadOnlyList<string>> DescribeDifferencesAsync(
        IEventLog log, IReadOnlyList<PartitionInfo> partitions, StreamSettings settings, CancellationToken cancellationToken)
    {
        foreach (var info in partitions)
        {
            if (info.IsEmpty)
            {
                continue;
            }

            await using var reader = log.OpenReader(info.Partition, StartPosition.AtOffset(info.FirstOffset));
            var first = await reader.ReadAsync(1, ReadWait, cancellationToken);
            if (first.Count == 1 && first[0].Headers[GeneratorHeaders.Settings] is { } canonical)
            {
                return settings.DifferencesFrom(canonical);
            }
        }

        return [];
    }
}
