using BaloyiBank.EventLog.Embedded;

namespace BaloyiBank.EventLog.Tests;

/// <summary>The contract against the embedded folder log, with a manual clock and small segments.</summary>
public sealed class EmbeddedEventLogContractTests : EventLogContract, IDisposable
{
    private readonly TempFolder _root = new();
    private readonly ManualClock _clock = new(new DateTimeOffset(2025, 3, 1, 8, 0, 0, TimeSpan.Zero));
    private readonly Dictionary<IEventLog, EmbeddedEventLogOptions> _opened = [];

    protected override TimeSpan ClockTolerance => TimeSpan.Zero;

    protected override TimeSpan Quiet => TimeSpan.FromMilliseconds(100);

    protected override TimeSpan? Retention => TimeSpan.FromHours(1);

    public void Dispose() => _root.Dispose();

    protected override Task<IEventLog> CreateLogAsync(int partitions) => Task.FromResult<IEventLog>(Open(new EmbeddedEventLogOptions
    {
        Directory = _root.NewFolder(),
        Partitions = partitions,
        SegmentBytes = 16 * 1024,
        Retention = TimeSpan.FromHours(1),
        TimeProvider = _clock,
        PollInterval = TimeSpan.FromMilliseconds(20),
    }));

    protected override Task<IEventLog> ReopenAsync(IEventLog disposed) => Task.FromResult<IEventLog>(Open(_opened[disposed]));

    protected override DateTimeOffset Now(IEventLog log) => _clock.GetUtcNow();

    protected override Task LetTimePassAsync(IEventLog log, TimeSpan elapsed)
    {
        _clock.Advance(elapsed);
        return Task.CompletedTask;
    }

    protected override Task ApplyRetentionAsync(IEventLog log, TimeSpan elapsed)
    {
        _clock.Advance(elapsed);
        ((EmbeddedEventLog)log).ApplyRetention();
        return Task.CompletedTask;
    }

    private EmbeddedEventLog Open(EmbeddedEventLogOptions options)
    {
        var log = EmbeddedEventLog.Open(options);
        _opened[log] = options;
        return log;
    }
}
