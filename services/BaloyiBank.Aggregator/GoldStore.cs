using System.Diagnostics;
using System.Globalization;
using BaloyiBank.Delta;
using BaloyiBank.Lake;

namespace BaloyiBank.Aggregator;

/// <summary>
/// The gold tables in the lake (see <see cref="GoldTables"/>): per business table a <b>change table</b> under
/// <c>{gold}/changes/</c> and a <b>current-state table</b> under <c>{gold}/</c>.
/// <para>Change tables get one commit per round, carrying <c>txn(appId, round)</c> (what makes a replayed round a
/// no-op) and, as progress txns, the silver table versions the round has applied (<c>{appId}:{silver table path}</c>).
/// Rows carry <c>gold_version</c> = round.</para>
/// <para>Current-state tables are refreshed from the fold after a round: the files of the buckets (or event dates)
/// holding changed keys are replaced (remove + add in one commit carrying <c>txn({appId}:current, round)</c>), so a
/// reader of any version sees exactly one row per key, as of the round its commit records.</para>
/// </summary>
public sealed class GoldStore : IDisposable
{
    /// <summary>Table property naming the current-state layout (so an old change-log table at the same path is recognised).</summary>
    public const string LayoutProperty = "baloyi.gold.layout";

    /// <summary>The value of <see cref="LayoutProperty"/> for a current-state table.</summary>
    public const string CurrentStateLayout = "current-state-v1";

    private readonly Dictionary<string, (DeltaTable Table, TableSchema Schema)> _tables = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DeltaSnapshot> _snapshots = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (DeltaTable Table, TableSchema Schema)> _current = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DeltaSnapshot> _currentSnapshots = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    public GoldStore(ILakeStore lake, string goldRoot, string appId, TimeProvider? time = null, TimeSpan? vacuumRetention = null)
    {
        ArgumentNullException.ThrowIfNull(lake);
        ArgumentException.ThrowIfNullOrWhiteSpace(goldRoot);
        ArgumentException.ThrowIfNullOrWhiteSpace(appId);
        AppId = appId;
        _time = time ?? TimeProvider.System;
        foreach (var schema in GoldTables.All)
        {
            // Checkpoints forget the tombstones the vacuum deletes the files of, so they stay as small as the tables.
            var options = new DeltaTableOptions { TimeProvider = _time, TombstoneRetention = vacuumRetention };
            _tables[schema.Name] = (new DeltaTable(lake, ChangeTablePath(goldRoot, schema), options), schema);
            _current[schema.Name] = (new DeltaTable(lake, TablePath(goldRoot, schema), options), GoldTables.CurrentLayout(schema));
        }
    }

    /// <summary>The txn appId of the rounds; progress appIds are <c>{AppId}:{silver table path}</c>.</summary>
    public string AppId { get; }

    /// <summary>The txn appId of the current-state tables' refreshes (version = the round they hold).</summary>
    public string CurrentAppId => $"{AppId}:current";

    /// <summary>The lake path of a table's current state (one row per key): <c>{gold}/{table}</c>.</summary>
    public static string TablePath(string goldRoot, TableSchema schema) => GoldTables.TablePath(goldRoot, schema);

    /// <summary>The lake path of a table's change table (every round's changed rows): <c>{gold}/changes/{table}</c>.</summary>
    public static string ChangeTablePath(string goldRoot, TableSchema schema) => GoldTables.ChangeTablePath(goldRoot, schema);

    public string ProgressAppId(string silverTablePath) => $"{AppId}:{silverTablePath}";

    /// <summary>A table's change table.</summary>
    public DeltaTable Table(TableSchema schema) => _tables[schema.Name].Table;

    /// <summary>A table's change table snapshot.</summary>
    public DeltaSnapshot Snapshot(TableSchema schema) => _snapshots[schema.Name];

    /// <summary>A table's current-state table.</summary>
    public DeltaTable CurrentTable(TableSchema schema) => _current[schema.Name].Table;

    /// <summary>A table's current-state snapshot.</summary>
    public DeltaSnapshot CurrentSnapshot(TableSchema schema) => _currentSnapshots[schema.Name];

    /// <summary>Creates the tables that do not exist yet and loads every table's latest snapshot.</summary>
    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        foreach (var (name, (table, schema)) in _tables)
        {
            _snapshots[name] = await CreateAsync(table, schema, null, cancellationToken).ConfigureAwait(false);
        }

