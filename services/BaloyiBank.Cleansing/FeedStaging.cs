using BaloyiBank.Delta;
using BaloyiBank.DuckDb;
using BaloyiBank.EventLog;

namespace BaloyiBank.Cleansing;

/// <summary>
/// A partition feed's DuckDB side: one row buffer per fed table and batch (<see cref="DuckDbRowBuffer"/>: DuckDB
/// data chunks in memory) that rows are written to the moment they are cleansed, so no row object outlives its
/// event (a batch held as objects until the flush costs more in garbage collection than the rest of the
/// pipeline together), and no table stands between the cleanser and the Parquet writer: the flush's queries
/// read the buffers' chunks themselves. <see cref="Seal"/> hands the sealed buffers to the flush, which reads
/// them through a view and disposes them. Not thread-safe: the feed calls it under its lock.
/// </summary>
internal sealed class FeedStaging(DuckDbDatabase database, int partition) : IDisposable
{
    private readonly DuckDbConnection _connection = database.Connect();
    private readonly BronzeEncoder _bronze = new();
    private Dictionary<TableSchema, DuckDbRowBuffer>? _open;
    private int _generation;

    public void Append(SilverRow row) => SilverStaging.AppendRow(Open(SilverStaging.TableOf(row)), row);

    public void AppendBronze(LogRecord record) => _bronze.Append(Open(BronzeTables.BankEvents), record);

    /// <summary>Seals the current batch's buffers and hands them over (the caller disposes them).</summary>
    public IReadOnlyDictionary<TableSchema, DuckDbRowBuffer> Seal()
    {
        var open = _open ?? [];
        _open = null;
        foreach (var rows in open.Values)
        {
            rows.Seal();
        }

        return open;
    }

    public void Dispose()
    {
        if (_open is not null)
        {
            foreach (var rows in _open.Values)
            {
                rows.Dispose();
            }
        }

        _bronze.Dispose();
        _connection.Dispose();
    }

    private DuckDbRowBuffer Open(TableSchema schema)
    {
        if (_open is null)
        {
            _open = [];
            _generation++;
        }

        if (!_open.TryGetValue(schema, out var rows))
        {
            rows = DuckDbRowBuffer.Create(_connection, $"{schema.Name} p{partition} g{_generation}",
                [.. schema.Columns.Select(c => (c.Name, DeltaSchema.DuckDbTypeName(c.Type)))]);
            _open[schema] = rows;
        }

        return rows;
    }
}
