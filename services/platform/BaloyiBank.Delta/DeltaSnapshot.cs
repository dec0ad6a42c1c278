using System.Collections.Immutable;

namespace BaloyiBank.Delta;

/// <summary>
/// The state of a table at one version (PROTOCOL.md "Action Reconciliation"): protocol, metadata, active
/// files, tombstones and the latest <c>txn</c> version per appId. Immutable: a newer state is a new snapshot,
/// so a reader holding this one keeps a consistent view while writers move on.
/// </summary>
public sealed class DeltaSnapshot
{
    private readonly Lazy<TableSchema> schema;

    internal DeltaSnapshot(
        DeltaTable table,
        long version,
        ProtocolAction protocol,
        MetadataAction metadata,
        ImmutableDictionary<string, AddFile> files,
        ImmutableDictionary<string, RemoveFile> tombstones,
        ImmutableDictionary<string, DeltaTransaction> transactions,
        DeltaSnapshotLoadInfo loadInfo)
    {
        Table = table;
        Version = version;
        Protocol = protocol;
        Metadata = metadata;
        Files = files;
        Tombstones = tombstones;
        Transactions = transactions;
        LoadInfo = loadInfo;
        schema = new(() => DeltaSchema.Parse(metadata.SchemaString, metadata.Name ?? table.Name, metadata.PartitionColumns));
    }

    public DeltaTable Table { get; }

    /// <summary>The table version this snapshot shows.</summary>
    public long Version { get; }

    public ProtocolAction Protocol { get; }

    public MetadataAction Metadata { get; }

    /// <summary>The table's columns and partitioning, parsed from <see cref="MetadataAction.SchemaString"/>.</summary>
    public TableSchema Schema => schema.Value;

    /// <summary>The active data files, keyed by <see cref="AddFile.Path"/> as it appears in the log.</summary>
    public ImmutableDictionary<string, AddFile> Files { get; }

    /// <summary>
    /// Files removed from the table: those the checkpoint loaded kept and every one since; with
    /// <see cref="DeltaTableOptions.TombstoneRetention"/>, those expired are also dropped as a writer's snapshot crosses checkpoint versions.
    /// </summary>
    public ImmutableDictionary<string, RemoveFile> Tombstones { get; }

    /// <summary>The latest <c>txn</c> per appId: each application's committed progress.</summary>
    public ImmutableDictionary<string, DeltaTransaction> Transactions { get; }

    /// <summary>How this snapshot was built (checkpoint used, commit files read): for diagnostics and tests.</summary>
    public DeltaSnapshotLoadInfo LoadInfo { get; }

    /// <summary>The version last committed by <paramref name="appId"/>, or null when it never committed.</summary>
    public long? TransactionVersion(string appId) => Transactions.TryGetValue(appId, out var txn) ? txn.Version : null;

    /// <summary>True when <paramref name="appId"/> already committed <paramref name="version"/> or a later one.</summary>
    public bool IsCommitted(string appId, long version) => TransactionVersion(appId) >= version;

    /// <summary>Rows in the active files, from their statistics (files without stats count as 0).</summary>
    public long RecordCount => Files.Values.Sum(f => f.Statistics?.NumRecords ?? 0);

    /// <summary>A snapshot with every commit after this one applied (this one when there are none). Reads only the newer commits.</summary>
    public Task<DeltaSnapshot> UpdateAsync(CancellationToken cancellationToken = default) => Table.UpdateAsync(this, cancellationToken);

