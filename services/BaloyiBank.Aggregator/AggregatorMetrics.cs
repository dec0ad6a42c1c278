using System.Diagnostics.Metrics;

namespace BaloyiBank.Aggregator;

/// <summary>The aggregator's instruments (meter <c>BaloyiBank.Aggregator</c>).</summary>
public sealed class AggregatorMetrics : IDisposable
{
    public const string MeterName = "BaloyiBank.Aggregator";

    private readonly Meter _meter;
    private readonly Counter<long> _rowsFolded;
    private readonly Counter<long> _commits;
    private readonly Counter<long> _changedRows;
    private readonly Counter<long> _refreshedRows;
    private readonly Histogram<double> _refreshDuration;
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
        _meter.CreateObservableGauge("baloyibank.aggregator.lag", () => Interlocked.Read(ref _lag), "{version}",
            "Silver commits not yet folded into gold, summed over the silver tables.");
    }

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

    public void Lag(long versions) => Interlocked.Exchange(ref _lag, versions);

    public void Dispose() => _meter.Dispose();
}
