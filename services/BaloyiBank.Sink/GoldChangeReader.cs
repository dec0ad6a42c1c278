using System.Diagnostics;
using BaloyiBank.Delta;
using BaloyiBank.Lake;
using BaloyiBank.Lake.Blob;
using BaloyiBank.ServiceDefaults;

namespace BaloyiBank.Sink;

/// <summary>One gold table's changes for a load: its changed data files (local paths, or Blob URLs for Synapse), and how far its log was read.</summary>
internal sealed record GoldTableChanges(TableSchema Schema, IReadOnlyList<string> Files, long ReadThroughVersion);

/// <summary>
/// Reads gold's changes between two rounds. A gold round commits every table with <c>txn(appId, round)</c>; the
/// commits of rounds after the watermark carry the changed rows as add actions with <c>dataChange = true</c>.
/// Compaction commits (<c>dataChange = false</c>) are skipped. Remembers how far each table's log was read, so a
/// long-running sink reads only new commits (from the log's start once per process). With <paramref name="urlLake"/>
/// (Synapse) the files are not downloaded: the warehouse gets each one's Blob URL and reads it in place.
/// </summary>
/// <param name="goldRoot">The gold generation's root to read (the live one the loader resolved); <see cref="SinkOptions.GoldRoot"/> when null.</param>
internal sealed class GoldChangeReader(ILakeStore lake, SinkOptions options, string scratchFolder, BlobLakeStore? urlLake = null, string? goldRoot = null) : IDisposable
{
    private readonly Dictionary<string, DeltaTable> _tables = GoldTables.Business.ToDictionary(
        t => t.Name, t => new DeltaTable(lake, GoldTables.ChangeTablePath(goldRoot ?? options.GoldRoot, t)), StringComparer.Ordinal);

    /// <summary>The gold root this reader reads.</summary>
    public string GoldRoot { get; } = goldRoot ?? options.GoldRoot;

    // Per table: the Delta version read through, the round it holds there, and the data adds seen per round since.
    private readonly Dictionary<string, (long Version, long Round)> _cursors = new(StringComparer.Ordinal);

    /// <summary>The round every business table has committed (a crash mid-round leaves some a round behind); 0 when gold is empty or missing.</summary>
    public async Task<long> CompleteRoundAsync(CancellationToken cancellationToken)
    {
        long round = long.MaxValue;
        foreach (var (_, table) in _tables)
        {
            var snapshot = await table.TryLoadAsync(cancellationToken).ConfigureAwait(false);
            round = Math.Min(round, snapshot?.TransactionVersion(options.GoldAppId) ?? 0);
        }

        return round == long.MaxValue ? 0 : round;
    }

    /// <summary>Each business table's changed files of the rounds after <paramref name="afterRound"/> through <paramref name="throughRound"/>.</summary>
    public async Task<IReadOnlyList<GoldTableChanges>> ReadAsync(long afterRound, long throughRound, CancellationToken cancellationToken)
    {
        _traceparents.Clear();
        _enqueuedByRound.Clear();
        List<GoldTableChanges> changes = [];
        foreach (var schema in GoldTables.Business)
        {
            var table = _tables[schema.Name];
            var snapshot = await table.LoadAsync(cancellationToken).ConfigureAwait(false);
            var (from, round) = _cursors.TryGetValue(schema.Name, out var cursor) && cursor.Round <= afterRound ? cursor : (-1L, 0L);
            var readThrough = from;
            List<AddFile> adds = [];
            foreach (var commit in await table.ReadChangesAsync(from, snapshot.Version, cancellationToken).ConfigureAwait(false))
            {
                var txn = commit.Transactions.FirstOrDefault(t => t.AppId == options.GoldAppId);
                var commitRound = txn?.Version ?? round;
                if (commitRound > throughRound)
                {
                    break;
                }

                round = commitRound;
                readThrough = commit.Version;
                if (txn is not null && commitRound > afterRound)
                {
                    adds.AddRange(commit.Adds.Where(a => a.DataChange));
                    Remember(commitRound, commit.CommitInfo?.Lineage);
                }
            }

            adds = StillLive(snapshot, adds, afterRound);
            IReadOnlyList<string> files;
            if (urlLake is null)
            {
                var readSet = await table.GetReadSetAsync(schema, readThrough, adds, Path.Combine(scratchFolder, schema.Name), cancellationToken).ConfigureAwait(false);
                files = [.. readSet.Files.Select(f => f.LocalPath)];
            }
            else
            {
                files = FileUrls(urlLake, table, adds);
            }

            changes.Add(new GoldTableChanges(schema, files, readThrough));
            _pending[schema.Name] = (readThrough, round);
        }

        return changes;
    }

