using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using BaloyiBank.Lake;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BaloyiBank.Delta;

/// <summary>
/// A Delta Lake table (reader version 1, writer version 2) at a path prefix of the lake: creates it, loads
/// snapshots (checkpoint + later JSON commits), commits with put-if-absent and retries, checkpoints, compacts
/// small files, vacuums removed ones and removes orphaned data files. The commit log is the only source of truth (invariants 3 and 4): a data
/// file is part of the table only once a commit naming it has landed. Thread-safe.
/// </summary>
public sealed partial class DeltaTable : IDisposable
{
    // Commits are listed 1,000 versions at a time (a 17-digit prefix), so finding the commits after a
    // checkpoint costs one listing page rather than a listing of the whole log.
    private const int ListingBlock = 1000;
    private const int ParallelReads = 8;

    private readonly DeltaTableOptions options;
    private readonly ILogger logger;

    public DeltaTable(ILakeStore lake, string path, DeltaTableOptions? options = null, ILogger<DeltaTable>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(lake);
        LakePath.Validate(path);
        this.options = options ?? new DeltaTableOptions();
        this.options.Validate();
        this.logger = logger ?? (ILogger)NullLogger.Instance;
        Lake = lake;
        Path = path;
        LogPrefix = $"{path}/{DeltaPaths.LogFolder}/";
        TempRoot = this.options.TempDirectory ?? System.IO.Path.Combine(System.IO.Path.GetTempPath(), "baloyibank-delta");
    }

    public ILakeStore Lake { get; }

    /// <summary>The table's path prefix in the lake, e.g. <c>silver/transactions</c>.</summary>
    public string Path { get; }

    /// <summary>The last segment of <see cref="Path"/>: the table name when the metadata has none.</summary>
    public string Name => Path[(Path.LastIndexOf('/') + 1)..];

    /// <summary>Where the table lives, for messages.</summary>
    public string Location => $"{Lake.Location}/{Path}";

    public DeltaTableOptions Options => options;

    internal string LogPrefix { get; }

    internal string TempRoot { get; }

    /// <summary>The lake path of a file relative to the table root.</summary>
    public string LakePathOf(string relativePath) => $"{Path}/{relativePath}";

    internal string LogPath(string fileName) => LogPrefix + fileName;

    /// <summary>
    /// Creates the table (version 0: protocol 1/2 and metaData) if it does not exist. When it exists with the
    /// same columns and partitioning, returns its current snapshot; with a different shape, throws.
    /// </summary>
    public async Task<DeltaSnapshot> CreateAsync(TableSchema schema, IReadOnlyDictionary<string, string>? configuration = null, CancellationToken cancellationToken = default)
    {
        DeltaSchema.Validate(schema);
        var now = Now();
        var metadata = new MetadataAction
        {
            Id = Guid.NewGuid().ToString(),
            Name = schema.Name,
            SchemaString = DeltaSchema.ToSchemaString(schema),
            PartitionColumns = [.. schema.PartitionColumns],
            Configuration = configuration ?? new Dictionary<string, string>(),
            CreatedTime = now,
        };
        var entry = new DeltaLogEntry
        {
            CommitInfo = new CommitInfo
            {
                Timestamp = now,
                Operation = "CREATE TABLE",
                OperationParameters = new Dictionary<string, string>
                {
                    ["isManaged"] = "false",
                    ["partitionBy"] = JsonSerializer.Serialize(schema.PartitionColumns.ToArray(), DeltaJsonContext.Default.StringArray),
                    ["properties"] = JsonSerializer.Serialize(metadata.Configuration.ToDictionary(), DeltaJsonContext.Default.DictionaryStringString),
                },
                IsBlindAppend = true,
                EngineInfo = options.EngineInfo,
            },
            Protocol = ProtocolAction.Supported,
            Metadata = metadata,
        };

        var outcome = await Lake.PutIfAbsentAsync(LogPath(DeltaPaths.CommitFileName(0)), DeltaLogCodec.Encode(entry), cancellationToken).ConfigureAwait(false);
        if (outcome == PutOutcome.Created)
        {
            return DeltaSnapshot.Build(this, null, [(0, entry)], new(null, 0));
        }

        var existing = await LoadAsync(cancellationToken).ConfigureAwait(false);
        if (!SameShape(existing.Schema, schema))
        {
            throw new DeltaProtocolException(
                $"Table {Location} already exists with a different schema: columns ({Describe(existing.Schema)}), expected ({Describe(schema)}).");
        }

        return existing;
    }

