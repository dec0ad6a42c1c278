using System.Diagnostics;
using System.Globalization;
using BaloyiBank.Delta;
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
    public GoldStore(ILakeStore lake, string goldRoot, string appId, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(lake);
        ArgumentException.ThrowIfNullOrWhiteSpace(goldRoot);
        ArgumentException.ThrowIfNullOrWhiteSpace(appId);
        AppId = appId;
        foreach (var schema in GoldTables.All)
        {
            var table = new DeltaTable(lake, TablePath(goldRoot, schema), new DeltaTableOptions { TimeProvider = time ?? TimeProvider.System });
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
        var accounts = await ReadCurrentAsync(GoldTables.AccountBalances, throughRound, GoldRowCodec.ReadAccount, cancellationToken).ConfigureAwait(false);
        var loans = await ReadCurrentAsync(GoldTables.LoanStatus, throughRound, GoldRowCodec.ReadLoan, cancellationToken).ConfigureAwait(false);
        var daily = await ReadCurrentAsync(GoldTables.DailyTransactionSummary, throughRound, GoldRowCodec.ReadDaily, cancellationToken).ConfigureAwait(false);
        return GoldFold.Restore(accounts, customers, loans, daily);
    }

    /// <summary>
    /// The current rows of one table (the latest image per key with gold_version ≤ <paramref name="throughRound"/>), in
    /// key order, read from the snapshot's files with Parquet.Net.
    /// </summary>
    public async Task<List<T>> ReadCurrentAsync<T>(TableSchema schema, long throughRound, Func<ColumnChunk, int, T> read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(read);
        var (table, _) = _tables[schema.Name];
        var readSet = await table.GetReadSetAsync(_snapshots[schema.Name], cancellationToken: cancellationToken).ConfigureAwait(false);
        var key = GoldTables.KeyOf(schema);
        var latest = new Dictionary<string, (string[] Key, long Version, T Row)>(StringComparer.Ordinal);
        await foreach (var chunk in ColumnChunk.ReadAsync(readSet, [.. schema.Columns.Select(c => c.Name)], cancellationToken).ConfigureAwait(false))
        {
            var versions = chunk.Longs(GoldTables.VersionColumn);
            var parts = key.Select(k => KeyPart(chunk, k)).ToArray();
            for (var r = 0; r < chunk.RowCount; r++)
            {
                if (versions[r] > throughRound)
                {
                    continue;
                }

                var keyParts = parts.Select(p => p(r)).ToArray();
                var id = string.Join('\u0001', keyParts);
                if (!latest.TryGetValue(id, out var known) || versions[r] > known.Version)
                {
                    latest[id] = (keyParts, versions[r], read(chunk, r));
                }
            }
        }

        return [.. latest.Values.OrderBy(v => v.Key, KeyOrder.Instance).Select(v => v.Row)];
    }

    private static Func<int, string> KeyPart(ColumnChunk chunk, string column) => chunk.Column(column) switch
    {
        DateOnly[] dates => r => dates[r].ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        _ => chunk.Strings(column) is var strings ? r => strings[r] ?? "" : throw new UnreachableException(),
    };

    /// <summary>Keys compared part by part, ordinally (dates are ISO text, so they order by value).</summary>
    private sealed class KeyOrder : IComparer<string[]>
    {
        public static readonly KeyOrder Instance = new();

        public int Compare(string[]? x, string[]? y)
        {
            for (var i = 0; i < Math.Min(x!.Length, y!.Length); i++)
            {
                if (string.CompareOrdinal(x[i], y[i]) is var order and not 0)
                {
                    return order;
                }
            }

            return x.Length.CompareTo(y.Length);
        }
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
                adds = await new DeltaFileWriter(table, schema).WriteAsync([GoldRowCodec.Rows(schema, changes)], stem, cancellationToken).ConfigureAwait(false);
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
        foreach (var schema in GoldTables.All)
        {
            var (table, _) = _tables[schema.Name];
            var snapshot = _snapshots[schema.Name];
            if (snapshot.Files.Count < fileThreshold)
            {
                continue;
            }

            var current = await CurrentChangeSetAsync(schema, cancellationToken).ConfigureAwait(false);
            var stem = string.Create(CultureInfo.InvariantCulture, $"compacted-r{round:D12}-v{snapshot.Version + 1:D8}");
            var adds = await new DeltaFileWriter(table, schema).WriteAsync([GoldRowCodec.Rows(schema, current)], stem, cancellationToken).ConfigureAwait(false);
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

    /// <summary>A table's current rows as a change set holding only that table (for compaction).</summary>
    private async Task<GoldChangeSet> CurrentChangeSetAsync(TableSchema schema, CancellationToken cancellationToken) => schema.Name switch
    {
        "account_balances" => new GoldChangeSet(0, await ReadCurrentAsync(schema, long.MaxValue, GoldRowCodec.ReadAccount, cancellationToken).ConfigureAwait(false), [], [], []),
        "customer_positions" => new GoldChangeSet(0, [], await ReadCurrentAsync(schema, long.MaxValue, GoldRowCodec.ReadCustomer, cancellationToken).ConfigureAwait(false), [], []),
        "daily_transaction_summary" => new GoldChangeSet(0, [], [], await ReadCurrentAsync(schema, long.MaxValue, GoldRowCodec.ReadDaily, cancellationToken).ConfigureAwait(false), []),
        "loan_status" => new GoldChangeSet(0, [], [], [], await ReadCurrentAsync(schema, long.MaxValue, GoldRowCodec.ReadLoan, cancellationToken).ConfigureAwait(false)),
        _ => throw new ArgumentException($"'{schema.Name}' is not a gold table.", nameof(schema)),
    };

    public void Dispose()
    {
        foreach (var (table, _) in _tables.Values)
        {
            table.Dispose();
        }
    }
}
