using System.Globalization;
using BaloyiBank.Cleansing;
using BaloyiBank.Delta;
using BaloyiBank.DuckDb;
using BaloyiBank.Lake;

namespace BaloyiBank.Aggregator;

/// <summary>
/// The silver tables gold is folded from, read incrementally: the files added by the commits after the version
/// gold has applied, through <c>read_parquet</c>. Transactions and loan payments are pre-aggregated by DuckDB
/// (per account, per daily bucket, per loan) and the partials merged into the fold; reference rows are folded
/// one by one.
/// </summary>
public sealed class SilverSource : IDisposable
{
    /// <summary>The silver tables gold depends on, in the order a round folds them.</summary>
    public static IReadOnlyList<TableSchema> Tables { get; } =
        [SilverTables.Customers, SilverTables.Accounts, SilverTables.Loans, SilverTables.Transactions, SilverTables.LoanPayments];

    private readonly Dictionary<string, DeltaTable> _tables = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DeltaSnapshot> _snapshots = new(StringComparer.Ordinal);
    private readonly string _silverRoot;

    public SilverSource(ILakeStore lake, string silverRoot, DuckDbDatabase database)
    {
        ArgumentNullException.ThrowIfNull(lake);
        ArgumentException.ThrowIfNullOrWhiteSpace(silverRoot);
        _silverRoot = silverRoot;
        foreach (var schema in Tables)
        {
            _tables[PathOf(schema)] = new DeltaTable(lake, PathOf(schema), new DeltaTableOptions { Database = database });
        }
    }

    /// <summary>Lake paths of the silver tables (<c>silver/transactions</c>, …).</summary>
    public IReadOnlyList<string> Paths => [.. Tables.Select(PathOf)];

    public string PathOf(TableSchema schema) => $"{_silverRoot.TrimEnd('/')}/{schema.Name}";

    /// <summary>Each silver table's latest version (-1 while the table does not exist yet).</summary>
    public async Task<IReadOnlyDictionary<string, long>> LatestVersionsAsync(CancellationToken cancellationToken)
    {
        Dictionary<string, long> versions = new(StringComparer.Ordinal);
        foreach (var (path, table) in _tables)
        {
            DeltaSnapshot? snapshot = _snapshots.TryGetValue(path, out var known)
                ? await table.UpdateAsync(known, cancellationToken).ConfigureAwait(false)
                : await table.TryLoadAsync(cancellationToken).ConfigureAwait(false);
            if (snapshot is not null)
            {
                _snapshots[path] = snapshot;
            }

            versions[path] = snapshot?.Version ?? -1;
        }

        return versions;
    }

