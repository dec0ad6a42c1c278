using System.Globalization;
using BaloyiBank.Delta;
using BaloyiBank.Lake;
using Parquet;

namespace BaloyiBank.Aggregator;

/// <summary>
/// The silver tables gold is folded from, read incrementally: the files added by the commits after the version gold
/// has applied, read with Parquet.Net a row group at a time (only the columns gold needs). Transactions are
/// dictionary-encoded into the fold's slots and folded through its hot loop (<see cref="SilverTransactionReader"/>);
/// reference rows and loan payments are folded one by one.
/// </summary>
public sealed class SilverSource : IDisposable
{
    /// <summary>The silver tables gold depends on, in the order a round folds them.</summary>
    public static IReadOnlyList<TableSchema> Tables { get; } =
        [SilverTables.Customers, SilverTables.Accounts, SilverTables.Loans, SilverTables.Transactions, SilverTables.LoanPayments];

    /// <summary>
    /// Transaction batches of at most this many rows (a live round's) keep the (bucket, account) pairs of every date they
    /// touch; bigger ones (a rebuild, a long catch-up) count the distinct accounts of dates new to the fold without keeping them.
    /// </summary>
    internal const long RowByRowLimit = 1_000_000;

    private readonly Dictionary<string, DeltaTable> _tables = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DeltaSnapshot> _snapshots = new(StringComparer.Ordinal);
    private readonly string _silverRoot;

