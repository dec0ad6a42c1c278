using System.Diagnostics;
using BaloyiBank.Delta;
using BaloyiBank.Lake;
using BaloyiBank.ServiceDefaults;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BaloyiBank.Aggregator;

/// <summary>What one gold round did.</summary>
/// <param name="Round">The round's gold version (the <c>gold_version</c> of every row it wrote).</param>
/// <param name="SilverVersions">The silver table versions applied after the round.</param>
/// <param name="RowsFolded">Silver rows folded in this round, per silver table.</param>
/// <param name="Changes">The rows written.</param>
/// <param name="CommittedTables">Gold tables committed (lake paths).</param>
public sealed record GoldRoundResult(
    long Round,
    IReadOnlyDictionary<string, long> SilverVersions,
    IReadOnlyDictionary<string, long> RowsFolded,
    GoldChangeSet Changes,
    IReadOnlyList<string> CommittedTables,
    TimeSpan Duration)
{
    /// <summary>The refresh of the current-state tables after this round (null when not due yet).</summary>
    public GoldRefreshResult? Refresh { get; init; }
}

/// <summary>
/// The aggregator's engine, without hosting: restores the fold from gold, then runs rounds that read the silver
/// commits gold has not applied, fold them and commit every gold table with the round's txn. One writer per gold
/// root. Used by <see cref="AggregatorWorker"/>, the benchmark and the tests.
/// </summary>
/// <remarks>
/// <para><b>Exactly once.</b> Every table gets a commit in every round (empty when nothing changed), carrying
/// <c>txn(appId, round)</c> and the silver versions the round reached. A crash part-way through a round leaves
/// some tables at round R and others at R − 1: on start the fold is restored as of R − 1 (row images with
/// gold_version R are ignored) and round R is redone up to the silver versions it recorded; tables that hold R
/// skip it (txn), the others get the same rows. Files of a commit that never landed are orphans nobody reads.</para>
/// </remarks>
public sealed partial class GoldAggregator : IDisposable
{
    private readonly AggregatorOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly AggregatorMetrics? _metrics;
    private readonly GoldStore _gold;
    private readonly SilverSource _silver;
    private readonly SilverLineage _lineage;
    private readonly LakeGenerations _generations;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private GoldFold? _fold;
    private Dictionary<string, long> _applied = new(StringComparer.Ordinal);

    // Slices of the current-state tables changed since their last refresh (a null set: every slice).
    private readonly Dictionary<string, HashSet<string>?> _stale = new(StringComparer.Ordinal);
    private long _lastRefreshAt = long.MinValue;
    private readonly TimeSpan? _vacuumRetention;
    private long _lastVacuumAt = long.MinValue;

    /// <param name="vacuumRetention"><c>Lake:VacuumRetention</c>; null: <see cref="VacuumIfDueAsync"/> does nothing and checkpoints keep every tombstone.</param>
    public GoldAggregator(ILakeStore lake, AggregatorOptions options, TimeProvider? time = null, ILogger? logger = null, AggregatorMetrics? metrics = null, TimeSpan? vacuumRetention = null)
    {
        ArgumentNullException.ThrowIfNull(lake);
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _metrics = metrics;
        _vacuumRetention = vacuumRetention;
        _gold = new GoldStore(lake, options.GoldRoot, options.AppId, _time, vacuumRetention);
        _silver = new SilverSource(lake, options.SilverRoot);
        _lineage = new SilverLineage(lake);
        _generations = new LakeGenerations(lake);
    }

    /// <summary>
    /// Runs after each round's gold commits, inside the round's span (so a <c>GoldCommitted</c> published here carries
    /// the round's trace), before compaction; the worker announces rounds with it.
    /// </summary>
    public Func<GoldRoundResult, CancellationToken, Task>? Committed { get; init; }

    /// <summary>Transaction batches up to this many rows keep every date's (bucket, account) pairs, bigger ones count new dates' without keeping them (tests lower it).</summary>
    internal long RowByRowLimit { get; init; } = SilverSource.RowByRowLimit;

