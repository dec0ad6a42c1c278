using System.Globalization;
using BaloyiBank.Delta;
using BaloyiBank.DuckDb;
using BaloyiBank.EventLog;

namespace BaloyiBank.Cleansing;

/// <summary>
/// A partition feed's DuckDB side: on its own connection, one table per fed table and batch generation
/// (<c>feed_transactions_p3_g17</c>, …) that rows are appended to the moment they are cleansed, so no row
/// object outlives its event (a batch held as objects until the flush costs more in garbage collection than
/// the rest of the pipeline together). <see cref="Seal"/> closes the appenders and hands the tables to the
/// flush, which reads them through a view and drops them. Not thread-safe: the feed calls it under its lock.
/// </summary>
internal sealed class FeedStaging(DuckDbDatabase database, int partition) : IDisposable
{
    private readonly DuckDbConnection _connection = database.Connect();
    private readonly BronzeEncoder _bronze = new();
    private Dictionary<TableSchema, (string Name, DuckDbAppender Appender)>? _open;
    private int _generation;

    public void Append(SilverRow row) => SilverStaging.AppendRow(Open(SilverStaging.TableOf(row)), row);

    public void AppendBronze(LogRecord record) => _bronze.Append(Open(BronzeTables.BankEvents), record);

    /// <summary>Closes the current generation's appenders (their rows are then visible to every connection) and returns its table names.</summary>
    public IReadOnlyDictionary<TableSchema, string> Seal()
    {
        if (_open is null)
        {
            return new Dictionary<TableSchema, string>();
        }

        var names = new Dictionary<TableSchema, string>();
        try
        {
            foreach (var (schema, (name, appender)) in _open)
            {
                appender.Close();
                names[schema] = name;
            }
        }
        finally
        {
            foreach (var (_, appender) in _open.Values)
            {
                appender.Dispose();
            }

            _open = null;
        }

        return names;
    }

    public void Dispose()
    {
        if (_open is not null)
        {
            foreach (var (name, appender) in _open.Values)
            {
                appender.Dispose();
                _connection.Execute($"DROP TABLE IF EXISTS {SilverStaging.Quote(name)}");
            }
        }

        _bronze.Dispose();
        _connection.Dispose();
    }

    private DuckDbAppender Open(TableSchema schema)
    {
        if (_open is null)
        {
            _open = [];
            _generation++;
        }

        if (!_open.TryGetValue(schema, out var entry))
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"feed_{schema.Name}_p{partition}_g{_generation}");
            DeltaFileWriter.CreateStagingTable(_connection, schema, name, temporary: false);
            entry = (name, _connection.CreateAppender(name));
            _open[schema] = entry;
        }

        return entry.Appender;
    }
}
