using System.Runtime.InteropServices;

namespace BaloyiBank.Aggregator;

/// <summary>
/// The gold layer's state and the fold of silver rows into it: pure, in memory, no I/O, deterministic.
/// </summary>
/// <remarks>
/// <para><b>Order.</b> Every aggregate is a sum, a count, a minimum or a maximum, so rows fold in any order and
/// in any split into batches to the same state. Reference rows (accounts, customers, loans) may arrive before
/// or after the rows that use them (cleansing commits each silver table separately): a transaction for an
/// account whose opening is not yet folded still counts, and the opening fills in the reference columns when
/// it comes. When one id has two reference rows, the one earliest in the log (partition, offset) wins.</para>
/// <para><b>Changes.</b> Folding marks what it touched; <see cref="TakeChanges"/> returns the new images of
/// exactly those rows, stamped with the round's gold version, and clears the marks.</para>
/// <para><b>Memory.</b> Accounts and daily buckets live in arrays of structs indexed through one dictionary
/// each; money is kept as whole cents and instants as microseconds (see <see cref="Units"/>).</para>
/// </remarks>
public sealed partial class GoldFold
{
    private readonly Dictionary<string, int> _accountIndex = new(StringComparer.Ordinal);
    private AccountState[] _accounts = new AccountState[1024];
    private int _accountCount;
    private readonly List<int> _dirtyAccounts = [];

    private readonly Dictionary<string, CustomerState> _customers = new(StringComparer.Ordinal);
    private readonly List<CustomerState> _dirtyCustomers = [];

    private readonly Dictionary<string, LoanState> _loans = new(StringComparer.Ordinal);
    private readonly List<LoanState> _dirtyLoans = [];

    private readonly Dictionary<DailyKey, int> _bucketIndex = new(DailyKeyComparer.Instance);
    private DailyBucket[] _buckets = new DailyBucket[256];
    private int _bucketCount;
    private readonly List<int> _dirtyBuckets = [];

    // (bucket << 32) | account: which accounts already count in a bucket's distinct_accounts. Not persisted in gold and
    // held only for the event dates that need it: a date's pairs are restored from silver (RestoreDailyAccount) the first
    // time transactions of that date are folded row by row after a restart or a bulk fold (see DailyPairs).
    private readonly PairSet _dailyAccounts = new();

    // Per event date (day number), whether the memory above holds every pair of its buckets; a date not in the
    // dictionary has no bucket yet.
    private readonly Dictionary<int, DailyPairs> _datePairs = [];

    // Short strings repeat millions of times (currencies, categories, cities): keep one instance of each.
    private readonly Dictionary<string, string> _strings = new(StringComparer.Ordinal);

    private long _watermark = Units.NoTime;
    private DateOnly? _emittedAsOf;

    public int AccountCount => _accountCount;
    public int CustomerCount => _customers.Count;
    public int LoanCount => _loans.Count;
    public int DailyBucketCount => _bucketCount;
    public int DailyAccountCount => _dailyAccounts.Count;

    /// <summary>Event dates whose (bucket, account) pairs are not in memory: their distinct_accounts came from gold or a bulk count.</summary>
    public int DatesWithoutPairs => _datePairs.Count(d => d.Value == DailyPairs.Counted);

    /// <summary>The latest event time of anything folded: the data's own clock (loan lateness is measured against its date).</summary>
    public DateTimeOffset? Watermark => Units.InstantOrNull(_watermark);

    /// <summary>The UTC date of <see cref="Watermark"/>.</summary>
    public DateOnly? AsOfDate => _watermark == Units.NoTime ? null : Units.Date(_watermark);

    /// <summary>True when something was folded since the last <see cref="TakeChanges"/>.</summary>
    public bool HasChanges =>
        _dirtyAccounts.Count > 0 || _dirtyCustomers.Count > 0 || _dirtyLoans.Count > 0 || _dirtyBuckets.Count > 0
        || AsOfDate != _emittedAsOf;