    /// <summary>Applies commits in order (reconciliation: last protocol/metaData wins, latest file action per path wins).</summary>
    internal DeltaSnapshot Apply(IReadOnlyList<(long Version, DeltaLogEntry Entry)> commits, DeltaSnapshotLoadInfo loadInfo)
    {
        if (commits.Count == 0)
        {
            return this;
        }

        var version = Version;
        var protocol = Protocol;
        var metadata = Metadata;
        var files = Files.ToBuilder();
        var tombstones = Tombstones.ToBuilder();
        var transactions = Transactions.ToBuilder();
        var crossedCheckpoint = false;
        foreach (var (commitVersion, entry) in commits)
        {
            version = commitVersion;
            crossedCheckpoint |= commitVersion % Table.Options.CheckpointInterval == 0;
            Reconcile(entry, ref protocol, ref metadata, files, tombstones, transactions);
        }

        // A long-lived writer's snapshot forgets expired tombstones as its checkpoints do (checked once per checkpoint
        // interval), so its memory does not grow with every file compaction ever removed.
        if (crossedCheckpoint && Table.Options.TombstoneRetention is { } retention && tombstones.Count > 0)
        {
            var expired = (Table.Options.TimeProvider.GetUtcNow() - retention).ToUnixTimeMilliseconds();
            foreach (var path in tombstones.Where(t => (t.Value.DeletionTimestamp ?? long.MaxValue) < expired).Select(t => t.Key).ToList())
            {
                tombstones.Remove(path);
            }
        }

        return new(Table, version, protocol!, metadata!, files.ToImmutable(), tombstones.ToImmutable(), transactions.ToImmutable(), loadInfo);
    }

    /// <summary>Builds a snapshot from scratch: an optional checkpoint's state followed by commits.</summary>
    internal static DeltaSnapshot Build(
        DeltaTable table, (long Version, DeltaLogEntry State)? checkpoint, IReadOnlyList<(long Version, DeltaLogEntry Entry)> commits, DeltaSnapshotLoadInfo loadInfo)
    {
        ProtocolAction? protocol = null;
        MetadataAction? metadata = null;
        var files = ImmutableDictionary.CreateBuilder<string, AddFile>(StringComparer.Ordinal);
        var tombstones = ImmutableDictionary.CreateBuilder<string, RemoveFile>(StringComparer.Ordinal);
        var transactions = ImmutableDictionary.CreateBuilder<string, DeltaTransaction>(StringComparer.Ordinal);
        var version = -1L;
        if (checkpoint is { } start)
        {
            version = start.Version;
            Reconcile(start.State, ref protocol, ref metadata, files, tombstones, transactions);
        }

        foreach (var (commitVersion, entry) in commits)
        {
            version = commitVersion;
            Reconcile(entry, ref protocol, ref metadata, files, tombstones, transactions);
        }

        var source = checkpoint is { } c ? $"checkpoint {c.Version}" : $"commit {DeltaPaths.CommitFileName(0)}";
        if (protocol is null || metadata is null)
        {
            throw new DeltaLogCorruptException($"Table {table.Location}: no {(protocol is null ? "protocol" : "metaData")} action up to version {version} (read from {source}).");
        }

        return new(table, version, protocol, metadata, files.ToImmutable(), tombstones.ToImmutable(), transactions.ToImmutable(), loadInfo);
    }

    private static void Reconcile(
        DeltaLogEntry entry,
        ref ProtocolAction? protocol,
        ref MetadataAction? metadata,
        ImmutableDictionary<string, AddFile>.Builder files,
        ImmutableDictionary<string, RemoveFile>.Builder tombstones,
        ImmutableDictionary<string, DeltaTransaction>.Builder transactions)
    {
        protocol = entry.Protocol ?? protocol;
        metadata = entry.Metadata ?? metadata;
        foreach (var txn in entry.Transactions)
        {
            transactions[txn.AppId] = txn;
        }

        // Within one commit a path has at most one add and one remove; removes first so that a
        // re-add of the same path in the same commit (a metadata update) leaves the file active.
        foreach (var remove in entry.Removes)
        {
            files.Remove(remove.Path);
            tombstones[remove.Path] = remove;
        }

        foreach (var add in entry.Adds)
        {
            tombstones.Remove(add.Path);
            files[add.Path] = add;
        }
    }
}

/// <summary>How a snapshot was built.</summary>
/// <param name="CheckpointVersion">The checkpoint the state started from, or null when replayed from version 0.</param>
/// <param name="CommitFilesRead">JSON commit files read for this snapshot (after the checkpoint, or since the previous snapshot for an update).</param>
public sealed record DeltaSnapshotLoadInfo(long? CheckpointVersion, int CommitFilesRead);