    /// <summary>
    /// Silver's live generation when it is not the one this gold folds (<see cref="AggregatorOptions.SilverRoot"/>): a
    /// replay switched silver, and this gold no longer follows new events; the worker then rebuilds gold from that
    /// generation into a new gold generation (<see cref="GoldGenerations.RebuildAsync"/>).
    /// </summary>
    public LakeGeneration? SilverSwitchedTo { get; private set; }

    /// <summary>The last round committed to every gold table.</summary>
    public long Round { get; private set; }

    /// <summary>The silver versions gold has applied (per silver table path; -1 for none).</summary>
    public IReadOnlyDictionary<string, long> Applied => _applied;

    /// <summary>The in-memory state (after <see cref="StartAsync"/>).</summary>
    public GoldFold Fold => _fold ?? throw new InvalidOperationException("Call StartAsync first.");

    public GoldStore Gold => _gold;

    /// <summary>Silver commits not yet applied, summed over the silver tables, as of the last look at silver.</summary>
    public long Lag { get; private set; }

    /// <summary>
    /// Opens (creates) the gold tables, restores the fold as of the last round every table holds, and finishes a
    /// round a crash interrupted. Returns the round a redo committed, if any.
    /// </summary>
    public async Task<GoldRoundResult?> StartAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _gold.OpenAsync(cancellationToken).ConfigureAwait(false);
            var rounds = _gold.Rounds();
            var complete = rounds.Values.Min();
            var started = rounds.Values.Max();
            if (started > complete + 1)
            {
                throw new InvalidOperationException(
                    $"Gold tables under '{_options.GoldRoot}' are more than one round apart (rounds {string.Join(", ", rounds.Select(r => $"{r.Key}={r.Value}"))}); " +
                    "only one writer may run per gold root. Rebuild gold into a new GoldRoot.");
            }

            await RestoreAsync(complete, cancellationToken).ConfigureAwait(false);
            Round = complete;
            LogRestored(_logger, complete, Fold.AccountCount, Fold.DailyBucketCount, Fold.LoanCount);
            GoldRoundResult? redo = null;
            if (started > complete)
            {
                // Redo the interrupted round exactly: the same silver range gives the same rows.
                var target = _gold.ProgressOf(started, _silver.Paths);
                LogRedo(_logger, started);
                redo = await RunRoundCoreAsync(target, cancellationToken, refreshDue: false).ConfigureAwait(false);

                // The tables the crashed attempt had committed hold its rows (and its updated_at): read the fold back from
                // gold as the round now stands, so the current-state tables are written from exactly what the change tables hold.
                await RestoreAsync(started, cancellationToken).ConfigureAwait(false);
            }

            // A current-state table behind the rounds (a crash, or a refresh not due yet when the process stopped): which
            // of its slices changed since is not known, so it is rewritten whole, now, before anyone reads it again.
            foreach (var (table, round) in _gold.CurrentRounds())
            {
                if (round < Round)
                {
                    _stale[table] = null;
                }
            }

            if (_stale.Count > 0)
            {
                var refresh = await RefreshAsync(cancellationToken).ConfigureAwait(false);
                redo = redo is null ? null : redo with { Refresh = refresh };
            }

            return redo;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Folds every silver commit not yet applied and commits a round; null when silver has nothing new.</summary>
    public Task<GoldRoundResult?> RunRoundAsync(CancellationToken cancellationToken = default) => RunRoundAsync([], cancellationToken);

