using System.Collections.Concurrent;
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
    private readonly ConcurrentQueue<ColumnBuffer> _spare = new();
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

    /// <summary>Takes back buffers a flush has written (from the flush's thread), to fill again.</summary>
    public void Recycle(IEnumerable<ColumnBuffer> written)
    {
        foreach (var rows in written)
        {
            rows.Reset();
            _spare.Enqueue(rows);
        }
    }

    public void Dispose() => _bronze.Dispose();

    private ColumnBuffer Open(TableSchema schema)
    {
        _open ??= [];
        if (!_open.TryGetValue(schema, out var rows))
        {
            rows = Spare(schema) ?? new ColumnBuffer(schema);
            _open[schema] = rows;
        }

        return rows;
    }

    /// <summary>A recycled buffer of <paramref name="schema"/>, if one is waiting (at most a flush's worth are).</summary>
    private ColumnBuffer? Spare(TableSchema schema)
    {
        for (var tries = _spare.Count; tries > 0 && _spare.TryDequeue(out var rows); tries--)
        {
            if (ReferenceEquals(rows.Schema, schema))
            {
                return rows;
            }

            _spare.Enqueue(rows);
        }

        return null;
    }
}