    /// <summary>The latest snapshot, or null when no table exists at <see cref="Path"/>.</summary>
    public Task<DeltaSnapshot?> TryLoadAsync(CancellationToken cancellationToken = default) => LoadCoreAsync(useCheckpoints: true, cancellationToken);

    /// <summary>The latest snapshot replayed from the JSON commits alone, ignoring checkpoints (to verify them).</summary>
    internal Task<DeltaSnapshot?> LoadFromCommitsOnlyAsync(CancellationToken cancellationToken = default) => LoadCoreAsync(useCheckpoints: false, cancellationToken);

    /// <summary>The latest snapshot.</summary>
    /// <exception cref="DeltaTableNotFoundException">No commit log exists at <see cref="Path"/>.</exception>
    public async Task<DeltaSnapshot> LoadAsync(CancellationToken cancellationToken = default) =>
        await TryLoadAsync(cancellationToken).ConfigureAwait(false)
        ?? throw new DeltaTableNotFoundException($"No Delta table at {Location}: {LogPath(DeltaPaths.CommitFileName(0))} does not exist.");

    /// <summary>
    /// The snapshot at <paramref name="version"/> (Delta time travel): the newest checkpoint at or before it, then the
    /// commits up to it.
    /// </summary>
    /// <exception cref="DeltaTableNotFoundException">No commit log exists at <see cref="Path"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The table has no version <paramref name="version"/> (yet).</exception>
    public async Task<DeltaSnapshot> LoadAsync(long version, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(version);
        var snapshot = await LoadCoreAsync(useCheckpoints: true, cancellationToken, asOf: version).ConfigureAwait(false)
            ?? throw new DeltaTableNotFoundException($"No Delta table at {Location}: {LogPath(DeltaPaths.CommitFileName(0))} does not exist.");
        return snapshot.Version == version
            ? snapshot
            : throw new ArgumentOutOfRangeException(nameof(version), version, $"Table {Location} has no version {version}; its latest is {snapshot.Version}.");
    }

    /// <summary>The snapshot with every commit after <paramref name="snapshot"/> applied; reads only those commits.</summary>
    public async Task<DeltaSnapshot> UpdateAsync(DeltaSnapshot snapshot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var commits = await ReadCommitsAfterAsync(snapshot.Version, cancellationToken).ConfigureAwait(false);
        return snapshot.Apply(commits, new(snapshot.LoadInfo.CheckpointVersion, commits.Count));
    }

    /// <summary>
    /// Commits <paramref name="commit"/> on top of <paramref name="readSnapshot"/>: writes the next version with
    /// put-if-absent; on a lost race re-reads the newer commits, stops with AlreadyCommitted when they hold the
    /// commit's txn, throws <see cref="DeltaConcurrentModificationException"/> on a logical conflict, and
    /// otherwise retries at the next version. Checkpoints every <see cref="DeltaTableOptions.CheckpointInterval"/>
    /// versions; a failed checkpoint is logged, never thrown.
    /// </summary>
    public async Task<DeltaCommitResult> CommitAsync(DeltaSnapshot readSnapshot, DeltaCommit commit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(readSnapshot);
        ArgumentNullException.ThrowIfNull(commit);
        EnsureWritable(readSnapshot);
        ValidateCommit(readSnapshot, commit);
        using var span = DeltaTelemetry.StartCommit(this, commit);
        var result = await CommitCoreAsync(readSnapshot, commit, Lineage(commit, span), cancellationToken).ConfigureAwait(false);
        DeltaTelemetry.Committed(span, result);
        return result;
    }

