using BaloyiBank.Delta;
using BaloyiBank.EventLog;

namespace BaloyiBank.Cleansing;

/// <summary>
/// A partition feed's rows of the open micro-batch: one <see cref="ColumnBuffer"/> per fed table that rows are
/// written to the moment they are cleansed, column by column, so no row object outlives its event and the flush
/// writes Parquet straight from the buffers. <see cref="Seal"/> hands the sealed buffers to the flush. Not
/// thread-safe: the feed calls it under its lock.
/// </summary>
internal sealed class FeedStaging : IDisposable
{
    private readonly BronzeEncoder _bronze = new();
    private Dictionary<TableSchema, ColumnBuffer>? _open;

    public void Append(SilverRow row) => SilverStaging.AppendRow(Open(SilverStaging.TableOf(row)), row);

    public void AppendBronze(LogRecord record) => _bronze.Append(Open(BronzeTables.BankEvents), record);

    /// <summary>Seals the current batch's buffers and hands them over.</summary>
    public IReadOnlyDictionary<TableSchema, ColumnBuffer> Seal()
    {
        var open = _open ?? [];
        _open = null;
        foreach (var rows in open.Values)
        {
            rows.Seal();
        }

        return open;
    }

    public void Dispose() => _bronze.Dispose();

    private ColumnBuffer Open(TableSchema schema)
    {
        _open ??= [];
        if (!_open.TryGetValue(schema, out var rows))
        {
            rows = new ColumnBuffer(schema);
            _open[schema] = rows;
        }

        return rows;
    }
}