    /// <summary>
    /// The changed files, with any that compaction has since removed (and vacuum may have deleted) replaced by the live
    /// files that can hold rows of rounds after <paramref name="afterRound"/> (by their <c>gold_version</c> statistics).
    /// Loading such a file also brings rows the warehouse already has (its MERGE is only-if-newer on
    /// <c>gold_version</c>, so they change nothing) and perhaps rows of rounds after this load (a later load finds them
    /// equal): what a sink far behind, or a new warehouse, needs after the retention has deleted the original files.
    /// </summary>
    internal static List<AddFile> StillLive(DeltaSnapshot snapshot, List<AddFile> adds, long afterRound)
    {
        if (adds.All(a => snapshot.Files.ContainsKey(a.Path)))
        {
            return adds;
        }

        var live = adds.Where(a => snapshot.Files.ContainsKey(a.Path)).ToDictionary(a => a.Path, StringComparer.Ordinal);
        foreach (var file in snapshot.Files.Values)
        {
            if (file.Statistics is not { } stats || !stats.MaxValues.TryGetValue(GoldTables.VersionColumn, out var max)
                || max.ValueKind != System.Text.Json.JsonValueKind.Number || max.GetInt64() > afterRound)
            {
                live.TryAdd(file.Path, file);
            }
        }

        return [.. live.Values.OrderBy(a => a.Path, StringComparer.Ordinal)];
    }

    private readonly Dictionary<string, (long Version, long Round)> _pending = new(StringComparer.Ordinal);
    private readonly List<string> _traceparents = [];
    private readonly Dictionary<long, EnqueueTimes> _enqueuedByRound = [];

    /// <summary>
    /// What the gold commits of the last <see cref="ReadAsync"/> recorded: their commit spans' traceparents (the load
    /// span links them) and the enqueue times of the events behind each round (every table of a round carries the same,
    /// so one per round), for the warehouse stage's latency.
    /// </summary>
    public (IReadOnlyList<ActivityContext> Contexts, EnqueueTimes? Enqueued) Lineage()
    {
        EnqueueTimes? enqueued = null;
        foreach (var times in _enqueuedByRound.Values)
        {
            (enqueued ??= new EnqueueTimes()).Merge(times);
        }

        return ([.. TraceLinks.Parse(_traceparents)], enqueued);
    }

    private void Remember(long round, CommitLineage? lineage)
    {
        if (lineage is null)
        {
            return;
        }

        _traceparents.AddRange(lineage.TraceParents);
        if (lineage.Enqueued is { } enqueued)
        {
            _enqueuedByRound.TryAdd(round, enqueued);
        }
    }

    /// <summary>The Blob URL of each changed file, ordered by path as a read set is (what Synapse <c>COPY INTO</c> reads).</summary>
    internal static IReadOnlyList<string> FileUrls(BlobLakeStore lake, DeltaTable table, IEnumerable<AddFile> adds) =>
        [.. adds.OrderBy(a => a.Path, StringComparer.Ordinal).Select(a => lake.ObjectUri(table.LakePathOf(a.DataPath)).AbsoluteUri)];

    /// <summary>After a committed load: later reads start after what this one read.</summary>
    public void Advance()
    {
        foreach (var (table, cursor) in _pending)
        {
            _cursors[table] = cursor;
        }

        _pending.Clear();
    }

    /// <summary>Deletes downloaded copies (never the lake's own files on a folder lake).</summary>
    public void CleanScratch()
    {
        try
        {
            if (Directory.Exists(scratchFolder))
            {
                Directory.Delete(scratchFolder, recursive: true);
            }
        }
        catch (IOException)
        {
            // A leftover scratch file costs disk only; the next load overwrites or re-downloads.
        }
    }

    public void Dispose()
    {
        foreach (var table in _tables.Values)
        {
            table.Dispose();
        }
    }
}