    public void Fold(in TransactionFact fact)
    {
        var account = EncodeAccount(fact.AccountId, fact.Currency);
        var bucket = EncodeBucket(new DailyKey(fact.EventDate, fact.Category, fact.Country, fact.City, fact.Currency));
        Fold(new EncodedTransaction(account, bucket, Units.Cents(fact.Amount), fact.IsCredit, Units.Micros(fact.OccurredAt), fact.SourcePartition, fact.SourceOffset,
            Units.MicroDegrees(fact.Latitude), Units.MicroDegrees(fact.Longitude)));
    }

    /// <summary>
    /// The fold's slot of an account (created when new, with <paramref name="currency"/> as its currency until its opening
    /// is folded): dictionary-encode an account id once, then fold <see cref="EncodedTransaction"/>s that carry the slot.
    /// </summary>
    public int EncodeAccount(string accountId, string currency)
    {
        ArgumentNullException.ThrowIfNull(accountId);
        ArgumentNullException.ThrowIfNull(currency);
        var index = AccountSlot(accountId);
        _accounts[index].Currency ??= Intern(currency);
        return index;
    }

    /// <summary>
    /// The fold's slot of a daily bucket (created empty when new): dictionary-encode a bucket key once. Encode only keys
    /// of transactions about to be folded: a bucket that never gets one would show as an empty row.
    /// </summary>
    public int EncodeBucket(in DailyKey key) => MergeDaily(key, 0, 0, 0, long.MaxValue, long.MinValue, 0, 0, markDirty: false);

    /// <summary>Folds a batch of encoded transactions: integers only, no lookups by string, no allocation per row.</summary>
    public void Fold(ReadOnlySpan<EncodedTransaction> batch)
    {
        foreach (ref readonly var t in batch)
        {
            Fold(in t);
        }
    }

    /// <summary>Folds one encoded transaction (slots from <see cref="EncodeAccount"/> and <see cref="EncodeBucket"/>).</summary>
    public void Fold(in EncodedTransaction t)
    {
        ref var bucket = ref FoldAmounts(in t);
        if (!bucket.PairsKnown)
        {
            throw new InvalidOperationException(
                $"The (bucket, account) pairs of {bucket.Key.EventDate:yyyy-MM-dd} are not in memory: restore them (RestoreDailyAccount, CompleteDailyAccounts) before folding its transactions row by row.");
        }

        AddDailyAccount(t.Bucket, t.Account);
    }

    /// <summary>
    /// Folds a bulk batch's transactions of dates the fold had no bucket of before the batch: everything but the
    /// (bucket, account) pairs, which the caller counts itself and hands over with <see cref="CountDailyAccounts"/>.
    /// </summary>
    internal void FoldCounted(ReadOnlySpan<EncodedTransaction> batch)
    {
        foreach (ref readonly var t in batch)
        {
            FoldAmounts(in t);
        }
    }

