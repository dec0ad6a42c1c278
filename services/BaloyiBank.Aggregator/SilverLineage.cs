using System.Diagnostics;
using BaloyiBank.Delta;
using BaloyiBank.Lake;
using BaloyiBank.ServiceDefaults;

namespace BaloyiBank.Aggregator;

/// <summary>What the silver commits a round folds say about their origin: their commit spans, and when their events were enqueued.</summary>
/// <param name="Contexts">The traceparents recorded by the silver commits (cleansing's <c>commit</c> spans), sampled or not.</param>
/// <param name="Enqueued">When the events of those commits' flushes were enqueued (each flush counted once); null when none recorded it.</param>
public sealed record SilverLineageResult(IReadOnlyList<ActivityContext> Contexts, EnqueueTimes? Enqueued)
{
    public static SilverLineageResult None { get; } = new([], null);
}

/// <summary>
/// Reads the commitInfo of the silver commits a round folds, for the round span's links (a round that catches up
/// without any <c>SilverBatchCommitted</c> still links the flushes it folded) and the gold stage's latency. Used only
/// while the aggregator's telemetry is on: it reads each folded commit's JSON once more (a few small reads a round).
/// A flush commits the same events' enqueue times to every table it touches, so they are counted once per flush
/// (by its <c>epochId</c>, the flush's file stem).
/// </summary>
internal sealed class SilverLineage(ILakeStore lake) : IDisposable
{
    private const int RememberedFlushes = 4096;

    private readonly Dictionary<string, DeltaTable> _tables = new(StringComparer.Ordinal);
    private readonly HashSet<string> _counted = new(StringComparer.Ordinal);
    private readonly Queue<string> _countedOrder = new();

    public async Task<SilverLineageResult> ReadAsync(IReadOnlyDictionary<string, long> applied, IReadOnlyDictionary<string, long> target, CancellationToken cancellationToken)
    {
        List<string> traceparents = [];
        EnqueueTimes? enqueued = null;
        foreach (var (path, to) in target)
        {
            var from = applied.GetValueOrDefault(path, -1);
            if (to <= from)
            {
                continue;
            }

            if (!_tables.TryGetValue(path, out var table))
            {
                _tables[path] = table = new DeltaTable(lake, path);
            }

            foreach (var commit in await table.ReadChangesAsync(from, to, cancellationToken).ConfigureAwait(false))
            {
                if (commit.CommitInfo?.Lineage is not { } lineage)
                {
                    continue;
                }

                traceparents.AddRange(lineage.TraceParents);
                var flush = commit.CommitInfo.OperationParameters.GetValueOrDefault("epochId") ?? $"{path}@{commit.Version}";
                if (lineage.Enqueued is { } times && Remember(flush))
                {
                    (enqueued ??= new EnqueueTimes()).Merge(times);
                }
            }
        }

        return new([.. TraceLinks.Parse(traceparents)], enqueued);
    }

    private bool Remember(string flush)
    {
        if (!_counted.Add(flush))
        {
            return false;
        }

        _countedOrder.Enqueue(flush);
        if (_countedOrder.Count > RememberedFlushes)
        {
            _counted.Remove(_countedOrder.Dequeue());
        }

        return true;
    }

    public void Dispose()
    {
        foreach (var table in _tables.Values)
        {
            table.Dispose();
        }
    }
}