    /// <summary>The data files added to a silver table by the commits in (<paramref name="after"/>, <paramref name="through"/>].</summary>
    public async Task<DeltaReadSet> ReadSetAsync(TableSchema schema, long after, long through, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var table = _tables[PathOf(schema)];
        var changes = await table.ReadChangesAsync(after, through, cancellationToken).ConfigureAwait(false);
        if (changes.Any(c => c.Removes.Any(r => r.DataChange)))
        {
            throw new InvalidOperationException(
                $"Silver table {table.Location} removed data between versions {after} and {through}; gold folds append-only silver. Rebuild gold from silver (a new gold root) after a silver rewrite.");
        }

        return await table.GetReadSetAsync(schema, through, [.. changes.SelectMany(c => c.Adds).Where(a => a.DataChange)], cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The customers' registrations in silver up to <paramref name="through"/> (what gold does not store itself).</summary>
    public async Task<List<CustomerFact>> ReadCustomersAsync(DuckDbConnection connection, long through, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        List<CustomerFact> customers = [];
        if (through < 0)
        {
            return customers;
        }

        var readSet = await ReadSetAsync(SilverTables.Customers, -1, through, cancellationToken).ConfigureAwait(false);
        FoldCustomers(connection, readSet.ToSql(), customers.Add);
        return customers;
    }

    /// <summary>Folds the rows of one silver table's files into <paramref name="fold"/>; returns the rows folded.</summary>
    public static long Fold(DuckDbConnection connection, TableSchema schema, string from, GoldFold fold) =>
        Fold(connection, schema, from, fold, RowByRowLimit);

    /// <summary>
    /// Transaction batches of at most this many rows (a live round's) are folded row by row through the encoded hot loop;
    /// bigger ones (a rebuild, a long catch-up) as DuckDB partial aggregates.
    /// </summary>
    internal const long RowByRowLimit = 1_000_000;

    internal static long Fold(DuckDbConnection connection, TableSchema schema, string from, GoldFold fold, long rowByRowLimit)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(fold);
        return schema.Name switch
        {
            "customers" => FoldCustomers(connection, from, c => fold.Fold(c)),
            "accounts" => FoldAccounts(connection, from, fold),
            "loans" => FoldLoans(connection, from, fold),
            "transactions" => connection.ExecuteScalar<long>($"SELECT count(*) FROM {from}") <= rowByRowLimit
                ? FoldTransactionsRowByRow(connection, from, fold)
                : FoldTransactions(connection, from, fold),
            "loan_payments" => FoldPayments(connection, from, fold),
            _ => throw new ArgumentException($"Gold does not fold silver table '{schema.Name}'.", nameof(schema)),
        };
    }

    private static long FoldCustomers(DuckDbConnection connection, string from, Action<CustomerFact> fold)
    {
        long rows = 0;
        using var r = connection.Query(
            $"SELECT customer_id, first_name, last_name, segment, city, country, occurred_at, source_partition, source_offset FROM {from}");
        while (r.Read())
        {
            fold(new CustomerFact(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetTimestamp(6), r.GetInt32(7), r.GetInt64(8)));
            rows++;
        }

        return rows;
    }

    private static long FoldAccounts(DuckDbConnection connection, string from, GoldFold fold)
    {
        long rows = 0;
        using var r = connection.Query(
            $"SELECT account_id, customer_id, account_type, currency, opening_balance, overdraft_limit, occurred_at, source_partition, source_offset FROM {from}");
        while (r.Read())
        {
            fold.Fold(new AccountFact(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetDecimal(4), r.GetDecimal(5), r.GetTimestamp(6), r.GetInt32(7), r.GetInt64(8)));
            rows++;
        }

        return rows;
    }

    private static long FoldLoans(DuckDbConnection connection, string from, GoldFold fold)
    {
        long rows = 0;
        using var r = connection.Query(
            "SELECT loan_id, customer_id, account_id, product, principal, currency, annual_interest_rate, term_months, monthly_instalment, first_due_date, " +
            $"occurred_at, source_partition, source_offset FROM {from}");
        while (r.Read())
        {
            fold.Fold(new LoanFact(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetDecimal(4), r.GetString(5), r.GetDecimal(6),
                r.GetInt32(7), r.GetDecimal(8), r.GetDate(9), r.GetTimestamp(10), r.GetInt32(11), r.GetInt64(12)));
            rows++;
        }

        return rows;
    }

    /// <summary>
    /// The bulk of the work in DuckDB, where it is the better engine: two aggregations over the batch's files (per
    /// account and per daily bucket, each row numbered) read a data chunk at a time and merged into the fold (money as
    /// the DECIMAL(18,2) columns' unscaled integers, i.e. cents; plain sums, not filtered ones, which cost DuckDB more).
    /// Dates new to the fold (a rebuild: all of them) take distinct_accounts from DuckDB's count and keep no (bucket,
    /// account) pairs in memory; only rows of dates whose pairs the fold holds come back, as pairs of row numbers, for the
    /// fold's set. The batch's rows never cross into .NET as values.
    /// </summary>
    private static long FoldTransactions(DuckDbConnection connection, string from, GoldFold fold)
    {
        try
        {
            connection.Execute(
                "CREATE OR REPLACE TEMP TABLE agg_accounts AS SELECT CAST(row_number() OVER () - 1 AS INTEGER) AS rn, account_id, min(currency) AS currency, count(*) AS n, " +
                "CAST(sum(amount) AS DECIMAL(18, 2)) AS total, CAST(sum(signed_amount) AS DECIMAL(18, 2)) AS net, " +
                $"min(occurred_at) AS first_at, max(occurred_at) AS last_at, min(source_partition) AS p, max(source_offset) AS o FROM {from} GROUP BY account_id");
            connection.Execute(
                "CREATE OR REPLACE TEMP TABLE agg_buckets AS SELECT CAST(row_number() OVER () - 1 AS INTEGER) AS rn, event_date, coalesce(merchant_category, transaction_type) AS category, " +
                "country, city, currency, count(*) AS n, CAST(sum(amount) AS DECIMAL(18, 2)) AS total, " +
                "CAST(sum(CASE WHEN direction = 'credit' THEN amount ELSE -amount END) AS DECIMAL(18, 2)) AS net, " +
                "CAST(min(amount) AS DECIMAL(18, 2)) AS lo, CAST(max(amount) AS DECIMAL(18, 2)) AS hi " +
                $"FROM {from} GROUP BY event_date, category, country, city, currency");

            long rows = 0;
            var accountSlots = new int[connection.ExecuteScalar<long>("SELECT count(*) FROM agg_accounts")];
            fold.ReserveAccounts(accountSlots.Length);
            using (var r = DuckDbChunkReader.Query(connection, "SELECT rn, account_id, currency, n, total, net, first_at, last_at, p, o FROM agg_accounts"))
            {
                RequireCents(r, 4, 5);
                while (r.NextChunk())
                {
                    var rn = r.Int32Values(0);
                    var n = r.Int64Values(3);
                    var total = r.Int64Values(4);
                    var net = r.Int64Values(5);
                    var first = r.Int64Values(6);
                    var last = r.Int64Values(7);
                    var p = r.Int32Values(8);
                    var o = r.Int64Values(9);
                    for (var i = 0; i < r.RowCount; i++)
                    {
                        // Silver's signed_amount is +amount for a credit and -amount for a debit (cleansing writes it so):
                        // credits = (total + net) / 2 and debits = (total - net) / 2, exactly, without a filtered sum per row.
                        var (credits, debits) = CreditsAndDebits(total[i], net[i]);
                        accountSlots[rn[i]] = fold.MergeAccountActivity(r.GetString(1, i), r.GetString(2, i), n[i], credits, debits, first[i], last[i], p[i], o[i]);
                        fold.Observe(last[i]);
                        rows += n[i];
                    }
                }
            }

            // distinct_accounts: a date whose (bucket, account) pairs the fold holds (Known) gets the batch's pairs through
            // the fold's set; a date the fold has no bucket of gets its buckets' distinct accounts counted through a small
            // set per date (cache-sized, dropped afterwards), so the fold keeps no pairs of it (Counted: restored from
            // silver if its transactions are ever folded row by row). A Counted date must have been restored by the
            // caller (SilverSource.RestoreDailyAccountsAsync) before.
            var bucketSlots = new int[connection.ExecuteScalar<long>("SELECT count(*) FROM agg_buckets")];
            var bucketDates = new int[bucketSlots.Length];
            Dictionary<int, bool> dateKnown = [];
            fold.ReserveBuckets(bucketSlots.Length);
            using (var r = DuckDbChunkReader.Query(connection, "SELECT rn, event_date, category, country, city, currency, n, total, net, lo, hi FROM agg_buckets"))
            {
                RequireCents(r, 7, 8, 9, 10);
                while (r.NextChunk())
                {
                    var rn = r.Int32Values(0);
                    var date = r.Int32Values(1);
                    var n = r.Int64Values(6);
                    var total = r.Int64Values(7);
                    var net = r.Int64Values(8);
                    var lo = r.Int64Values(9);
                    var hi = r.Int64Values(10);
                    for (var i = 0; i < r.RowCount; i++)
                    {
                        var day = DateOnly.FromDayNumber(EpochDayNumber + date[i]);
                        if (!dateKnown.ContainsKey(date[i]))
                        {
                            // As the fold had the date before this batch (merging a bucket of a new date makes it Known).
                            dateKnown[date[i]] = fold.PairsOf(day) switch
                            {
                                null => false,
                                DailyPairs.Known => true,
                                _ => throw new InvalidOperationException($"The (bucket, account) pairs of {day:yyyy-MM-dd} must be restored from silver before more of its transactions are folded."),
                            };
                        }

                        bucketDates[rn[i]] = date[i];
                        bucketSlots[rn[i]] = fold.MergeDaily(new DailyKey(day, r.GetString(2, i), r.GetString(3, i), r.GetString(4, i), r.GetString(5, i)), n[i], total[i], net[i], lo[i], hi[i]);
                    }
                }
            }

            // Per batch bucket: the index of its date's counting set, or -1 when the fold holds the date's pairs.
            var days = bucketDates.Distinct().ToArray();
            var dayIndex = days.Select((d, i) => (d, i)).ToDictionary(x => x.d, x => x.i);
            var counting = new int[bucketSlots.Length];
            for (var b = 0; b < counting.Length; b++)
            {
                counting[b] = dateKnown[bucketDates[b]] ? -1 : dayIndex[bucketDates[b]];
            }

            var sets = new PairSet?[days.Length];
            var counts = new long[bucketSlots.Length];
            using (var r = DuckDbChunkReader.Query(connection,
                $"SELECT b.rn, a.rn FROM {from} t " +
                "JOIN agg_buckets b ON b.event_date = t.event_date AND b.category = coalesce(t.merchant_category, t.transaction_type) AND b.country = t.country " +
                "AND b.city = t.city AND b.currency = t.currency JOIN agg_accounts a ON a.account_id = t.account_id"))
            {
                while (r.NextChunk())
                {
                    var buckets = r.Int32Values(0);
                    var accounts = r.Int32Values(1);
                    for (var i = 0; i < buckets.Length; i++)
                    {
                        var b = buckets[i];
                        var set = counting[b];
                        if (set < 0)
                        {
                            fold.AddDailyAccount(bucketSlots[b], accountSlots[accounts[i]]);
                        }
                        else if ((sets[set] ??= new PairSet()).Add(((long)b << 32) | (uint)accounts[i]))
                        {
                            counts[b]++;
                        }
                    }
                }
            }

            for (var b = 0; b < counting.Length; b++)
            {
                if (counting[b] >= 0)
                {
                    fold.CountDailyAccounts(bucketSlots[b], counts[b]);
                }
            }

            return rows;
        }
        finally
        {
            connection.Execute("DROP TABLE IF EXISTS agg_accounts");
            connection.Execute("DROP TABLE IF EXISTS agg_buckets");
        }
    }

    /// <summary>
    /// A live round's batch, row by row through the fold's hot loop: DuckDB dictionary-encodes the batch (its distinct
    /// accounts and daily keys, numbered), .NET maps each number to the fold's slot once, then every row comes as integers
    /// a data chunk at a time (both numbers, cents, the credit flag, microseconds, partition, offset) and is folded as an
    /// <see cref="EncodedTransaction"/>: no string and no allocation per row.
    /// </summary>
    private static long FoldTransactionsRowByRow(DuckDbConnection connection, string from, GoldFold fold)
    {
        try
        {
            connection.Execute(
                "CREATE OR REPLACE TEMP TABLE enc_accounts AS SELECT CAST(row_number() OVER () - 1 AS INTEGER) AS rn, account_id, min(currency) AS currency " +
                $"FROM {from} GROUP BY account_id");
            connection.Execute(
                "CREATE OR REPLACE TEMP TABLE enc_buckets AS SELECT CAST(row_number() OVER () - 1 AS INTEGER) AS rn, event_date, " +
                $"coalesce(merchant_category, transaction_type) AS category, country, city, currency FROM {from} GROUP BY event_date, category, country, city, currency");

            var accountSlots = new int[connection.ExecuteScalar<long>("SELECT count(*) FROM enc_accounts")];
            fold.ReserveAccounts(accountSlots.Length);
            using (var r = DuckDbChunkReader.Query(connection, "SELECT rn, account_id, currency FROM enc_accounts"))
            {
                while (r.NextChunk())
                {
                    var rn = r.Int32Values(0);
                    for (var i = 0; i < r.RowCount; i++)
                    {
                        accountSlots[rn[i]] = fold.EncodeAccount(r.GetString(1, i), r.GetString(2, i));
                    }
                }
            }

            var bucketSlots = new int[connection.ExecuteScalar<long>("SELECT count(*) FROM enc_buckets")];
            fold.ReserveBuckets(bucketSlots.Length);
            using (var r = DuckDbChunkReader.Query(connection, "SELECT rn, event_date, category, country, city, currency FROM enc_buckets"))
            {
                while (r.NextChunk())
                {
                    var rn = r.Int32Values(0);
                    var date = r.Int32Values(1);
                    for (var i = 0; i < r.RowCount; i++)
                    {
                        bucketSlots[rn[i]] = fold.EncodeBucket(new DailyKey(
                            DateOnly.FromDayNumber(EpochDayNumber + date[i]), r.GetString(2, i), r.GetString(3, i), r.GetString(4, i), r.GetString(5, i)));
                    }
                }
            }

            long rows = 0;
            fold.ReserveDailyAccounts(accountSlots.Length);
            var batch = new EncodedTransaction[2048];
            using (var r = DuckDbChunkReader.Query(connection,
                "SELECT b.rn, a.rn, t.amount, t.direction = 'credit', t.occurred_at, t.source_partition, t.source_offset FROM " + from + " t " +
                "JOIN enc_buckets b ON b.event_date = t.event_date AND b.category = coalesce(t.merchant_category, t.transaction_type) AND b.country = t.country " +
                "AND b.city = t.city AND b.currency = t.currency JOIN enc_accounts a ON a.account_id = t.account_id"))
            {
                RequireCents(r, 2);
                while (r.NextChunk())
                {
                    if (!r.HasNoNulls(2) || !r.HasNoNulls(3) || !r.HasNoNulls(4) || !r.HasNoNulls(5) || !r.HasNoNulls(6))
                    {
                        throw new InvalidOperationException("Silver transactions hold a NULL amount, direction, occurred_at or position.");
                    }

                    var buckets = r.Int32Values(0);
                    var accounts = r.Int32Values(1);
                    var cents = r.Int64Values(2);
                    var credit = r.BooleanValues(3);
                    var at = r.Int64Values(4);
                    var partition = r.Int32Values(5);
                    var offset = r.Int64Values(6);
                    for (var i = 0; i < r.RowCount; i++)
                    {
                        batch[i] = new EncodedTransaction(accountSlots[accounts[i]], bucketSlots[buckets[i]], cents[i], credit[i] != 0, at[i], partition[i], offset[i]);
                    }

                    fold.Fold(batch.AsSpan(0, r.RowCount));
                    rows += r.RowCount;
                }
            }

            return rows;
        }
        finally
        {
            connection.Execute("DROP TABLE IF EXISTS enc_accounts");
            connection.Execute("DROP TABLE IF EXISTS enc_buckets");
        }
    }

    /// <summary>
    /// Restores the fold's (bucket, account) memory of <paramref name="dates"/> from the silver transactions up to
    /// <paramref name="through"/> (the version gold applied), so that more transactions of those dates can be folded row by
    /// row: only the files of those event-date partitions are read; DuckDB joins their rows to the dates' bucket slots
    /// (uploaded) and returns each distinct (bucket slot, account id). The memory is not persisted in gold, so a commit never
    /// writes it. Throws when silver and gold disagree (a bucket's distinct_accounts is not the number of its distinct
    /// accounts in silver).
    /// </summary>
    public async Task RestoreDailyAccountsAsync(DuckDbConnection connection, GoldFold fold, IReadOnlyCollection<DateOnly> dates, long through, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(fold);
        ArgumentNullException.ThrowIfNull(dates);
        if (dates.Count == 0)
        {
            return;
        }

        if (through >= 0)
        {
            var readSet = await ReadSetAsync(SilverTables.Transactions, -1, through, cancellationToken).ConfigureAwait(false);
            var days = dates.Select(d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).ToHashSet(StringComparer.Ordinal);
            var files = readSet.Files.Where(f => !f.File.PartitionValues.TryGetValue("event_date", out var day) || day is null || days.Contains(day)).ToList();
            if (files.Count > 0)
            {
                RestoreDailyAccounts(connection, fold, dates, new DeltaReadSet(readSet.Schema, readSet.Version, files).ToSql());
            }
        }

        if (fold.CompleteDailyAccounts(dates) is { } problem)
        {
            throw new InvalidOperationException(
                $"Gold under this root does not match silver transactions up to version {through}: {problem}. Rebuild gold from silver into a new GoldRoot.");
        }
    }

    /// <summary>
    /// The event dates of a read set of silver transactions, from its files' partition values. A file without one (not
    /// written by cleansing) could hold any date: then every date the fold knows is returned.
    /// </summary>
    internal static IEnumerable<DateOnly> EventDates(DeltaReadSet readSet, GoldFold fold)
    {
        HashSet<DateOnly> dates = [];
        foreach (var file in readSet.Files)
        {
            if (!file.File.PartitionValues.TryGetValue("event_date", out var day) || day is null
                || !DateOnly.TryParseExact(day, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                return fold.Dates;
            }

            dates.Add(date);
        }

        return dates;
    }

    private static void RestoreDailyAccounts(DuckDbConnection connection, GoldFold fold, IReadOnlyCollection<DateOnly> dates, string from)
    {
        const string buckets = "restore_buckets";
        connection.Execute($"CREATE OR REPLACE TEMP TABLE {buckets} (b INTEGER, event_date DATE, category VARCHAR, country VARCHAR, city VARCHAR, currency VARCHAR)");
        try
        {
            var wanted = dates.ToHashSet();
            using (var appender = connection.CreateAppender(buckets))
            {
                for (var b = 0; b < fold.DailyBucketCount; b++)
                {
                    var key = fold.BucketKey(b);
                    if (wanted.Contains(key.EventDate))
                    {
                        appender.Append(b).Append(key.EventDate).Append(key.Category).Append(key.Country).Append(key.City).Append(key.Currency).EndRow();
                    }
                }

                appender.Close();
            }

            fold.ReserveDailyAccounts(fold.DistinctAccountsOf(dates));
            using var r = DuckDbChunkReader.Query(connection,
                $"SELECT DISTINCT b.b, t.account_id FROM {from} t " +
                $"JOIN {buckets} b ON b.event_date = t.event_date AND b.category = coalesce(t.merchant_category, t.transaction_type) AND b.country = t.country " +
                "AND b.city = t.city AND b.currency = t.currency");
            while (r.NextChunk())
            {
                var bucketSlots = r.Int32Values(0);
                for (var i = 0; i < bucketSlots.Length; i++)
                {
                    fold.RestoreDailyAccount(bucketSlots[i], r.GetString(1, i));
                }
            }
        }
        finally
        {
            connection.Execute($"DROP TABLE IF EXISTS {buckets}");
        }
    }

    private static (long Credits, long Debits) CreditsAndDebits(long totalCents, long netCents)
    {
        var credits2 = checked(totalCents + netCents);
        var debits2 = checked(totalCents - netCents);
        if ((credits2 & 1) != 0 || credits2 < 0 || debits2 < 0)
        {
            throw new InvalidOperationException(
                $"Silver transactions break signed_amount = ±amount: an account's amounts sum to {totalCents} cents and its signed amounts to {netCents}.");
        }

        return (credits2 / 2, debits2 / 2);
    }

    private static void RequireCents(DuckDbChunkReader reader, params ReadOnlySpan<int> columns)
    {
        foreach (var c in columns)
        {
            var column = reader.Columns[c];
            if (column.Type != DuckDbType.Decimal || column.DecimalScale != 2)
            {
                throw new InvalidOperationException($"Money column '{column.Name}' must be DECIMAL(18,2) (whole cents); it is {column.TypeName}.");
            }
        }
    }

    // DateOnly(1970, 1, 1).DayNumber: DuckDB's DATE is days since then.
    private const int EpochDayNumber = 719_162;

    private static long FoldPayments(DuckDbConnection connection, string from, GoldFold fold)
    {
        long rows = 0;
        using var r = connection.Query(
            "SELECT loan_id, count(*), sum(amount), sum(principal_portion), sum(interest_portion), max(occurred_at), min(source_partition), max(source_offset) " +
            $"FROM {from} GROUP BY loan_id");
        while (r.Read())
        {
            var lastAt = Units.Micros(r.GetTimestamp(5));
            fold.MergeLoanPayments(r.GetString(0), r.GetInt64(1), Units.Cents(r.GetDecimal(2)), Units.Cents(r.GetDecimal(3)), Units.Cents(r.GetDecimal(4)),
                lastAt, r.GetInt32(6), r.GetInt64(7));
            fold.Observe(lastAt);
            rows += r.GetInt64(1);
        }

        return rows;
    }

    public void Dispose()
    {
        foreach (var table in _tables.Values)
        {
            table.Dispose();
        }
    }
}
