using System.Globalization;
using BaloyiBank.Delta;
using BaloyiBank.DuckDb;
using BaloyiBank.Lake;

namespace BaloyiBank.Aggregator;

/// <summary>
/// The gold tables in the lake: Delta change tables, one commit per table per round. A round's commit carries
/// <c>txn(appId, round)</c> (what makes a replayed round a no-op) and, as progress txns, the silver table
/// versions the round has applied (<c>{appId}:{silver table path}</c>). Rows carry <c>gold_version</c> = round.
/// </summary>
public sealed class GoldStore : IDisposable
{
    private readonly Dictionary<string, (DeltaTable Table, TableSchema Schema)> _tables = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DeltaSnapshot> _snapshots = new(StringComparer.Ordinal);
    private readonly DuckDbDatabase _database;

    public GoldStore(ILakeStore lake, string goldRoot, string appId, DuckDbDatabase database, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(lake);
        ArgumentException.ThrowIfNullOrWhiteSpace(goldRoot);
        ArgumentException.ThrowIfNullOrWhiteSpace(appId);
        _database = database ?? throw new ArgumentNullException(nameof(database));
        AppId = appId;
        foreach (var schema in GoldTables.All)
        {
            var table = new DeltaTable(lake, TablePath(goldRoot, schema), new DeltaTableOptions { Database = database, TimeProvider = time ?? TimeProvider.System });
            _tables[schema.Name] = (table, schema);
        }
    }

    /// <summary>The txn appId of the rounds; progress appIds are <c>{AppId}:{silver table path}</c>.</summary>
    public string AppId { get; }

    public static string TablePath(string goldRoot, TableSchema schema)
    {
        ArgumentNullException.ThrowIfNull(goldRoot);
        ArgumentNullException.ThrowIfNull(schema);
        return $"{goldRoot.TrimEnd('/')}/{schema.Name}";
    }

    public string ProgressAppId(string silverTablePath) => $"{AppId}:{silverTablePath}";

    public DeltaTable Table(TableSchema schema) => _tables[schema.Name].Table;

    public DeltaSnapshot Snapshot(TableSchema schema) => _snapshots[schema.Name];

