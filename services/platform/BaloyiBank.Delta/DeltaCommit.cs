namespace BaloyiBank.Delta;

/// <summary>What a commit carries: the caller's data files and progress; the table adds commitInfo.</summary>
public sealed record DeltaCommit
{
    public IReadOnlyList<AddFile> Adds { get; init; } = [];

    public IReadOnlyList<RemoveFile> Removes { get; init; } = [];

    /// <summary>
    /// The application's progress marker. When the table already holds this appId at this version or later,
    /// nothing is written and the outcome is <see cref="DeltaCommitStatus.AlreadyCommitted"/>.
    /// </summary>
    public DeltaTransaction? Transaction { get; init; }

    /// <summary>
    /// More progress markers committed atomically with the data (e.g. one per source partition of a micro-batch
    /// that spans partitions). The commit counts as already committed only when the table holds every one of
    /// them (and <see cref="Transaction"/>); holding some but not all is a broken invariant and throws.
    /// </summary>
    public IReadOnlyList<DeltaTransaction> Transactions { get; init; } = [];

    /// <summary><see cref="Transaction"/> and <see cref="Transactions"/> together: the txns that decide <see cref="DeltaCommitStatus.AlreadyCommitted"/>.</summary>
    internal IReadOnlyList<DeltaTransaction> AllTransactions => Transaction is { } single ? [single, .. Transactions] : Transactions;

    /// <summary>
    /// Further <c>txn</c> actions recorded in the same commit, e.g. the upstream table versions a derived table
    /// has applied. They land atomically with the data and show in <see cref="DeltaSnapshot.Transactions"/>,
    /// but they never decide <see cref="DeltaCommitStatus.AlreadyCommitted"/> (<see cref="Transaction"/> and <see cref="Transactions"/> do).
    /// </summary>
    public IReadOnlyList<DeltaTransaction> Progress { get; init; } = [];

    /// <summary>
    /// Conditions on other writers' progress, checked against the table version the commit lands on top of (and again
    /// after every lost race): the commit is refused with <see cref="DeltaFencedException"/> when the table's txn for a
    /// fence's appId has reached its <see cref="DeltaTransactionFence.Below"/>, i.e. when someone else committed that
    /// range first. Because the check and the put-if-absent of the next version act on the same version, no commit
    /// can slip in between: the optimistic commit itself is the fence. A table already holding exactly this commit's
    /// txns still answers <see cref="DeltaCommitStatus.AlreadyCommitted"/>.
    /// </summary>
    public IReadOnlyList<DeltaTransactionFence> Fences { get; init; } = [];

    /// <summary>commitInfo.operation, e.g. <c>STREAMING UPDATE</c> or <c>WRITE</c>.</summary>
    public string Operation { get; init; } = "WRITE";

    public IReadOnlyDictionary<string, string> OperationParameters { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Where the rows came from, recorded in commitInfo (<see cref="CommitLineage"/>); when null, the ambient
    /// <see cref="CommitLineage.Ambient"/>. The table adds the traceparent of its recorded commit span either way.
    /// </summary>
    public CommitLineage? Lineage { get; init; }
}

/// <summary>The commit requires the table's txn for <paramref name="AppId"/> to be absent or below <paramref name="Below"/> (the first offset this writer is adding).</summary>
public sealed record DeltaTransactionFence(string AppId, long Below);

public enum DeltaCommitStatus
{
    /// <summary>The commit landed at <see cref="DeltaCommitResult.Version"/>.</summary>
    Committed,

    /// <summary>The commit's txn (appId, version) was already in the table; nothing was written.</summary>
    AlreadyCommitted,
}

/// <summary>The outcome of <see cref="DeltaTable.CommitAsync"/>.</summary>
/// <param name="Version">The new version (Committed) or the version of the snapshot that showed the txn (AlreadyCommitted).</param>
/// <param name="Snapshot">The table after the commit (or as last read, for AlreadyCommitted): commit again from this one.</param>
/// <param name="Attempts">Versions tried; more than 1 means the commit lost races and was retried.</param>
public sealed record DeltaCommitResult(DeltaCommitStatus Status, long Version, DeltaSnapshot Snapshot, int Attempts);

/// <summary>One commit's data and progress actions, as returned by <see cref="DeltaTable.ReadChangesAsync"/>.</summary>
public sealed record DeltaCommitChanges(long Version, IReadOnlyList<AddFile> Adds, IReadOnlyList<RemoveFile> Removes, IReadOnlyList<DeltaTransaction> Transactions)
{
    /// <summary>The commit's commitInfo (operation, parameters, lineage); null when the commit has none.</summary>
    public CommitInfo? CommitInfo { get; init; }
}