    /// <summary>The commit's lineage plus the commit span's own traceparent (what a later reader of this commit links to).</summary>
    private static CommitLineage? Lineage(DeltaCommit commit, System.Diagnostics.Activity? span)
    {
        var lineage = commit.Lineage ?? CommitLineage.Ambient;
        return DeltaTelemetry.TraceParentOf(span ?? System.Diagnostics.Activity.Current) is { } traceparent
            ? (lineage ?? new CommitLineage()) with { TraceParents = [.. lineage?.TraceParents ?? [], traceparent] }
            : lineage;
    }

    private async Task<DeltaCommitResult> CommitCoreAsync(DeltaSnapshot readSnapshot, DeltaCommit commit, CommitLineage? lineage, CancellationToken cancellationToken)
    {
        var snapshot = readSnapshot;
        for (var attempt = 1; ; attempt++)
        {
            CheckFences(snapshot, commit);
            if (HoldsTransactions(snapshot, commit))
            {
                return new(DeltaCommitStatus.AlreadyCommitted, snapshot.Version, snapshot, attempt);
            }

            var version = snapshot.Version + 1;
            var entry = ToLogEntry(commit, readSnapshot.Version, lineage);
            var outcome = await Lake.PutIfAbsentAsync(LogPath(DeltaPaths.CommitFileName(version)), DeltaLogCodec.Encode(entry), cancellationToken).ConfigureAwait(false);
            if (outcome == PutOutcome.Created)
            {
                var committed = snapshot.Apply([(version, entry)], new(snapshot.LoadInfo.CheckpointVersion, 0));
                if (version % options.CheckpointInterval == 0)
                {
                    await TryWriteCheckpointAsync(committed, cancellationToken).ConfigureAwait(false);
                }

                return new(DeltaCommitStatus.Committed, version, committed, attempt);
            }

            LogRaceLost(logger, Location, version, attempt, null);
            if (attempt >= options.MaxCommitAttempts)
            {
                throw new DeltaCommitRetriesExhaustedException(
                    $"Table {Location}: gave up committing after {attempt} attempts; version {version} was taken each time by another writer. " +
                    $"Raise {nameof(DeltaTableOptions.MaxCommitAttempts)} or reduce the number of concurrent writers.");
            }

            var winners = await ReadCommitsAfterAsync(snapshot.Version, cancellationToken).ConfigureAwait(false);
            snapshot = snapshot.Apply(winners, new(snapshot.LoadInfo.CheckpointVersion, winners.Count));
            CheckFences(snapshot, commit);
            if (HoldsTransactions(snapshot, commit))
            {
                return new(DeltaCommitStatus.AlreadyCommitted, snapshot.Version, snapshot, attempt);
            }

            foreach (var (winnerVersion, winner) in winners)
            {
                CheckConflict(commit, winnerVersion, winner);
            }

            EnsureWritable(snapshot);
            await Task.Delay(Jitter(attempt), options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The commits after <paramref name="afterVersion"/> up to and including <paramref name="throughVersion"/>, in
    /// order, with their add, remove and txn actions: what changed between two versions without loading either
    /// snapshot. Reads only those commit files (never a checkpoint), so the JSON commits of the range must exist.
    /// </summary>
    /// <exception cref="DeltaLogCorruptException">A commit in the range is missing.</exception>
    public async Task<IReadOnlyList<DeltaCommitChanges>> ReadChangesAsync(long afterVersion, long throughVersion, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(afterVersion, -1);
        if (throughVersion <= afterVersion)
        {
            return [];
        }

        var listing = await ListLogAsync(afterVersion, cancellationToken).ConfigureAwait(false);
        var versions = listing.Commits.Where(v => v <= throughVersion).ToList();
        RequireContiguous(afterVersion + 1, versions);
        if (versions.Count != throughVersion - afterVersion)
        {
            var missing = LogPath(DeltaPaths.CommitFileName(afterVersion + 1 + versions.Count));
            throw new DeltaLogCorruptException($"Table {Location}: commit {missing} does not exist; the log ends before version {throughVersion}.") { LogFile = missing };
        }

        var commits = await ReadCommitsAsync(versions, cancellationToken).ConfigureAwait(false);
        return [.. commits.Select(c => new DeltaCommitChanges(c.Version, c.Entry.Adds, c.Entry.Removes, c.Entry.Transactions) { CommitInfo = c.Entry.CommitInfo })];
    }

    /// <summary>A table holds nothing to release today; it stays disposable so that callers keep their <c>using</c> when it does.</summary>
    public void Dispose()
    {
    }

    internal long Now() => options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();

    private static bool SameShape(TableSchema a, TableSchema b) =>
        a.Columns.SequenceEqual(b.Columns) && a.PartitionColumns.SequenceEqual(b.PartitionColumns, StringComparer.Ordinal);

    private static string Describe(TableSchema schema) =>
        string.Join(", ", schema.Columns.Select(c => $"{c.Name} {c.Type}{(c.Nullable ? "?" : "")}")) +
        (schema.PartitionColumns.Count > 0 ? $"; partitioned by {string.Join(", ", schema.PartitionColumns)}" : "");

    private void EnsureWritable(DeltaSnapshot snapshot)
    {
        var protocol = snapshot.Protocol;
        if (protocol.MinReaderVersion > ProtocolAction.Supported.MinReaderVersion || protocol.MinWriterVersion > ProtocolAction.Supported.MinWriterVersion)
        {
            throw new DeltaProtocolException(
                $"Table {Location} needs reader version {protocol.MinReaderVersion} and writer version {protocol.MinWriterVersion}; " +
                $"this library writes reader {ProtocolAction.Supported.MinReaderVersion} / writer {ProtocolAction.Supported.MinWriterVersion} tables only.");
        }

        if (snapshot.Metadata.FormatProvider != "parquet")
        {
            throw new DeltaProtocolException($"Table {Location} stores '{snapshot.Metadata.FormatProvider}' files; only parquet is supported.");
        }

        _ = snapshot.Schema; // Rejects schemas with invariants and other column metadata writer version 2 would have to enforce.
    }

    private void ValidateCommit(DeltaSnapshot snapshot, DeltaCommit commit)
    {
        var partitionColumns = snapshot.Metadata.PartitionColumns;
        HashSet<string> paths = new(StringComparer.Ordinal);
        foreach (var add in commit.Adds)
        {
            if (!paths.Add(add.Path))
            {
                throw new ArgumentException($"Commit to {Location} adds '{add.Path}' twice.", nameof(commit));
            }

            if (add.PartitionValues.Count != partitionColumns.Count || partitionColumns.Any(c => !add.PartitionValues.ContainsKey(c)))
            {
                throw new ArgumentException(
                    $"Commit to {Location}: file '{add.Path}' has partition values for ({string.Join(", ", add.PartitionValues.Keys)}), the table is partitioned by ({string.Join(", ", partitionColumns)}).",
                    nameof(commit));
            }

            _ = DeltaPaths.DecodeDataPath(add.Path);
        }

        paths.Clear();
        foreach (var remove in commit.Removes)
        {
            if (!paths.Add(remove.Path))
            {
                throw new ArgumentException($"Commit to {Location} removes '{remove.Path}' twice.", nameof(commit));
            }

            if (remove.DataChange && snapshot.Metadata.Configuration.TryGetValue("delta.appendOnly", out var appendOnly)
                && string.Equals(appendOnly, "true", StringComparison.OrdinalIgnoreCase))
            {
                // Writer version 2 must respect append-only tables.
                throw new InvalidOperationException($"Table {Location} is append-only (delta.appendOnly=true): it cannot remove data ('{remove.Path}').");
            }
        }

        var appIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var progress in commit.AllTransactions.Concat(commit.Progress))
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(progress.AppId, "commit.Progress.AppId");
            if (!appIds.Add(progress.AppId))
            {
                throw new ArgumentException($"Commit to {Location} records txn '{progress.AppId}' twice.", nameof(commit));
            }
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(commit.Operation, "commit.Operation");
    }

    private DeltaLogEntry ToLogEntry(DeltaCommit commit, long readVersion, CommitLineage? lineage)
    {
        var now = Now();
        return new()
        {
            CommitInfo = new CommitInfo
            {
                Timestamp = now,
                Operation = commit.Operation,
                OperationParameters = commit.OperationParameters,
                ReadVersion = readVersion,
                IsBlindAppend = commit.Removes.Count == 0,
                EngineInfo = options.EngineInfo,
                Lineage = lineage,
            },
            Transactions = [.. commit.AllTransactions.Concat(commit.Progress).Select(t => t with { LastUpdated = t.LastUpdated ?? now })],
            Removes = commit.Removes,
            Adds = commit.Adds,
        };
    }

    /// <summary>
    /// Appends never conflict with appends (different files). What does: a winner that changed the metadata
    /// or protocol (our files may not match it), removed a file we remove, or added a path we add.
    /// </summary>
    /// <summary>Whether <paramref name="snapshot"/> already holds every txn of <paramref name="commit"/> (false when it has none).</summary>
    /// <summary>Throws <see cref="DeltaFencedException"/> when a fence's appId reached its bound, unless the table holds exactly this commit's txns.</summary>
    private void CheckFences(DeltaSnapshot snapshot, DeltaCommit commit)
    {
        foreach (var fence in commit.Fences)
        {
            if (snapshot.TransactionVersion(fence.AppId) is not { } found || found < fence.Below)
            {
                continue;
            }

            var transactions = commit.AllTransactions;
            if (transactions.Count > 0 && transactions.All(t => snapshot.TransactionVersion(t.AppId) == t.Version))
            {
                return;
            }

            throw new DeltaFencedException(
                $"Table {Location} at version {snapshot.Version} holds txn ({fence.AppId}, {found}), at or beyond {fence.Below} where this commit's range starts: " +
                "another writer committed that range first. Nothing was written; drop the work for it and resume from the table.")
            {
                AppId = fence.AppId,
                Found = found,
                TableVersion = snapshot.Version,
            };
        }
    }

    private bool HoldsTransactions(DeltaSnapshot snapshot, DeltaCommit commit)
    {
        var transactions = commit.AllTransactions;
        if (transactions.Count == 0)
        {
            return false;
        }

        var held = transactions.Count(t => snapshot.IsCommitted(t.AppId, t.Version));
        if (held > 0 && held < transactions.Count)
        {
            var missing = transactions.First(t => !snapshot.IsCommitted(t.AppId, t.Version));
            throw new InvalidOperationException(
                $"Table {Location} at version {snapshot.Version} holds {held} of the commit's {transactions.Count} txns but not ({missing.AppId}, {missing.Version}): " +
                "txns committed together must stay together. Another writer with the same appIds is committing different ranges.");
        }

        return held == transactions.Count;
    }

    private void CheckConflict(DeltaCommit commit, long winnerVersion, DeltaLogEntry winner)
    {
        string? reason = null;
        if (winner.Metadata is not null || winner.Protocol is not null)
        {
            reason = "it changed the table's metadata or protocol";
        }
        else if (commit.Removes.Count > 0 && winner.Removes.Select(r => r.Path).Intersect(commit.Removes.Select(r => r.Path), StringComparer.Ordinal).FirstOrDefault() is { } removed)
        {
            reason = $"it also removed '{removed}'";
        }
        else if (commit.Adds.Count > 0 && winner.Adds.Select(a => a.Path).Intersect(commit.Adds.Select(a => a.Path), StringComparer.Ordinal).FirstOrDefault() is { } added)
        {
            reason = $"it added the same file '{added}' (with a different or no txn)";
        }

        if (reason is not null)
        {
            throw new DeltaConcurrentModificationException(
                $"Table {Location}: the commit conflicts with version {winnerVersion}, committed concurrently: {reason}. Re-read the table and redo the write.")
            {
                ConflictingVersion = winnerVersion,
            };
        }
    }

    private TimeSpan Jitter(int attempt)
    {
        var max = options.CommitRetryJitter.TotalMilliseconds * Math.Min(attempt, 5);
        return TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * max);
    }

    private async Task<DeltaSnapshot?> LoadCoreAsync(bool useCheckpoints, CancellationToken cancellationToken, long? asOf = null)
    {
        // Time travel lists the whole log: _last_checkpoint may point past the version asked for.
        var hint = useCheckpoints && asOf is null ? await ReadLastCheckpointVersionAsync(cancellationToken).ConfigureAwait(false) : null;
        var listing = await ListLogAsync(hint ?? -1, cancellationToken).ConfigureAwait(false);
        if (asOf is { } limit)
        {
            listing.Commits.RemoveAll(v => v > limit);
        }

        var lastCommit = listing.Commits.Count > 0 ? listing.Commits[^1] : hint;

        // The newest checkpoint we can see wins: _last_checkpoint may lag when its write failed.
        long? checkpoint = useCheckpoints
            ? listing.Checkpoints.Where(c => c <= lastCommit).Append(hint ?? -1).Max() is var newest and >= 0 ? newest : null
            : null;
        if (checkpoint is null && listing.Commits.Count == 0)
        {
            return null;
        }

        (long, DeltaLogEntry)? state = null;
        if (checkpoint is { } cp)
        {
            try
            {
                state = (cp, await DeltaCheckpoints.ReadAsync(this, cp, cancellationToken).ConfigureAwait(false));
            }
            catch (Exception e) when (e is DeltaProtocolException or IOException or InvalidDataException or JsonException or Parquet.ParquetException or Parquet.Meta.Proto.ThriftProtocolException)
            {
                LogCheckpointUnreadable(logger, Location, cp, e);
                return await LoadCoreAsync(useCheckpoints: false, cancellationToken, asOf).ConfigureAwait(false);
            }
        }

        var first = (checkpoint ?? -1) + 1;
        var versions = listing.Commits.Where(v => v >= first).ToList();
        RequireContiguous(first, versions);
        var commits = await ReadCommitsAsync(versions, cancellationToken).ConfigureAwait(false);
        return DeltaSnapshot.Build(this, state, commits, new(checkpoint, commits.Count));
    }

    private async Task<IReadOnlyList<(long Version, DeltaLogEntry Entry)>> ReadCommitsAfterAsync(long version, CancellationToken cancellationToken)
    {
        var listing = await ListLogAsync(version, cancellationToken).ConfigureAwait(false);
        RequireContiguous(version + 1, listing.Commits);
        return await ReadCommitsAsync(listing.Commits, cancellationToken).ConfigureAwait(false);
    }

    private void RequireContiguous(long first, List<long> versions)
    {
        for (var i = 0; i < versions.Count; i++)
        {
            if (versions[i] != first + i)
            {
                var missing = LogPath(DeltaPaths.CommitFileName(first + i));
                throw new DeltaLogCorruptException(
                    $"Table {Location}: the commit log has a gap: {missing} is missing but version {versions[i]} exists. The log must be contiguous; restore the missing commit file.")
                {
                    LogFile = missing,
                };
            }
        }
    }

    private async Task<IReadOnlyList<(long Version, DeltaLogEntry Entry)>> ReadCommitsAsync(List<long> versions, CancellationToken cancellationToken)
    {
        var entries = new (long, DeltaLogEntry)[versions.Count];
        await Parallel.ForAsync(0, versions.Count, new ParallelOptions { MaxDegreeOfParallelism = ParallelReads, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var path = LogPath(DeltaPaths.CommitFileName(versions[i]));
            var bytes = await Lake.GetAsync(path, ct).ConfigureAwait(false)
                ?? throw new DeltaLogCorruptException($"Table {Location}: commit file {path} was listed but cannot be read.") { LogFile = path };
            entries[i] = (versions[i], DeltaLogCodec.Decode(bytes, path));
        }).ConfigureAwait(false);
        return entries;
    }

    /// <summary>Commit and classic-checkpoint versions after <paramref name="afterVersion"/>, ascending.</summary>
    private async Task<(List<long> Commits, List<long> Checkpoints)> ListLogAsync(long afterVersion, CancellationToken cancellationToken)
    {
        List<long> commits = [];
        List<long> checkpoints = [];
        for (var block = (afterVersion + 1) / ListingBlock; ; block++)
        {
            var prefix = LogPrefix + block.ToString("D17", CultureInfo.InvariantCulture);
            var blockFull = false;
            await foreach (var item in Lake.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
            {
                if (DeltaPaths.ParseLogFileName(item.Path[LogPrefix.Length..]) is not { } file || file.Version <= afterVersion)
                {
                    continue;
                }

                (file.IsCheckpoint ? checkpoints : commits).Add(file.Version);
                blockFull |= !file.IsCheckpoint && file.Version == ((block + 1) * ListingBlock) - 1;
            }

            if (!blockFull)
            {
                break;
            }
        }

        commits.Sort();
        checkpoints.Sort();
        return (commits, checkpoints);
    }

    internal async Task<long?> ReadLastCheckpointVersionAsync(CancellationToken cancellationToken)
    {
        var path = LogPath(DeltaPaths.LastCheckpointFile);
        var bytes = await Lake.GetAsync(path, cancellationToken).ConfigureAwait(false);
        if (bytes is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(bytes);
            return document.RootElement.GetProperty("version").GetInt64();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            // _last_checkpoint is only a hint: without it the log is listed from the start.
            LogCheckpointUnreadable(logger, Location, -1, e);
            return null;
        }
    }

    private async Task TryWriteCheckpointAsync(DeltaSnapshot snapshot, CancellationToken cancellationToken)
    {
        try
        {
            await WriteCheckpointAsync(snapshot, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The commit has landed; a missing checkpoint only makes later loads read more JSON.
            LogCheckpointFailed(logger, Location, snapshot.Version, e);
        }
    }

    /// <summary>Writes a classic checkpoint of <paramref name="snapshot"/> and points <c>_last_checkpoint</c> at it.</summary>
    public Task WriteCheckpointAsync(DeltaSnapshot snapshot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return DeltaCheckpoints.WriteAsync(this, snapshot, logger, cancellationToken);
    }

    private static readonly Action<ILogger, string, long, int, Exception?> LogRaceLost = LoggerMessage.Define<string, long, int>(
        LogLevel.Debug, new EventId(1, "DeltaCommitRaceLost"), "Table {Table}: version {Version} was taken by another writer (attempt {Attempt}); re-reading the log");

    private static readonly Action<ILogger, string, long, Exception?> LogCheckpointFailedMessage = LoggerMessage.Define<string, long>(
        LogLevel.Warning, new EventId(2, "DeltaCheckpointFailed"), "Table {Table}: writing the checkpoint for version {Version} failed; the commit stands and readers replay more JSON until the next checkpoint");

    private static readonly Action<ILogger, string, long, Exception?> LogCheckpointUnreadableMessage = LoggerMessage.Define<string, long>(
        LogLevel.Warning, new EventId(3, "DeltaCheckpointUnreadable"), "Table {Table}: checkpoint {Version} (or _last_checkpoint when -1) cannot be read; replaying the JSON log instead");

    private static void LogCheckpointFailed(ILogger logger, string table, long version, Exception e) => LogCheckpointFailedMessage(logger, table, version, e);

    private static void LogCheckpointUnreadable(ILogger logger, string table, long version, Exception e) => LogCheckpointUnreadableMessage(logger, table, version, e);
}