        Dictionary<string, string> configuration = new(StringComparer.Ordinal)
        {
            [LayoutProperty] = CurrentStateLayout,
            ["baloyi.gold.buckets"] = GoldTables.BucketCount.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (name, (table, schema)) in _current)
        {
            var snapshot = await CreateAsync(table, schema, configuration, cancellationToken).ConfigureAwait(false);
            if (!snapshot.Metadata.Configuration.TryGetValue(LayoutProperty, out var layout) || layout != CurrentStateLayout)
            {
                throw new InvalidOperationException(
                    $"Gold table {table.Location} was written by an older version, as a change log with one row per key and round " +
                    "(a Delta reader would sum every past image). Rebuild gold: stop the aggregator and the sink, move the gold folder " +
                    "aside, start the aggregator (it recomputes gold from silver), then let the sink reload the warehouse into a new schema.");
            }

            _currentSnapshots[name] = snapshot;
        }
    }

    // A gold table created with an older schema (e.g. a daily summary without its latitude/longitude sums) cannot be
    // folded on: its rows lack what the new columns need, so it is refused with the rebuild to do.
    private static async Task<DeltaSnapshot> CreateAsync(DeltaTable table, TableSchema schema, Dictionary<string, string>? configuration, CancellationToken cancellationToken)
    {
        try
        {
            return await table.CreateAsync(schema, configuration, cancellationToken).ConfigureAwait(false);
        }
        catch (DeltaProtocolException e) when (e.Message.Contains("different schema", StringComparison.Ordinal))
        {
            var existing = await table.LoadAsync(cancellationToken).ConfigureAwait(false);
            var missing = schema.Columns.Select(c => c.Name).Except(existing.Schema.Columns.Select(c => c.Name), StringComparer.Ordinal).ToList();
            throw new InvalidOperationException(
                $"Gold table {table.Location} was written by an older version with other columns" +
                (missing.Count > 0 ? $" (it lacks {string.Join(", ", missing)})" : $" ({e.Message})") + ". Rebuild gold: stop the " +
                "aggregator and the sink, move the gold folder aside, start the aggregator (it recomputes gold from silver), then let the sink reload " +
                "the warehouse into a new schema (or an emptied one).", e);
        }
    }

    /// <summary>The round each current-state table holds (0 for none).</summary>
    public IReadOnlyDictionary<string, long> CurrentRounds() =>
        _currentSnapshots.ToDictionary(s => s.Key, s => s.Value.TransactionVersion(CurrentAppId) ?? 0, StringComparer.Ordinal);

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
        // Only for the lineage (gold_version, updated_at) a current-state refresh writes for customers unchanged since.
        var positions = await ReadCurrentAsync(GoldTables.CustomerPositions, throughRound, GoldRowCodec.ReadCustomer, cancellationToken).ConfigureAwait(false);
        return GoldFold.Restore(accounts, customers, loans, daily, positions);
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
    public static string CurrentRowsSql(TableSchema schema, string from, long throughRound = long.MaxValue) => GoldTables.CurrentRowsSql(schema, from, throughRound);

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

    /// <summary>
    /// Vacuums every change and current-state table (<see cref="DeltaTable.VacuumAsync"/>): deletes files removed more than
    /// <paramref name="retention"/> ago (and orphans that old); returns the lake paths deleted.
    /// </summary>
    public async Task<IReadOnlyList<string>> VacuumAsync(TimeSpan retention, CancellationToken cancellationToken)
    {
        List<string> deleted = [];
        foreach (var (table, _) in _tables.Values.Concat(_current.Values))
        {
            deleted.AddRange((await table.VacuumAsync(retention, cancellationToken).ConfigureAwait(false)).Deleted);
        }

        return deleted;
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

    /// <summary>The slice (file group) of a current-state table a key belongs to: <c>bNN</c> for a bucket, the ISO date for a daily row.</summary>
    public static string BucketSlice(string key) => string.Create(CultureInfo.InvariantCulture, $"b{GoldTables.BucketOf(key):D2}");

    /// <summary>The slice of a daily summary row: its event date.</summary>
    public static string DateSlice(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The slices of each current-state table that <paramref name="changes"/> touches, added to <paramref name="into"/>.</summary>
    public static void AddSlices(GoldChangeSet changes, IDictionary<string, HashSet<string>?> into)
    {
        ArgumentNullException.ThrowIfNull(changes);
        ArgumentNullException.ThrowIfNull(into);
        Add(GoldTables.AccountBalances, changes.Accounts.Select(r => BucketSlice(r.AccountId)));
        Add(GoldTables.CustomerPositions, changes.Customers.Select(r => BucketSlice(r.CustomerId)));
        Add(GoldTables.DailyTransactionSummary, changes.Daily.Select(r => DateSlice(r.EventDate)));
        Add(GoldTables.LoanStatus, changes.Loans.Select(r => BucketSlice(r.LoanId)));

        void Add(TableSchema schema, IEnumerable<string> slices)
        {
            if (!into.TryGetValue(schema.Name, out var known))
            {
                into[schema.Name] = known = new HashSet<string>(StringComparer.Ordinal);
            }

            known?.UnionWith(slices); // null: every slice already
        }
    }

    private static string SliceOf(TableSchema schema, AddFile file)
    {
        if (GoldTables.BucketColumn(schema) is null)
        {
            return file.PartitionValues.TryGetValue("event_date", out var date) && date is not null ? date : "";
        }

        var name = file.DataPath[(file.DataPath.LastIndexOf('/') + 1)..];
        return name.Length > 3 && name[0] == 'b' && name[3] == '-' ? name[..3] : "";
    }

    /// <summary>
    /// Brings every current-state table to <paramref name="round"/> from <paramref name="fold"/> (which must be exactly
    /// as of that round: call right after a round's commit): per table, the files of the slices in
    /// <paramref name="slices"/> (null for a table: every slice; a table not named: nothing changed) are replaced by the
    /// fold's current rows of those slices, in one commit with <c>txn({AppId}:current, round)</c>. A table that already
    /// holds the round is skipped, so a redo after a crash is safe.
    /// </summary>
    public async Task<GoldRefreshResult> RefreshAsync(GoldFold fold, long round, IReadOnlyDictionary<string, HashSet<string>?> slices, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fold);
        ArgumentNullException.ThrowIfNull(slices);
        var clock = Stopwatch.StartNew();
        Dictionary<string, long> rows = new(StringComparer.Ordinal);
        Dictionary<string, int> replaced = new(StringComparer.Ordinal);
        foreach (var business in GoldTables.All)
        {
            var (table, schema) = _current[business.Name];
            var snapshot = _currentSnapshots[business.Name];
            if (snapshot.IsCommitted(CurrentAppId, round))
            {
                continue;
            }

            var all = slices.TryGetValue(schema.Name, out var changed) && changed is null;
            var touched = changed ?? [];
            var removes = snapshot.Files.Values.Where(f => all || touched.Contains(SliceOf(schema, f))).ToList();
            var stem = string.Create(CultureInfo.InvariantCulture, $"r{round:D12}-v{snapshot.Version + 1:D8}");
            var writer = new DeltaFileWriter(table, schema);
            List<AddFile> adds = [];
            long written = 0;
            if (GoldTables.BucketColumn(schema) is null)
            {
                var dates = touched.Select(d => DateOnly.ParseExact(d, "yyyy-MM-dd", CultureInfo.InvariantCulture)).ToHashSet();
                var changeSet = new GoldChangeSet(round, [], [], [.. fold.CurrentDaily(d => all || dates.Contains(d))], []);
                written += changeSet.TotalRows;
                if (changeSet.TotalRows > 0)
                {
                    adds.AddRange(await writer.WriteAsync([GoldRowCodec.Rows(schema, changeSet)], stem, cancellationToken).ConfigureAwait(false));
                }
            }
            else
            {
                for (var bucket = 0; bucket < GoldTables.BucketCount; bucket++)
                {
                    var slice = string.Create(CultureInfo.InvariantCulture, $"b{bucket:D2}");
                    if (!all && !touched.Contains(slice))
                    {
                        continue;
                    }

                    // One pass over the fold per bucket: only one bucket's rows are in memory at a time.
                    var b = bucket;
                    var changeSet = schema.Name switch
                    {
                        "account_balances" => new GoldChangeSet(round, [.. fold.CurrentAccounts(id => GoldTables.BucketOf(id) == b)], [], [], []),
                        "customer_positions" => new GoldChangeSet(round, [], [.. fold.CurrentCustomers(id => GoldTables.BucketOf(id) == b)], [], []),
                        "loan_status" => new GoldChangeSet(round, [], [], [], [.. fold.CurrentLoans(id => GoldTables.BucketOf(id) == b)]),
                        _ => throw new UnreachableException(),
                    };
                    written += changeSet.TotalRows;
                    if (changeSet.TotalRows > 0)
                    {
                        adds.AddRange(await writer.WriteAsync([GoldRowCodec.Rows(schema, changeSet)], $"{slice}-{stem}", cancellationToken).ConfigureAwait(false));
                    }
                }
            }

            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            var result = await table.CommitAsync(snapshot, new DeltaCommit
            {
                Adds = adds,
                Removes = [.. removes.Select(f => RemoveFile.For(f, now, dataChange: true))],
                Transaction = new DeltaTransaction(CurrentAppId, round),
                Operation = "MERGE",
                OperationParameters = new Dictionary<string, string>
                {
                    ["predicate"] = all ? "every row" : $"rows of {(GoldTables.BucketColumn(schema) is { } column ? $"{column} buckets" : "event dates")} {string.Join(",", touched.Order(StringComparer.Ordinal))}",
                    ["round"] = round.ToString(CultureInfo.InvariantCulture),
                },
            }, cancellationToken).ConfigureAwait(false);
            _currentSnapshots[schema.Name] = result.Snapshot;
            rows[schema.Name] = written;
            replaced[schema.Name] = removes.Count;
        }

        return new GoldRefreshResult(round, rows, replaced, clock.Elapsed);
    }

    /// <summary>
    /// Checks every current-state table as a Delta reader sees it: exactly one row per key, equal to the change table's
    /// latest image of that key as of the round the current-state table records. Returns one line per problem.
    /// </summary>
    public async Task<IReadOnlyList<string>> VerifyCurrentAsync(CancellationToken cancellationToken)
    {
        List<string> problems = [];
        foreach (var business in GoldTables.All)
        {
            var (table, schema) = _current[business.Name];
            var snapshot = await table.LoadAsync(cancellationToken).ConfigureAwait(false);
            var round = snapshot.TransactionVersion(CurrentAppId) ?? 0;
            var readSet = await table.GetReadSetAsync(snapshot, cancellationToken: cancellationToken).ConfigureAwait(false);
            var key = GoldTables.KeyOf(business);
            HashSet<string> keys = new(StringComparer.Ordinal);
            HashSet<object> current = [];
            long rowCount = 0, duplicates = 0;
            Func<ColumnChunk, int, object> read = RowReader(business);
            await foreach (var chunk in ColumnChunk.ReadAsync(readSet, [.. business.Columns.Select(c => c.Name)], cancellationToken).ConfigureAwait(false))
            {
                var parts = key.Select(k => KeyPart(chunk, k)).ToArray();
                for (var r = 0; r < chunk.RowCount; r++)
                {
                    rowCount++;
                    if (!keys.Add(string.Join('\u0001', parts.Select(p => p(r)))))
                    {
                        duplicates++;
                    }

                    current.Add(read(chunk, r));
                }
            }

            if (duplicates > 0)
            {
                problems.Add($"{table.Location}: {duplicates} of {rowCount} rows repeat a key ({string.Join(", ", key)}) at version {snapshot.Version}");
            }

            var expected = await ReadCurrentAsync(business, round, (c, r) => read(c, r), cancellationToken).ConfigureAwait(false);
            var missing = expected.Count(e => !current.Contains(e));
            var unexpected = current.Count - (expected.Count - missing);
            if (missing > 0 || unexpected > 0)
            {
                problems.Add($"{table.Location} (round {round}): {missing} rows of the change table's current images missing, {unexpected} rows not among them");
            }
        }

        return problems;
    }

    private static Func<ColumnChunk, int, object> RowReader(TableSchema schema) => schema.Name switch
    {
        "account_balances" => (c, r) => GoldRowCodec.ReadAccount(c, r),
        "customer_positions" => (c, r) => GoldRowCodec.ReadCustomer(c, r),
        "daily_transaction_summary" => (c, r) => GoldRowCodec.ReadDaily(c, r),
        "loan_status" => (c, r) => GoldRowCodec.ReadLoan(c, r),
        _ => throw new ArgumentException($"'{schema.Name}' is not a gold table.", nameof(schema)),
    };

    public void Dispose()
    {
        foreach (var (table, _) in _tables.Values.Concat(_current.Values))
        {
            table.Dispose();
        }
    }
}

/// <summary>What a refresh of the current-state tables did: rows written and files replaced per table.</summary>
public sealed record GoldRefreshResult(long Round, IReadOnlyDictionary<string, long> RowsWritten, IReadOnlyDictionary<string, int> FilesReplaced, TimeSpan Duration)
{
    public long TotalRows => RowsWritten.Values.Sum();
}