    /// <summary>Creates the tables that do not exist yet and loads every table's latest snapshot.</summary>
    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        foreach (var (name, (table, schema)) in _tables)
        {
            _snapshots[name] = await table.CreateAsync(schema, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The last round each table committed (0 for none).</summary>
    public IReadOnlyDictionary<string, long> Rounds() =>
        _snapshots.ToDictionary(s => s.Key, s => s.Value.TransactionVersion(AppId) ?? 0, StringComparer.Ordinal);

    /// <summary>The silver versions recorded by the latest commit of a table that reached <paramref name="round"/>.</summary>
    public IReadOnlyDictionary<string, long> ProgressOf(long round, IEnumerable<string> silverTablePaths)
    {
        var snapshot = _snapshots.Values.First(s => (s.TransactionVersion(AppId) ?? 0) == round);
        return silverTablePaths.ToDictionary(p => p, p => snapshot.TransactionVersion(ProgressAppId(p)) ?? -1, StringComparer.Ordinal);
    }

    /// <summary>
    /// Reads every table's current rows as of <paramref name="throughRound"/> (images with a higher gold_version,
    /// left by a round that crashed half-way, are ignored) into a fold, with the customers' registrations. The
    /// daily-account memory is not in gold: <see cref="SilverSource.RestoreDailyAccountsAsync"/> adds it from silver.
    /// </summary>
    public async Task<GoldFold> LoadFoldAsync(long throughRound, IEnumerable<CustomerFact> customers, CancellationToken cancellationToken)
    {
        using var connection = _database.Connect();
        var accounts = await ReadCurrentAsync(connection, GoldTables.AccountBalances, throughRound, GoldRowCodec.ReadAccount, cancellationToken).ConfigureAwait(false);
        var loans = await ReadCurrentAsync(connection, GoldTables.LoanStatus, throughRound, GoldRowCodec.ReadLoan, cancellationToken).ConfigureAwait(false);
        var daily = await ReadCurrentAsync(connection, GoldTables.DailyTransactionSummary, throughRound, GoldRowCodec.ReadDaily, cancellationToken).ConfigureAwait(false);
        return GoldFold.Restore(accounts, customers, loans, daily);
    }

    /// <summary>The current rows of one table (latest image per key with gold_version ≤ <paramref name="throughRound"/>).</summary>
    public async Task<List<T>> ReadCurrentAsync<T>(DuckDbConnection connection, TableSchema schema, long throughRound, Func<DuckDbResult, T> read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(read);
        var sql = await CurrentRowsSqlAsync(schema, throughRound, cancellationToken).ConfigureAwait(false);
        List<T> rows = [];
        using var result = connection.Query(sql);
        while (result.Read())
        {
            rows.Add(read(result));
        }

        return rows;
    }

    /// <summary>A query of the current rows of a table at its snapshot, as of a round, in key order.</summary>
    public async Task<string> CurrentRowsSqlAsync(TableSchema schema, long throughRound, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var (table, _) = _tables[schema.Name];
        var readSet = await table.GetReadSetAsync(_snapshots[schema.Name], cancellationToken: cancellationToken).ConfigureAwait(false);
        return CurrentRowsSql(schema, readSet.ToSql(), throughRound);
    }

    /// <summary>The current rows of a change table's files: the latest image per key, in key order.</summary>
    public static string CurrentRowsSql(TableSchema schema, string from, long throughRound = long.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var key = string.Join(", ", GoldTables.KeyOf(schema).Select(k => $"\"{k}\""));
        return string.Create(CultureInfo.InvariantCulture,
            $"SELECT {GoldRowCodec.ColumnList(schema)} FROM {from} WHERE {GoldTables.VersionColumn} <= {throughRound} " +
            $"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY {GoldTables.VersionColumn} DESC) = 1 ORDER BY {key}");
    }

    /// <summary>
    /// Commits round <paramref name="changes"/>.GoldVersion to every table that does not hold it yet: the changed
    /// rows as one Parquet file named after the round (none when nothing changed), the round's txn and the silver
    /// progress. Returns the tables committed now.
    /// </summary>
    public async Task<IReadOnlyList<string>> CommitRoundAsync(GoldChangeSet changes, IReadOnlyDictionary<string, long> silverProgress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(changes);
        ArgumentNullException.ThrowIfNull(silverProgress);
        var round = changes.GoldVersion;
        var stem = string.Create(CultureInfo.InvariantCulture, $"changes-r{round:D12}");
        List<DeltaTransaction> progress = [.. silverProgress.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new DeltaTransaction(ProgressAppId(p.Key), p.Value))];
        List<string> committed = [];
        using var connection = _database.Connect();
        foreach (var schema in GoldTables.All)
        {
            var (table, _) = _tables[schema.Name];
            var snapshot = _snapshots[schema.Name];
            if (snapshot.IsCommitted(AppId, round))
            {
                continue;
            }

            IReadOnlyList<AddFile> adds = [];
            if (GoldRowCodec.RowCount(schema, changes) > 0)
            {
                const string staging = "gold_staging";
                GoldRowCodec.Stage(connection, schema, staging, changes);
                adds = await new DeltaFileWriter(table, schema).WriteAsync(connection, staging, stem, cancellationToken).ConfigureAwait(false);
                connection.Execute($"DROP TABLE IF EXISTS {staging}");
            }

            var result = await table.CommitAsync(snapshot, new DeltaCommit
            {
                Adds = adds,
                Transaction = new DeltaTransaction(AppId, round),
                Progress = progress,
                Operation = "STREAMING UPDATE",
                OperationParameters = new Dictionary<string, string>
                {
                    ["outputMode"] = "Append",
                    ["queryId"] = AppId,
                    ["epochId"] = round.ToString(CultureInfo.InvariantCulture),
                },
            }, cancellationToken).ConfigureAwait(false);
            _snapshots[schema.Name] = result.Snapshot;
            if (result.Status == DeltaCommitStatus.Committed)
            {
                committed.Add(table.Path);
            }
        }

        return committed;
    }

    /// <summary>
    /// Rewrites each table holding at least <paramref name="fileThreshold"/> files as its current rows only (one
    /// file, <c>dataChange=false</c>: the rows' content and gold_version do not change, so a change reader skips
    /// it). Call only between rounds, when every table holds the same round. Returns the tables compacted.
    /// </summary>
    public async Task<IReadOnlyList<string>> CompactAsync(long round, int fileThreshold, CancellationToken cancellationToken)
    {
        List<string> compacted = [];
        using var connection = _database.Connect();
        foreach (var schema in GoldTables.All)
        {
            var (table, _) = _tables[schema.Name];
            var snapshot = _snapshots[schema.Name];
            if (snapshot.Files.Count < fileThreshold)
            {
                continue;
            }

            const string staging = "gold_compaction";
            var current = CurrentRowsSql(schema, (await table.GetReadSetAsync(snapshot, cancellationToken: cancellationToken).ConfigureAwait(false)).ToSql());
            connection.Execute($"CREATE OR REPLACE TEMP TABLE {staging} AS {current}");
            var stem = string.Create(CultureInfo.InvariantCulture, $"compacted-r{round:D12}-v{snapshot.Version + 1:D8}");
            var adds = await new DeltaFileWriter(table, schema).WriteAsync(connection, staging, stem, cancellationToken).ConfigureAwait(false);
            connection.Execute($"DROP TABLE IF EXISTS {staging}");
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var result = await table.CommitAsync(snapshot, new DeltaCommit
            {
                Adds = [.. adds.Select(a => a with { DataChange = false })],
                Removes = [.. snapshot.Files.Values.Select(f => RemoveFile.For(f, now, dataChange: false))],
                Operation = "OPTIMIZE",
                OperationParameters = new Dictionary<string, string> { ["round"] = round.ToString(CultureInfo.InvariantCulture) },
            }, cancellationToken).ConfigureAwait(false);
            _snapshots[schema.Name] = result.Snapshot;
            compacted.Add(table.Path);
        }

        return compacted;
    }

    public void Dispose()
    {
        foreach (var (table, _) in _tables.Values)
        {
            table.Dispose();
        }
    }
}