    public SilverSource(ILakeStore lake, string silverRoot)
    {
        ArgumentNullException.ThrowIfNull(lake);
        ArgumentException.ThrowIfNullOrWhiteSpace(silverRoot);
        _silverRoot = silverRoot;
        foreach (var schema in Tables)
        {
            _tables[PathOf(schema)] = new DeltaTable(lake, PathOf(schema));
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

    /// <summary>
    /// The data files added to a silver table by the commits in (<paramref name="after"/>, <paramref name="through"/>]; from
    /// the start (<paramref name="after"/> = -1), the files of version <paramref name="through"/>. A range whose added files
    /// were compacted and then vacuumed (removed more than <c>Lake:VacuumRetention</c> ago) cannot be read.
    /// </summary>
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

        if (after < 0 && through >= 0)
        {
            // Everything up to a version is that version's files: the same rows as every add before it (silver only appends
            // and compacts), and the files cleansing's compaction replaced may be vacuumed already. When nothing but
            // compactions came after it (gold idle while cleansing compacted), the latest files hold the same rows and
            // still exist even once that version's own files are vacuumed.
            var latest = await table.LoadAsync(cancellationToken).ConfigureAwait(false);
            var since = await table.ReadChangesAsync(through, latest.Version, cancellationToken).ConfigureAwait(false);
            var snapshot = since.Any(c => c.Adds.Any(a => a.DataChange) || c.Removes.Any(r => r.DataChange))
                ? await table.LoadAsync(through, cancellationToken).ConfigureAwait(false)
                : latest;
            return await table.GetReadSetAsync(schema, through, [.. snapshot.Files.Values], cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        return await table.GetReadSetAsync(schema, through, [.. changes.SelectMany(c => c.Adds).Where(a => a.DataChange)], cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The customers' registrations in silver up to <paramref name="through"/> (what gold does not store itself).</summary>
    public async Task<List<CustomerFact>> ReadCustomersAsync(long through, CancellationToken cancellationToken)
    {
        List<CustomerFact> customers = [];
        if (through < 0)
        {
            return customers;
        }

        var readSet = await ReadSetAsync(SilverTables.Customers, -1, through, cancellationToken).ConfigureAwait(false);
        await FoldCustomersAsync(readSet, customers.Add, cancellationToken).ConfigureAwait(false);
        return customers;
    }

    /// <summary>Folds the rows of one silver table's files (<paramref name="readSet"/>) into <paramref name="fold"/>; returns the rows folded.</summary>
    public static Task<long> FoldAsync(DeltaReadSet readSet, GoldFold fold, CancellationToken cancellationToken = default) =>
        FoldAsync(readSet, fold, RowByRowLimit, cancellationToken);

    internal static async Task<long> FoldAsync(DeltaReadSet readSet, GoldFold fold, long rowByRowLimit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(readSet);
        ArgumentNullException.ThrowIfNull(fold);
        if (readSet.Files.Count == 0)
        {
            return 0;
        }

        return readSet.Schema.Name switch
        {
            "customers" => await FoldCustomersAsync(readSet, c => fold.Fold(c), cancellationToken).ConfigureAwait(false),
            "accounts" => await FoldAccountsAsync(readSet, fold, cancellationToken).ConfigureAwait(false),
            "loans" => await FoldLoansAsync(readSet, fold, cancellationToken).ConfigureAwait(false),
            "transactions" => await new SilverTransactionReader(fold, keepPairs: await CountRowsAsync(readSet, cancellationToken).ConfigureAwait(false) <= rowByRowLimit)
                .FoldAsync(readSet, cancellationToken).ConfigureAwait(false),
            "loan_payments" => await FoldPaymentsAsync(readSet, fold, cancellationToken).ConfigureAwait(false),
            var other => throw new ArgumentException($"Gold does not fold silver table '{other}'.", nameof(readSet)),
        };
    }

    private static async Task<long> FoldCustomersAsync(DeltaReadSet readSet, Action<CustomerFact> fold, CancellationToken cancellationToken)
    {
        long rows = 0;
        await foreach (var c in ColumnChunk.ReadAsync(readSet,
            ["customer_id", "first_name", "last_name", "segment", "city", "country", "occurred_at", "source_partition", "source_offset"], cancellationToken).ConfigureAwait(false))
        {
            var id = c.Strings("customer_id");
            var first = c.Strings("first_name");
            var last = c.Strings("last_name");
            var segment = c.Strings("segment");
            var city = c.Strings("city");
            var country = c.Strings("country");
            var at = SilverColumns.Values<DateTime>(c, "occurred_at");
            var partition = SilverColumns.Values<int>(c, "source_partition");
            var offset = SilverColumns.Values<long>(c, "source_offset");
            for (var i = 0; i < c.RowCount; i++)
            {
                fold(new CustomerFact(SilverColumns.Required(id, i, "customer_id"), SilverColumns.Required(first, i, "first_name"), SilverColumns.Required(last, i, "last_name"),
                    SilverColumns.Required(segment, i, "segment"), SilverColumns.Required(city, i, "city"), SilverColumns.Required(country, i, "country"),
                    SilverColumns.Instant(at[i]), partition[i], offset[i]));
            }

            rows += c.RowCount;
        }

        return rows;
    }

    private static async Task<long> FoldAccountsAsync(DeltaReadSet readSet, GoldFold fold, CancellationToken cancellationToken)
    {
        long rows = 0;
        await foreach (var c in ColumnChunk.ReadAsync(readSet,
            ["account_id", "customer_id", "account_type", "currency", "opening_balance", "overdraft_limit", "occurred_at", "source_partition", "source_offset"], cancellationToken).ConfigureAwait(false))
        {
            var id = c.Strings("account_id");
            var customer = c.Strings("customer_id");
            var type = c.Strings("account_type");
            var currency = c.Strings("currency");
            var opening = SilverColumns.Values<decimal>(c, "opening_balance");
            var overdraft = SilverColumns.Values<decimal>(c, "overdraft_limit");
            var at = SilverColumns.Values<DateTime>(c, "occurred_at");
            var partition = SilverColumns.Values<int>(c, "source_partition");
            var offset = SilverColumns.Values<long>(c, "source_offset");
            for (var i = 0; i < c.RowCount; i++)
            {
                fold.Fold(new AccountFact(SilverColumns.Required(id, i, "account_id"), SilverColumns.Required(customer, i, "customer_id"), SilverColumns.Required(type, i, "account_type"),
                    SilverColumns.Required(currency, i, "currency"), opening[i], overdraft[i], SilverColumns.Instant(at[i]), partition[i], offset[i]));
            }

            rows += c.RowCount;
        }

        return rows;
    }

    private static async Task<long> FoldLoansAsync(DeltaReadSet readSet, GoldFold fold, CancellationToken cancellationToken)
    {
        long rows = 0;
        await foreach (var c in ColumnChunk.ReadAsync(readSet,
            ["loan_id", "customer_id", "account_id", "product", "principal", "currency", "annual_interest_rate", "term_months", "monthly_instalment", "first_due_date",
             "occurred_at", "source_partition", "source_offset"], cancellationToken).ConfigureAwait(false))
        {
            var id = c.Strings("loan_id");
            var customer = c.Strings("customer_id");
            var account = c.Strings("account_id");
            var product = c.Strings("product");
            var principal = SilverColumns.Values<decimal>(c, "principal");
            var currency = c.Strings("currency");
            var rate = SilverColumns.Values<decimal>(c, "annual_interest_rate");
            var term = SilverColumns.Values<int>(c, "term_months");
            var instalment = SilverColumns.Values<decimal>(c, "monthly_instalment");
            var firstDue = SilverColumns.Values<DateOnly>(c, "first_due_date");
            var at = SilverColumns.Values<DateTime>(c, "occurred_at");
            var partition = SilverColumns.Values<int>(c, "source_partition");
            var offset = SilverColumns.Values<long>(c, "source_offset");
            for (var i = 0; i < c.RowCount; i++)
            {
                fold.Fold(new LoanFact(SilverColumns.Required(id, i, "loan_id"), SilverColumns.Required(customer, i, "customer_id"), SilverColumns.Required(account, i, "account_id"),
                    SilverColumns.Required(product, i, "product"), principal[i], SilverColumns.Required(currency, i, "currency"), rate[i], term[i], instalment[i], firstDue[i],
                    SilverColumns.Instant(at[i]), partition[i], offset[i]));
            }

            rows += c.RowCount;
        }

        return rows;
    }

    /// <summary>Instalments one by one (each a sum of one); the loan id's string is made once per loan, not per row.</summary>
    private static async Task<long> FoldPaymentsAsync(DeltaReadSet readSet, GoldFold fold, CancellationToken cancellationToken)
    {
        long rows = 0;
        var loans = new SpanStrings();
        await foreach (var c in ColumnChunk.ReadAsync(readSet,
            ["loan_id", "amount", "principal_portion", "interest_portion", "occurred_at", "source_partition", "source_offset"], cancellationToken).ConfigureAwait(false))
        {
            var id = c.Chars("loan_id");
            var amount = SilverColumns.Values<decimal>(c, "amount");
            var principal = SilverColumns.Values<decimal>(c, "principal_portion");
            var interest = SilverColumns.Values<decimal>(c, "interest_portion");
            var at = SilverColumns.Values<DateTime>(c, "occurred_at");
            var partition = SilverColumns.Values<int>(c, "source_partition");
            var offset = SilverColumns.Values<long>(c, "source_offset");
            for (var i = 0; i < c.RowCount; i++)
            {
                var loan = loans[loans.Id(SilverColumns.Required(id, i, "loan_id"))];
                fold.Fold(new LoanPaymentFact(loan, amount[i], principal[i], interest[i], SilverColumns.Instant(at[i]), partition[i], offset[i]));
            }

            rows += c.RowCount;
        }

        return rows;
    }

    /// <summary>The rows of a read set: from the files' statistics, or their Parquet footers where a file has none.</summary>
    internal static async Task<long> CountRowsAsync(DeltaReadSet readSet, CancellationToken cancellationToken)
    {
        long rows = 0;
        foreach (var file in readSet.Files)
        {
            if (file.File.Statistics is { } stats)
            {
                rows += stats.NumRecords;
                continue;
            }

            await using var stream = File.OpenRead(file.LocalPath);
            await using var reader = await ParquetReader.CreateAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
            for (var g = 0; g < reader.RowGroupCount; g++)
            {
                using var group = reader.OpenRowGroupReader(g);
                rows += group.RowCount;
            }
        }

        return rows;
    }

    /// <summary>
    /// Restores the fold's (bucket, account) memory of <paramref name="dates"/> from the silver transactions up to
    /// <paramref name="through"/> (the version gold applied), so that more transactions of those dates can be folded row by
    /// row: only the files of those event-date partitions are read, and each row's (bucket, account) is looked up among the
    /// fold's slots. The memory is not persisted in gold, so a commit never writes it. Throws when silver and gold disagree
    /// (a bucket's distinct_accounts is not the number of its distinct accounts in silver).
    /// </summary>
    public async Task RestoreDailyAccountsAsync(GoldFold fold, IReadOnlyCollection<DateOnly> dates, long through, CancellationToken cancellationToken)
    {
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
                fold.ReserveDailyAccounts(fold.DistinctAccountsOf(dates));
                await new SilverTransactionReader(fold, keepPairs: true)
                    .RestorePairsAsync(new DeltaReadSet(readSet.Schema, readSet.Version, files), [.. dates.Select(d => d.DayNumber)], cancellationToken).ConfigureAwait(false);
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
            if (SilverColumns.EventDate(file) is not { } date)
            {
                return fold.Dates;
            }

            dates.Add(date);
        }

        return dates;
    }

    public void Dispose()
    {
        foreach (var table in _tables.Values)
        {
            table.Dispose();
        }
    }
}