    /// <summary>The hot loop's sums, counts, minimums and maximums of one transaction; returns its bucket.</summary>
    private ref DailyBucket FoldAmounts(in EncodedTransaction t)
    {
        if ((uint)t.Account >= (uint)_accountCount || (uint)t.Bucket >= (uint)_bucketCount)
        {
            throw new ArgumentOutOfRangeException(nameof(t), "The transaction's account or bucket slot was not encoded by this fold.");
        }

        ref var account = ref _accounts[t.Account];
        account.Count++;
        if (t.IsCredit)
        {
            account.CreditCents = checked(account.CreditCents + t.Cents);
        }
        else
        {
            account.DebitCents = checked(account.DebitCents + t.Cents);
        }

        account.FirstAt = account.FirstAt == Units.NoTime ? t.OccurredAtMicros : Math.Min(account.FirstAt, t.OccurredAtMicros);
        account.LastAt = Math.Max(account.LastAt, t.OccurredAtMicros);
        account.Partition = Math.Min(account.Partition, t.SourcePartition);
        account.LastOffset = Math.Max(account.LastOffset, t.SourceOffset);
        if (!account.Dirty)
        {
            account.Dirty = true;
            _dirtyAccounts.Add(t.Account);
        }

        if (account.Customer is { Dirty: false } customer)
        {
            MarkCustomer(customer);
        }

        ref var bucket = ref _buckets[t.Bucket];
        bucket.Count++;
        bucket.TotalCents = checked(bucket.TotalCents + t.Cents);
        bucket.NetCents = checked(bucket.NetCents + (t.IsCredit ? t.Cents : -t.Cents));
        bucket.MinCents = Math.Min(bucket.MinCents, t.Cents);
        bucket.MaxCents = Math.Max(bucket.MaxCents, t.Cents);
        bucket.LatitudeMicroSum = checked(bucket.LatitudeMicroSum + t.LatitudeMicro);
        bucket.LongitudeMicroSum = checked(bucket.LongitudeMicroSum + t.LongitudeMicro);
        if (!bucket.Dirty)
        {
            bucket.Dirty = true;
            _dirtyBuckets.Add(t.Bucket);
        }

        if (t.OccurredAtMicros > _watermark)
        {
            _watermark = t.OccurredAtMicros;
        }

        return ref bucket;
    }

    public void Fold(AccountFact fact)
    {
        ArgumentNullException.ThrowIfNull(fact);
        var index = AccountSlot(fact.AccountId);
        ref var account = ref _accounts[index];
        var opened = Units.Micros(fact.OpenedAt);
        Observe(opened);
        account.Partition = Math.Min(account.Partition, fact.SourcePartition);
        account.LastOffset = Math.Max(account.LastOffset, fact.SourceOffset);
        if (account.HasReference && (account.ReferencePartition, account.ReferenceOffset).CompareTo((fact.SourcePartition, fact.SourceOffset)) <= 0)
        {
            MarkAccount(index);
            return;
        }

        if (account.Customer is { } previous)
        {
            previous.Accounts.Remove(index);
            MarkCustomer(previous);
        }

        account.HasReference = true;
        account.CustomerId = fact.CustomerId;
        account.AccountType = Intern(fact.AccountType);
        account.Currency = Intern(fact.Currency);
        account.OpeningCents = Units.Cents(fact.OpeningBalance);
        account.OverdraftCents = Units.Cents(fact.OverdraftLimit);
        account.OpenedAt = opened;
        account.ReferencePartition = fact.SourcePartition;
        account.ReferenceOffset = fact.SourceOffset;
        var customer = CustomerSlot(fact.CustomerId);
        account.Customer = customer;
        account.CustomerId = customer.Id;
        customer.Accounts.Add(index);
        MarkCustomer(customer);
        MarkAccount(index);
    }

    public void Fold(CustomerFact fact)
    {
        ArgumentNullException.ThrowIfNull(fact);
        Observe(Units.Micros(fact.RegisteredAt));
        var customer = CustomerSlot(fact.CustomerId);
        if (customer.Reference is { } known && (known.SourcePartition, known.SourceOffset).CompareTo((fact.SourcePartition, fact.SourceOffset)) <= 0)
        {
            return;
        }

        customer.Reference = fact with { Segment = Intern(fact.Segment), City = Intern(fact.City), Country = Intern(fact.Country) };
        MarkCustomer(customer);
    }

    public void Fold(LoanFact fact)
    {
        ArgumentNullException.ThrowIfNull(fact);
        var loan = LoanSlot(fact.LoanId);
        Observe(Units.Micros(fact.DisbursedAt));
        loan.Partition = Math.Min(loan.Partition, fact.SourcePartition);
        loan.LastOffset = Math.Max(loan.LastOffset, fact.SourceOffset);
        MarkLoan(loan);
        if (loan.Reference is { } known && (known.SourcePartition, known.SourceOffset).CompareTo((fact.SourcePartition, fact.SourceOffset)) <= 0)
        {
            return;
        }

        if (loan.Customer is { } previous)
        {
            previous.Loans.Remove(loan);
            MarkCustomer(previous);
        }

        loan.Reference = fact with { Currency = Intern(fact.Currency), Product = Intern(fact.Product) };
        var customer = CustomerSlot(fact.CustomerId);
        loan.Customer = customer;
        customer.Loans.Add(loan);
        MarkCustomer(customer);
    }

