namespace BaloyiBank.Cleansing;

/// <summary>An account opened on a partition, as the cleanser needs it: its id and currency.</summary>
public readonly record struct KnownAccount(string AccountId, string Currency);

/// <summary>A valid transaction remembered for deduplication.</summary>
public readonly record struct SeenTransaction(string TransactionId, DateTimeOffset OccurredAt);

/// <summary>A partition's cleansing state in a form a worker can keep or rebuild.</summary>
public sealed record PartitionSnapshot(
    int Partition,
    IReadOnlyList<KnownAccount> Accounts,
    IReadOnlyList<SeenTransaction> Transactions,
    DateTimeOffset? Watermark,
    DateTimeOffset? WatermarkEnqueuedAt);

/// <summary>
/// What the cleanser remembers about one log partition: the accounts opened on it (account
/// events precede their transactions on the same partition), the transactions within the dedup
/// horizon, and the event-time watermark (the latest valid occurredAt). One owner per partition:
/// not thread-safe. After a restart the worker rebuilds it from silver with
/// <see cref="RememberAccount"/> and <see cref="RememberTransaction"/>, or from a <see cref="Snapshot"/>.
/// </summary>
public sealed class PartitionState
{
    private const int PooledTextCapacity = 65_536;

    private readonly Dictionary<string, string> _accounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _accountLookup;

    public PartitionState(int partition, CleansingOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        Partition = partition;
        Transactions = new TransactionDedupWindow((options ?? new CleansingOptions()).DedupHorizon);
        _accountLookup = _accounts.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public int Partition { get; }

    public TransactionDedupWindow Transactions { get; }

    public int AccountCount => _accounts.Count;

    /// <summary>The latest occurredAt of a valid event on this partition; null before the first.</summary>
    public DateTimeOffset? Watermark { get; private set; }

    /// <summary>When the event that set the watermark was enqueued; null when unknown (restored without it).</summary>
    public DateTimeOffset? WatermarkEnqueuedAt { get; private set; }

    /// <summary>Repeated low-cardinality text (cities, customer ids, merchants) shared between rows instead of re-allocated.</summary>
    internal TextPool Text { get; } = new(PooledTextCapacity);

    /// <summary>Unescaping room for one value, reused: one owner per partition.</summary>
    internal byte[] ByteScratch { get; } = new byte[1024];

    internal char[] CharScratch { get; } = new char[1024];

    /// <summary>Records an opened account (also used to rebuild the state from silver's accounts table).</summary>
    public void RememberAccount(string accountId, string currency)
    {
        ArgumentException.ThrowIfNullOrEmpty(accountId);
        ArgumentException.ThrowIfNullOrEmpty(currency);
        _accounts[accountId] = currency;
    }

    /// <summary>
    /// Records a valid transaction (to rebuild the state from silver's transactions table). Pass
    /// the row's <c>enqueued_at</c> when you have it: it anchors the watermark rule of the future check.
    /// </summary>
    public void RememberTransaction(string transactionId, DateTimeOffset occurredAt, DateTimeOffset? enqueuedAt = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(transactionId);
        Transactions.TryAdmit(transactionId, occurredAt);
        Observe(occurredAt, enqueuedAt);
    }

    public bool TryGetAccountCurrency(string accountId, out string currency) =>
        _accounts.TryGetValue(accountId, out currency!);

    internal bool TryGetAccount(ReadOnlySpan<char> accountId, out string id, out string currency) =>
        _accountLookup.TryGetValue(accountId, out id!, out currency!);

    /// <summary>Moves the watermark with a valid event and forgets transactions that fell out of the horizon.</summary>
    internal void Observe(DateTimeOffset occurredAt, DateTimeOffset? enqueuedAt)
    {
        if (Watermark is not { } watermark || occurredAt > watermark)
        {
            Watermark = occurredAt;
            WatermarkEnqueuedAt = enqueuedAt;
            Transactions.Evict(occurredAt);
        }
        else if (WatermarkEnqueuedAt is null && enqueuedAt is not null)
        {
            // Restored without enqueue times: the first live event re-anchors the watermark.
            WatermarkEnqueuedAt = enqueuedAt;
        }
    }

    public PartitionSnapshot Snapshot() => new(
        Partition,
        [.. _accounts.Select(pair => new KnownAccount(pair.Key, pair.Value))],
        [.. Transactions.Entries()],
        Watermark,
        WatermarkEnqueuedAt);

    public static PartitionState Restore(PartitionSnapshot snapshot, CleansingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var state = new PartitionState(snapshot.Partition, options);
        foreach (var account in snapshot.Accounts)
        {
            state.RememberAccount(account.AccountId, account.Currency);
        }

        foreach (var transaction in snapshot.Transactions)
        {
            state.Transactions.TryAdmit(transaction.TransactionId, transaction.OccurredAt);
        }

        if (snapshot.Watermark is { } watermark)
        {
            state.Observe(watermark, snapshot.WatermarkEnqueuedAt);
        }

        return state;
    }
}

/// <summary>Interns repeated strings up to a capacity; beyond it, new text is allocated and not kept.</summary>
internal sealed class TextPool
{
    private readonly int _capacity;
    private readonly Dictionary<string, string> _strings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public TextPool(int capacity)
    {
        _capacity = capacity;
        _lookup = _strings.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public string Intern(ReadOnlySpan<char> text)
    {
        if (_lookup.TryGetValue(text, out var pooled))
        {
            return pooled;
        }

        var created = text.ToString();
        if (_strings.Count < _capacity)
        {
            _strings[created] = created;
        }

        return created;
    }
}