    /// <summary>
    /// As <see cref="RunRoundAsync(CancellationToken)"/>; the round's span also links <paramref name="wokenBy"/> (the
    /// consume spans of the <c>SilverBatchCommitted</c> messages that woke the worker).
    /// </summary>
    public async Task<GoldRoundResult?> RunRoundAsync(IReadOnlyList<ActivityContext> wokenBy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(wokenBy);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _ = Fold;
            await CheckSilverGenerationAsync(cancellationToken).ConfigureAwait(false);
            var latest = await _silver.LatestVersionsAsync(cancellationToken).ConfigureAwait(false);
            Lag = latest.Sum(l => Math.Max(0, l.Value - _applied[l.Key]));
            _metrics?.Lag(Lag);
            if (Lag == 0)
            {
                // Quiet silver: a refresh deferred by RefreshInterval still happens once it is due.
                if (_stale.Count > 0 && RefreshDue())
                {
                    await RefreshAsync(cancellationToken).ConfigureAwait(false);
                }

                return null;
            }

            var result = await RunRoundCoreAsync(latest, cancellationToken, wokenBy).ConfigureAwait(false);
            Lag = 0;
            _metrics?.Lag(0);
            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Runs rounds until silver has nothing new; returns the rounds committed.</summary>
    public async Task<IReadOnlyList<GoldRoundResult>> CatchUpAsync(CancellationToken cancellationToken = default)
    {
        List<GoldRoundResult> rounds = [];
        while (await RunRoundAsync(cancellationToken).ConfigureAwait(false) is { } round)
        {
            rounds.Add(round);
        }

        return rounds;
    }

    /// <summary>The fold and the applied silver versions as of <paramref name="round"/>, read back from gold (and the customers from silver).</summary>
    private async Task RestoreAsync(long round, CancellationToken cancellationToken)
    {
        _applied = round == 0
            ? _silver.Paths.ToDictionary(p => p, _ => -1L, StringComparer.Ordinal)
            : new Dictionary<string, long>(_gold.ProgressOf(round, _silver.Paths), StringComparer.Ordinal);
        var customers = await _silver.ReadCustomersAsync(_applied[_silver.PathOf(SilverTables.Customers)], cancellationToken).ConfigureAwait(false);
        // The (bucket, account) memory behind distinct_accounts is restored per event date, from silver, when a
        // round first folds transactions of that date row by row (RunRoundCoreAsync).
        _fold = await _gold.LoadFoldAsync(round, customers, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One listing: is the silver generation gold folds still the live one?</summary>
    private async Task CheckSilverGenerationAsync(CancellationToken cancellationToken)
    {
        var folded = _options.SilverRoot.TrimEnd('/');
        var layer = GenerationSuffix().Replace(folded, "");
        var live = await _generations.LiveAsync(layer, cancellationToken).ConfigureAwait(false);
        var switched = live.Root == folded ? null : live;
        if (switched is not null && switched != SilverSwitchedTo)
        {
            LogSilverSwitched(_logger, switched.ToString(), folded, switched.Root);
        }

        SilverSwitchedTo = switched;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"/g\d{4}$")]
    private static partial System.Text.RegularExpressions.Regex GenerationSuffix();

    private bool RefreshDue() =>
        _options.RefreshInterval <= TimeSpan.Zero || _lastRefreshAt == long.MinValue || _time.GetElapsedTime(_lastRefreshAt) >= _options.RefreshInterval;

    /// <summary>Brings the current-state tables to the fold's round (the slices changed since their last refresh).</summary>
    private async Task<GoldRefreshResult> RefreshAsync(CancellationToken cancellationToken)
    {
        var refresh = await _gold.RefreshAsync(Fold, Round, _stale, cancellationToken).ConfigureAwait(false);
        _stale.Clear();
        _lastRefreshAt = _time.GetTimestamp();
        _metrics?.Refreshed(refresh);
        LogRefreshed(_logger, Round, refresh.TotalRows, refresh.FilesReplaced.Values.Sum(), (long)refresh.Duration.TotalMilliseconds);
        return refresh;
    }

    private async Task<GoldRoundResult> RunRoundCoreAsync(IReadOnlyDictionary<string, long> target, CancellationToken cancellationToken, IReadOnlyList<ActivityContext>? wokenBy = null, bool refreshDue = true)
    {
        var clock = Stopwatch.StartNew();
        var fold = Fold;
        var round = Round + 1;
        // Before the span starts: its links (the silver commits it folds) decide whether the journey sampler records it.
        var lineage = _metrics?.LineageWanted == true
            ? await _lineage.ReadAsync(_applied, target, cancellationToken).ConfigureAwait(false)
            : SilverLineageResult.None;
        using var span = StartRoundSpan(round, wokenBy ?? [], lineage.Contexts);
        Dictionary<string, long> folded = new(StringComparer.Ordinal);
        // Reference tables first only for tidiness: the fold does not depend on the order.
        foreach (var schema in SilverSource.Tables)
        {
            var path = _silver.PathOf(schema);
            var from = _applied[path];
            var to = target[path];
            if (to <= from)
            {
                continue;
            }

            var readSet = await _silver.ReadSetAsync(schema, from, to, cancellationToken).ConfigureAwait(false);
            if (schema == SilverTables.Transactions)
            {
                // Dates folded before whose (bucket, account) pairs are not in memory (restored from gold or counted by
                // a bulk fold): restore them from silver as applied so far, before this batch adds to them.
                var dates = fold.DatesNeedingPairs(SilverSource.EventDates(readSet, fold));
                await _silver.RestoreDailyAccountsAsync(fold, dates, from, cancellationToken).ConfigureAwait(false);
            }

            var rows = await SilverSource.FoldAsync(readSet, fold, RowByRowLimit, cancellationToken).ConfigureAwait(false);
            folded[path] = rows;
            _metrics?.RowsFolded(path, rows);
        }

        var changes = fold.TakeChanges(round, _time.GetUtcNow());
        IReadOnlyList<string> committed;
        // The gold commits carry the enqueue times on, for the warehouse stage's latency (GoldStore builds the commits).
        using (CommitLineage.Use(lineage.Enqueued is { } enqueued ? new CommitLineage { Enqueued = enqueued } : null))
        {
            committed = await _gold.CommitRoundAsync(changes, target, cancellationToken).ConfigureAwait(false);
        }

        GoldStore.AddSlices(changes, _stale);

        Round = round;
        _applied = new Dictionary<string, long>(target, StringComparer.Ordinal);
        if (fold.AsOfDate is { } newest && fold.ForgetPairsBefore(newest.AddDays(-_options.PairsKeptDays)) is > 0 and var forgotten)
        {
            LogPairsForgotten(_logger, forgotten, newest.AddDays(-_options.PairsKeptDays), fold.DailyAccountCount);
        }

        _metrics?.Committed(changes);
        _metrics?.Round(clock.Elapsed, folded.Values.Sum(), lineage.Enqueued, _time.GetUtcNow());
        LogRound(_logger, round, folded.Values.Sum(), changes.TotalRows, clock.ElapsedMilliseconds);
        span?.SetTag("baloyibank.silver.rows_folded", folded.Values.Sum());
        span?.SetTag("baloyibank.gold.changed_rows", changes.TotalRows);
        var result = new GoldRoundResult(round, _applied, folded, changes, committed, clock.Elapsed);
        if (Committed is { } announce)
        {
            await announce(result, cancellationToken).ConfigureAwait(false);
        }

        var compacted = await _gold.CompactAsync(round, _options.CompactionFileThreshold, cancellationToken).ConfigureAwait(false);
        foreach (var table in compacted)
        {
            LogCompacted(_logger, table, round);
        }

        // The fold is exactly as of this round now: the moment its current rows can be written.
        var refresh = refreshDue && RefreshDue() ? await RefreshAsync(cancellationToken).ConfigureAwait(false) : null;
        return result with { Refresh = refresh };
    }

    /// <summary>
    /// Vacuums the gold tables when <see cref="AggregatorOptions.VacuumInterval"/> has passed since the last time (and a
    /// retention was given); call between rounds. Returns the number of files deleted.
    /// </summary>
    public async Task<int> VacuumIfDueAsync(CancellationToken cancellationToken)
    {
        if (_vacuumRetention is not { } retention || (_lastVacuumAt != long.MinValue && _time.GetElapsedTime(_lastVacuumAt) < _options.VacuumInterval))
        {
            return 0;
        }

        _lastVacuumAt = _time.GetTimestamp();
        IReadOnlyList<string> deleted;
        try
        {
            deleted = await _gold.VacuumAsync(retention, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Maintenance only: rounds go on, and the next interval tries again.
            LogVacuumFailed(_logger, e.Message, e);
            return 0;
        }

        if (deleted.Count > 0)
        {
            LogVacuumed(_logger, deleted.Count, retention);
        }

        return deleted.Count;
    }

    /// <summary>
    /// The round's span: no parent (a round folds many flushes), links to the consume spans that woke it and to the
    /// silver commit spans it folds, sampled ones first (<see cref="TraceLinks.Choose"/>), so the journey sampler
    /// records it whenever a folded flush holds a sampled event.
    /// </summary>
    private static Activity? StartRoundSpan(long round, IReadOnlyList<ActivityContext> wokenBy, IReadOnlyList<ActivityContext> silverCommits)
    {
        if (!AggregatorMetrics.Source.HasListeners())
        {
            return null;
        }

        var links = TraceLinks.Choose([wokenBy, silverCommits]);
        // A new root even when a caller's span is current (a default parent means "the current one"): the round's story is its links.
        Activity.Current = null;
        var span = AggregatorMetrics.Source.StartActivity(ActivityKind.Internal, parentContext: default, links: links, name: "gold round");
        span?.SetTag("baloyibank.gold.round", round);
        span?.SetTag("baloyibank.links.woken_by", wokenBy.Count);
        span?.SetTag("baloyibank.links.silver_commits", silverCommits.Count);
        return span;
    }

    public void Dispose()
    {
        _gold.Dispose();
        _silver.Dispose();
        _lineage.Dispose();
        _gate.Dispose();
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Gold restored as of round {Round}: {Accounts} accounts, {Buckets} daily buckets, {Loans} loans")]
    private static partial void LogRestored(ILogger logger, long round, int accounts, int buckets, int loans);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Gold round {Round} was interrupted part-way; redoing it up to the silver versions it recorded")]
    private static partial void LogRedo(ILogger logger, long round);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "Gold round {Round}: {Rows} silver rows folded, {Changed} gold rows changed in {Milliseconds} ms")]
    private static partial void LogRound(ILogger logger, long round, long rows, long changed, long milliseconds);

    [LoggerMessage(EventId = 5, Level = LogLevel.Debug, Message = "Dropped the (bucket, account) pairs of {Dates} event dates before {Cutoff}; {Pairs} pairs stay in memory")]
    private static partial void LogPairsForgotten(ILogger logger, int dates, DateOnly cutoff, int pairs);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "Silver switched to {Live}, but this gold folds '{Folded}': gold follows new events again once it is rebuilt from {LiveRoot} (the aggregator worker does that, as does baloyi replay --layer gold)")]
    private static partial void LogSilverSwitched(ILogger logger, string live, string folded, string liveRoot);

    [LoggerMessage(EventId = 6, Level = LogLevel.Debug, Message = "Gold current-state tables refreshed to round {Round}: {Rows} rows written, {Files} files replaced in {Milliseconds} ms")]
    private static partial void LogRefreshed(ILogger logger, long round, long rows, int files, long milliseconds);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Gold table {Table} compacted to its current rows after round {Round}")]
    private static partial void LogCompacted(ILogger logger, string table, long round);

    [LoggerMessage(EventId = 8, Level = LogLevel.Information, Message = "Gold vacuum deleted {Files} data files removed more than {Retention} ago")]
    private static partial void LogVacuumed(ILogger logger, int files, TimeSpan retention);

    [LoggerMessage(EventId = 9, Level = LogLevel.Warning, Message = "Gold vacuum failed ({Reason}); the aggregator goes on and tries again next interval")]
    private static partial void LogVacuumFailed(ILogger logger, string reason, Exception exception);
}
