using System.Diagnostics;
using System.Diagnostics.Metrics;
using BaloyiBank.Delta;
using BaloyiBank.ServiceDefaults;

namespace BaloyiBank.Aggregator;

/// <summary>
/// The aggregator's telemetry: the ActivitySource and Meter <c>BaloyiBank.Aggregator</c>. One <c>gold round</c> span per
/// round, linked to the <c>SilverBatchCommitted</c> consume spans that woke it and to the silver commit spans it folds;
/// the gold commits and the <c>GoldCommitted</c> publish are its children.
/// </summary>
public sealed class AggregatorMetrics : IDisposable
{
    public const string MeterName = "BaloyiBank.Aggregator";

    /// <summary>The aggregator's spans (same name as its meter).</summary>
    public static ActivitySource Source { get; } = new(MeterName);

    private readonly Meter _meter;
    private readonly Counter<long> _rowsFolded;
    private readonly Counter<long> _commits;
    private readonly Counter<long> _changedRows;
    private readonly Counter<long> _refreshedRows;
    private readonly Histogram<double> _refreshDuration;
    private readonly Histogram<double> _roundDuration;
    private readonly Histogram<long> _roundRows;
    private readonly Histogram<double> _latency;
    private long _lag;

    public AggregatorMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _rowsFolded = _meter.CreateCounter<long>("baloyibank.aggregator.rows_folded", "{row}", "Silver rows folded into gold state.");
        _commits = _meter.CreateCounter<long>("baloyibank.aggregator.gold_commits", "{round}", "Gold rounds committed.");
        _changedRows = _meter.CreateCounter<long>("baloyibank.aggregator.changed_rows", "{row}", "Gold rows written (new images), per table.");
        _refreshedRows = _meter.CreateCounter<long>("baloyibank.aggregator.refreshed_rows", "{row}",
            "Rows rewritten into the current-state gold tables (the whole buckets or dates holding changed keys), per table.");
        _refreshDuration = _meter.CreateHistogram<double>("baloyibank.aggregator.refresh.duration", "s", "Time to refresh the current-state gold tables after a round.");
        _roundDuration = _meter.CreateHistogram<double>("baloyibank.aggregator.round.duration", "s", "Time to fold a round's silver commits and commit gold.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = PipelineLatency.Buckets });
        _roundRows = _meter.CreateHistogram<long>("baloyibank.aggregator.round.rows", "{row}", "Silver rows folded per gold round.");
        _latency = PipelineLatency.Create(_meter);
        _meter.CreateObservableGauge("baloyibank.aggregator.lag", () => Interlocked.Read(ref _lag), "{version}",
            "Silver commits not yet folded into gold, summed over the silver tables.");
    }

    /// <summary>Whether anyone listens for what the silver commits' lineage is read for (the round's links or the latency).</summary>
    public bool LineageWanted => _latency.Enabled || Source.HasListeners();

    public void RowsFolded(string silverTable, long rows) => _rowsFolded.Add(rows, new KeyValuePair<string, object?>("silver.table", silverTable));

    public void Committed(GoldChangeSet changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        _commits.Add(1);
        foreach (var (table, rows) in changes.RowsByTable)
        {
            _changedRows.Add(rows, new KeyValuePair<string, object?>("gold.table", table));
        }
    }

    public void Refreshed(GoldRefreshResult refresh)
    {
        ArgumentNullException.ThrowIfNull(refresh);
        _refreshDuration.Record(refresh.Duration.TotalSeconds);
        foreach (var (table, rows) in refresh.RowsWritten)
        {
            _refreshedRows.Add(rows, new KeyValuePair<string, object?>("gold.table", table));
        }
    }

    /// <summary>A round's duration and size, and the gold latency of the events it made visible at <paramref name="visibleAt"/>.</summary>
    public void Round(TimeSpan duration, long rowsFolded, EnqueueTimes? enqueued, DateTimeOffset visibleAt)
    {
        _roundDuration.Record(duration.TotalSeconds);
        _roundRows.Record(rowsFolded);
        if (enqueued is not null)
        {
            PipelineLatency.Record(_latency, PipelineLatency.Gold, enqueued.LatenciesAt(visibleAt));
        }
    }

    public void Lag(long versions) => Interlocked.Exchange(ref _lag, versions);

    public void Dispose() => _meter.Dispose();
}
