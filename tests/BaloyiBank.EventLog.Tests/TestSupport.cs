using System.Text;

namespace BaloyiBank.EventLog.Tests;

/// <summary>A temporary folder removed with everything in it at dispose.</summary>
public sealed class TempFolder : IDisposable
{
    private int _next;

    public TempFolder() => Path = Directory.CreateTempSubdirectory("baloyi-eventlog-").FullName;

    public string Path { get; }

    public string NewFolder() => System.IO.Path.Combine(Path, "log-" + Interlocked.Increment(ref _next));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A child process may still be releasing files; the OS temp cleaner gets the rest.
        }
    }
}

/// <summary>A clock that moves only when told to, for enqueue times and retention without sleeping.</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private long _ticks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}

public static class Events
{
    /// <summary>Keys that KeyPartitioner sends to <paramref name="partition"/>, so a test can aim at one partition.</summary>
    public static string[] KeysFor(int partition, int partitions, int count, string prefix = "key")
    {
        var keys = new List<string>(count);
        for (var i = 0; keys.Count < count; i++)
        {
            var key = $"{prefix}-{i}";
            if (KeyPartitioner.PartitionFor(key, partitions) == partition)
            {
                keys.Add(key);
            }
        }

        return [.. keys];
    }

    public static OutgoingEvent Make(string key, string value, EventHeaders? headers = null) =>
        new(key, Encoding.UTF8.GetBytes(value), headers ?? EventHeaders.Empty);

    public static string Text(this LogRecord record) => Encoding.UTF8.GetString(record.Value.Span);

    /// <summary>Reads until <paramref name="count"/> records arrived; fails if they do not within the timeout.</summary>
    public static async Task<List<LogRecord>> ReadExactlyAsync(this IPartitionReader reader, int count, TimeSpan? timeout = null)
    {
        var records = new List<LogRecord>(count);
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (records.Count < count)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"Read {records.Count} of {count} records from partition {reader.Partition} before the timeout.");
            }

            records.AddRange(await Guarded(reader, Math.Min(count - records.Count, 1000), left < TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1)));
        }

        return records;
    }

    /// <summary>One read on the thread pool with a deadline, so a reader that spins turns into a failure, not a hung run.</summary>
    public static Task<IReadOnlyList<LogRecord>> Guarded(IPartitionReader reader, int maxRecords, TimeSpan maxWait) =>
        Task.Run(() => reader.ReadAsync(maxRecords, maxWait)).WaitAsync(maxWait + TimeSpan.FromSeconds(30));

    /// <summary>Reads until a read stays empty for <paramref name="quiet"/>.</summary>
    public static async Task<List<LogRecord>> ReadToEndAsync(this IPartitionReader reader, TimeSpan quiet)
    {
        var records = new List<LogRecord>();
        while (true)
        {
            var batch = await Guarded(reader, 1000, quiet);
            if (batch.Count == 0)
            {
                return records;
            }

            records.AddRange(batch);
        }
    }
}