    public void Fold(in LoanPaymentFact fact)
    {
        var at = Units.Micros(fact.OccurredAt);
        MergeLoanPayments(fact.LoanId, 1, Units.Cents(fact.Amount), Units.Cents(fact.PrincipalPortion), Units.Cents(fact.InterestPortion), at, fact.SourcePartition, fact.SourceOffset);
        Observe(at);
    }

    /// <summary>Folds a partial aggregate of one account's transactions (what a batch did to it). Returns the account's slot.</summary>
    internal int MergeAccountActivity(string accountId, string currency, long count, long creditCents, long debitCents, long firstAt, long lastAt, int partition, long lastOffset)
    {
        var index = AccountSlot(accountId);
        ref var account = ref _accounts[index];
        account.Currency ??= Intern(currency);
        account.Count += count;
        account.CreditCents = checked(account.CreditCents + creditCents);
        account.DebitCents = checked(account.DebitCents + debitCents);
        account.FirstAt = account.FirstAt == Units.NoTime ? firstAt : Math.Min(account.FirstAt, firstAt);
        account.LastAt = Math.Max(account.LastAt, lastAt);
        account.Partition = Math.Min(account.Partition, partition);
        account.LastOffset = Math.Max(account.LastOffset, lastOffset);
        MarkAccount(index);
        if (account.Customer is { } customer)
        {
            MarkCustomer(customer);
        }

        return index;
    }

    /// <summary>Folds a partial aggregate of one daily bucket. Returns the bucket's slot.</summary>
    internal int MergeDaily(in DailyKey key, long count, long totalCents, long netCents, long minCents, long maxCents, long latitudeMicroSum, long longitudeMicroSum, bool markDirty = true)
    {
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_bucketIndex, key, out var exists);
        if (!exists)
        {
            if (_bucketCount == _buckets.Length)
            {
                Array.Resize(ref _buckets, _buckets.Length * 2);
            }

            slot = _bucketCount++;
            ref var pairs = ref CollectionsMarshal.GetValueRefOrAddDefault(_datePairs, key.EventDate.DayNumber, out var dateSeen);
            if (!dateSeen)
            {
                pairs = DailyPairs.Known;
            }

            _buckets[slot] = new DailyBucket
            {
                Key = new(key.EventDate, Intern(key.Category), Intern(key.Country), Intern(key.City), Intern(key.Currency)),
                MinCents = long.MaxValue,
                MaxCents = long.MinValue,
                PairsKnown = pairs == DailyPairs.Known,
            };
        }

        var index = slot;
        ref var bucket = ref _buckets[index];
        bucket.Count += count;
        bucket.TotalCents = checked(bucket.TotalCents + totalCents);
        bucket.NetCents = checked(bucket.NetCents + netCents);
        bucket.MinCents = Math.Min(bucket.MinCents, minCents);
        bucket.MaxCents = Math.Max(bucket.MaxCents, maxCents);
        bucket.LatitudeMicroSum = checked(bucket.LatitudeMicroSum + latitudeMicroSum);
        bucket.LongitudeMicroSum = checked(bucket.LongitudeMicroSum + longitudeMicroSum);
        if (markDirty && !bucket.Dirty)
        {
            bucket.Dirty = true;
            _dirtyBuckets.Add(index);
        }

        return index;
    }

    /// <summary>Counts <paramref name="account"/> in <paramref name="bucket"/>'s distinct accounts unless it already does.</summary>
    internal void AddDailyAccount(int bucket, int account)
    {
        var pair = ((long)bucket << 32) | (uint)account;
        if (_dailyAccounts.Add(pair))
        {
            ref var b = ref _buckets[bucket];
            b.DistinctAccounts++;
            if (!b.Dirty)
            {
                b.Dirty = true;
                _dirtyBuckets.Add(bucket);
            }
        }
    }

    /// <summary>
    /// A bulk fold's count of distinct accounts in a bucket of a date the fold had no bucket of before the batch (see
    /// <see cref="PairsOf"/>): added to distinct_accounts without the pairs, so the date's pairs become
    /// <see cref="DailyPairs.Counted"/> (restored from silver before its transactions are next folded row by row).
    /// </summary>
    internal void CountDailyAccounts(int bucket, long distinctAccounts)
    {
        ref var b = ref _buckets[bucket];
        b.DistinctAccounts += distinctAccounts;
        if (!b.Dirty)
        {
            b.Dirty = true;
            _dirtyBuckets.Add(bucket);
        }

        SetDatePairs(b.Key.EventDate, DailyPairs.Counted);
    }

    /// <summary>
    /// Drops the (bucket, account) pairs of every event date before <paramref name="cutoff"/> whose pairs are in memory:
    /// their distinct_accounts stay as counted, the dates become <see cref="DailyPairs.Counted"/>, and a later
    /// transaction of such a date needs them restored from silver first (as after a restart). Returns how many dates.
    /// </summary>
    public int ForgetPairsBefore(DateOnly cutoff)
    {
        var days = _datePairs.Where(d => d.Key < cutoff.DayNumber && d.Value == DailyPairs.Known).Select(d => d.Key).ToHashSet();
        if (days.Count == 0)
        {
            return 0;
        }

        var buckets = new bool[_bucketCount];
        for (var i = 0; i < _bucketCount; i++)
        {
            buckets[i] = days.Contains(_buckets[i].Key.EventDate.DayNumber);
        }

        _dailyAccounts.RemoveWhere(pair => buckets[(int)(pair >> 32)]);
        foreach (var day in days)
        {
            SetDatePairs(DateOnly.FromDayNumber(day), DailyPairs.Counted);
        }

        return days.Count;
    }

    /// <summary>The event dates that have buckets.</summary>
    public IReadOnlyCollection<DateOnly> Dates => [.. _datePairs.Keys.Select(DateOnly.FromDayNumber)];

    /// <summary>Whether an event date has buckets and whether their (bucket, account) pairs are in memory; null when it has no bucket.</summary>
    public DailyPairs? PairsOf(DateOnly date) => _datePairs.TryGetValue(date.DayNumber, out var pairs) ? pairs : null;

    /// <summary>The dates among <paramref name="dates"/> whose pairs must be restored before their transactions are folded row by row.</summary>
    public IReadOnlyList<DateOnly> DatesNeedingPairs(IEnumerable<DateOnly> dates) =>
        [.. dates.Distinct().Where(d => PairsOf(d) == DailyPairs.Counted).Order()];

    private void SetDatePairs(DateOnly date, DailyPairs pairs)
    {
        ref var state = ref CollectionsMarshal.GetValueRefOrAddDefault(_datePairs, date.DayNumber, out var exists);
        if (exists && state == pairs)
        {
            return;
        }

        state = pairs;
        for (var i = 0; i < _bucketCount; i++)
        {
            if (_buckets[i].Key.EventDate == date)
            {
                _buckets[i].PairsKnown = pairs == DailyPairs.Known;
            }
        }
    }

    /// <summary>
    /// Restores one (bucket, account) pair of the daily-account memory (from silver) without counting it again:
    /// the bucket's distinct_accounts (from gold or a bulk count) already counts it. Returns false when it was already there.
    /// </summary>
    public bool RestoreDailyAccount(in DailyKey key, string accountId)
    {
        ArgumentNullException.ThrowIfNull(accountId);
        var bucket = _bucketIndex.TryGetValue(key, out var b) ? b
            : throw new InvalidOperationException($"Gold is inconsistent with silver: silver has transactions in bucket {key}, which daily_transaction_summary does not hold.");
        var account = _accountIndex.TryGetValue(accountId, out var a) ? a
            : throw new InvalidOperationException($"Gold is inconsistent with silver: silver has transactions of account {accountId}, which account_balances does not hold.");
        return RestoreDailyAccount(bucket, account);
    }

    /// <summary>The bucket-slot form of <see cref="RestoreDailyAccount(in DailyKey, string)"/>.</summary>
    internal bool RestoreDailyAccount(int bucket, string accountId)
    {
        var account = _accountIndex.TryGetValue(accountId, out var a) ? a
            : throw new InvalidOperationException($"Gold is inconsistent with silver: silver has transactions of account {accountId}, which account_balances does not hold.");
        return RestoreDailyAccount(bucket, account);
    }

    /// <summary>The slot form of <see cref="RestoreDailyAccount(in DailyKey, string)"/>.</summary>
    internal bool RestoreDailyAccount(int bucket, int account)
    {
        if ((uint)bucket >= (uint)_bucketCount || (uint)account >= (uint)_accountCount)
        {
            throw new ArgumentOutOfRangeException(nameof(bucket), "Not a slot of this fold.");
        }

        return _dailyAccounts.Add(((long)bucket << 32) | (uint)account);
    }

    /// <summary>
    /// After restoring the daily-account memory of every date: every bucket must hold exactly as many pairs as its
    /// distinct_accounts (gold and the silver it was folded from agree); then every date's pairs are
    /// <see cref="DailyPairs.Known"/>. Returns a description of the first disagreement (and changes nothing), or null.
    /// </summary>
    public string? CheckDailyAccounts() => CompleteDailyAccounts([.. _datePairs.Keys.Select(DateOnly.FromDayNumber)]);

    /// <summary>
    /// After restoring the pairs of <paramref name="dates"/> from silver: each of their buckets must hold exactly as many
    /// pairs as its distinct_accounts; then those dates' pairs are <see cref="DailyPairs.Known"/> and their transactions
    /// may be folded row by row. Returns a description of the first disagreement (and changes nothing), or null.
    /// </summary>
    public string? CompleteDailyAccounts(IReadOnlyCollection<DateOnly> dates)
    {
        ArgumentNullException.ThrowIfNull(dates);
        var days = dates.Select(d => d.DayNumber).ToHashSet();
        var counts = new long[_bucketCount];
        _dailyAccounts.ForEach(pair => counts[(int)(pair >> 32)]++);
        for (var i = 0; i < _bucketCount; i++)
        {
            if (days.Contains(_buckets[i].Key.EventDate.DayNumber) && counts[i] != _buckets[i].DistinctAccounts)
            {
                return $"bucket {_buckets[i].Key} counts {_buckets[i].DistinctAccounts} distinct accounts in gold but silver holds {counts[i]}";
            }
        }

        foreach (var date in dates)
        {
            if (_datePairs.ContainsKey(date.DayNumber))
            {
                SetDatePairs(date, DailyPairs.Known);
            }
        }

        return null;
    }

    /// <summary>The sum of distinct_accounts over the buckets of <paramref name="dates"/>: the pairs their restored memory must hold.</summary>
    internal long DistinctAccountsOf(IReadOnlyCollection<DateOnly> dates)
    {
        var days = dates.Select(d => d.DayNumber).ToHashSet();
        long total = 0;
        for (var i = 0; i < _bucketCount; i++)
        {
            if (days.Contains(_buckets[i].Key.EventDate.DayNumber))
            {
                total += _buckets[i].DistinctAccounts;
            }
        }

        return total;
    }

    /// <summary>The key of a bucket slot.</summary>
    internal DailyKey BucketKey(int bucket) => _buckets[bucket].Key;

    /// <summary>The id of an account slot.</summary>
    internal string AccountId(int account) => _accounts[account].Id;

    /// <summary>Makes room for up to <paramref name="more"/> new accounts at once (a rebuild merges a million).</summary>
    internal void ReserveAccounts(int more)
    {
        var needed = _accountCount + more;
        _accountIndex.EnsureCapacity(needed);
        if (needed > _accounts.Length)
        {
            Array.Resize(ref _accounts, needed);
        }
    }

    /// <summary>Makes room for up to <paramref name="more"/> new daily buckets at once.</summary>
    internal void ReserveBuckets(int more)
    {
        var needed = _bucketCount + more;
        _bucketIndex.EnsureCapacity(needed);
        if (needed > _buckets.Length)
        {
            Array.Resize(ref _buckets, needed);
        }
    }

    /// <summary>Makes room in the (bucket, account) memory for up to <paramref name="more"/> new pairs at once.</summary>
    internal void ReserveDailyAccounts(long more) => _dailyAccounts.EnsureCapacity((int)Math.Min(int.MaxValue / 2, _dailyAccounts.Count + more));

    /// <summary>Folds a partial aggregate of one loan's payments.</summary>
    internal void MergeLoanPayments(string loanId, long count, long amountCents, long principalCents, long interestCents, long lastAt, int partition, long lastOffset)
    {
        var loan = LoanSlot(loanId);
        loan.Count += count;
        loan.AmountCents += amountCents;
        loan.PrincipalCents += principalCents;
        loan.InterestCents += interestCents;
        loan.LastPaymentAt = Math.Max(loan.LastPaymentAt, lastAt);
        loan.Partition = Math.Min(loan.Partition, partition);
        loan.LastOffset = Math.Max(loan.LastOffset, lastOffset);
        MarkLoan(loan);
        if (loan.Customer is { } customer)
        {
            MarkCustomer(customer);
        }
    }

    /// <summary>Moves the data's clock forward (event times of every table count).</summary>
    internal void Observe(long micros) => _watermark = Math.Max(_watermark, micros);

    private int AccountSlot(string accountId)
    {
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_accountIndex, accountId, out var exists);
        if (!exists)
        {
            if (_accountCount == _accounts.Length)
            {
                Array.Resize(ref _accounts, _accounts.Length * 2);
            }

            slot = _accountCount++;
            _accounts[slot] = new AccountState
            {
                Id = accountId,
                FirstAt = Units.NoTime,
                LastAt = Units.NoTime,
                OpenedAt = Units.NoTime,
                Partition = int.MaxValue,
                LastOffset = -1,
            };
        }

        return slot;
    }

    private CustomerState CustomerSlot(string customerId)
    {
        ref var customer = ref CollectionsMarshal.GetValueRefOrAddDefault(_customers, customerId, out var exists);
        if (!exists)
        {
            customer = new CustomerState(customerId);
        }

        return customer!;
    }

    private LoanState LoanSlot(string loanId)
    {
        ref var loan = ref CollectionsMarshal.GetValueRefOrAddDefault(_loans, loanId, out var exists);
        if (!exists)
        {
            loan = new LoanState(loanId);
        }

        return loan!;
    }

    private void MarkAccount(int index)
    {
        ref var account = ref _accounts[index];
        if (!account.Dirty)
        {
            account.Dirty = true;
            _dirtyAccounts.Add(index);
        }
    }

    private void MarkCustomer(CustomerState customer)
    {
        if (!customer.Dirty)
        {
            customer.Dirty = true;
            _dirtyCustomers.Add(customer);
        }
    }

    private void MarkLoan(LoanState loan)
    {
        if (!loan.Dirty)
        {
            loan.Dirty = true;
            _dirtyLoans.Add(loan);
        }
    }

    private string Intern(string value)
    {
        ref var interned = ref CollectionsMarshal.GetValueRefOrAddDefault(_strings, value, out var exists);
        if (!exists)
        {
            interned = value;
        }

        return interned!;
    }

    /// <summary>
    /// The daily key's hash without the four randomized string hashes of the record's own GetHashCode (the key is
    /// hashed for every folded transaction): the strings' bytes are mixed 8 at a time. Equality stays exact.
    /// </summary>
    private sealed class DailyKeyComparer : IEqualityComparer<DailyKey>
    {
        public static readonly DailyKeyComparer Instance = new();

        public bool Equals(DailyKey x, DailyKey y) =>
            x.EventDate == y.EventDate && string.Equals(x.Category, y.Category, StringComparison.Ordinal) && string.Equals(x.Country, y.Country, StringComparison.Ordinal)
            && string.Equals(x.City, y.City, StringComparison.Ordinal) && string.Equals(x.Currency, y.Currency, StringComparison.Ordinal);

        public int GetHashCode(DailyKey obj)
        {
            var h = (ulong)(uint)obj.EventDate.DayNumber * 0x9E3779B97F4A7C15;
            h = Mix(h, obj.Category);
            h = Mix(h, obj.Country);
            h = Mix(h, obj.City);
            h = Mix(h, obj.Currency);
            return (int)(h ^ (h >> 32));
        }

        private static ulong Mix(ulong h, string? value)
        {
            var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes((value ?? string.Empty).AsSpan());
            while (bytes.Length >= 8)
            {
                h = (h ^ System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes)) * 0xBF58476D1CE4E5B9;
                h ^= h >> 31;
                bytes = bytes[8..];
            }

            ulong tail = (ulong)(value?.Length ?? -1);
            foreach (var b in bytes)
            {
                tail = (tail << 8) | b;
            }

            h = (h ^ tail) * 0x94D049BB133111EB;
            return h ^ (h >> 29);
        }
    }

    internal struct AccountState
    {
        public string Id;
        public string? CustomerId;
        public string? AccountType;
        public string? Currency;
        public CustomerState? Customer;
        public long OpeningCents;
        public long OverdraftCents;
        public long OpenedAt;
        public long ReferenceOffset;
        public int ReferencePartition;
        public int Partition;
        public long LastOffset;
        public long Count;
        public long CreditCents;
        public long DebitCents;
        public long FirstAt;
        public long LastAt;
        public long Version;
        public long UpdatedAt;
        public bool HasReference;
        public bool Dirty;

        public readonly long BalanceCents => OpeningCents + CreditCents - DebitCents;
    }

    internal struct DailyBucket
    {
        public DailyKey Key;
        public long Count;
        public long TotalCents;
        public long NetCents;
        public long MinCents;
        public long MaxCents;
        public long DistinctAccounts;
        public long LatitudeMicroSum;
        public long LongitudeMicroSum;
        public long Version;
        public long UpdatedAt;
        public bool Dirty;
        public bool PairsKnown;
    }

    internal sealed class CustomerState(string id)
    {
        public string Id { get; } = id;
        public CustomerFact? Reference { get; set; }
        public List<int> Accounts { get; } = [];
        public List<LoanState> Loans { get; } = [];
        public long Version { get; set; }
        public long UpdatedAt { get; set; }
        public bool Dirty { get; set; }
    }

    internal sealed class LoanState(string id)
    {
        public string Id { get; } = id;
        public LoanFact? Reference { get; set; }
        public CustomerState? Customer { get; set; }
        public int Partition { get; set; } = int.MaxValue;
        public long LastOffset { get; set; } = -1;
        public long Count { get; set; }
        public long AmountCents { get; set; }
        public long PrincipalCents { get; set; }
        public long InterestCents { get; set; }
        public long LastPaymentAt { get; set; } = Units.NoTime;
        public long Version { get; set; }
        public long UpdatedAt { get; set; }
        public bool Dirty { get; set; }
    }
}

/// <summary>Whether the fold's (bucket, account) memory holds the pairs behind an event date's distinct_accounts.</summary>
public enum DailyPairs
{
    /// <summary>Every pair of the date's buckets is in memory: transactions of the date fold row by row.</summary>
    Known,

    /// <summary>distinct_accounts came from gold (a restart) or a bulk count; the pairs must be restored from silver first.</summary>
    Counted,
}
