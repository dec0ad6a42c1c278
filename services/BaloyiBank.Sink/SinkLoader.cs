using System.Diagnostics;
using System.Globalization;
using BaloyiBank.Lake;
using BaloyiBank.Lake.Blob;
using BaloyiBank.ServiceDefaults;
using BaloyiBank.Warehouse;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BaloyiBank.Sink;

/// <summary>What one sink load did: the gold rounds it brought the warehouse from and to, and the warehouse's counts.</summary>
public sealed record SinkLoadResult(long FromRound, long ToRound, WarehouseLoadResult Load)
{
    /// <summary>The gold generation a reconcile brought the warehouse to (a replacing load after a gold switch); null for an ordinary load.</summary>
    public int? Reconciled { get; init; }
}

/// <summary>
/// The sink's engine (no hosting): ensures the warehouse model, then loads the gold rounds after the warehouse's
/// watermark — every business table's changed files in one <see cref="IWarehouse.LoadAsync"/>, which commits the
/// rows and the new watermark (the gold round) together. The watermark lives in the warehouse, so a restarted or
/// replaced sink resumes exactly where the last committed load ended; a repeated load changes 0 rows.
/// Not thread-safe: one loader per warehouse (the worker holds a <see cref="SinkLease"/>). The lease can lapse under a
/// paused loader, so each load also carries the watermark it was built from and the warehouse fences it: a stale
/// loader's load is refused whole (<see cref="WarehouseFencedException"/>) and never regresses the warehouse.
/// </summary>
public sealed partial class SinkLoader : IDisposable
{
    private readonly ILakeStore _lake;
    private readonly IWarehouse _warehouse;
    private readonly SinkOptions _options;
    private readonly string _scratch;
    private readonly BlobLakeStore? _urlLake;
    private readonly LakeGenerations _generations;
    private GoldChangeReader _gold;
    private readonly ILogger _logger;
    private readonly SinkMetrics? _metrics;
    private bool _schemaEnsured;

    public SinkLoader(ILakeStore lake, IWarehouse warehouse, SinkOptions options, ILogger? logger = null, SinkMetrics? metrics = null)
    {
        _lake = lake ?? throw new ArgumentNullException(nameof(lake));
        _warehouse = warehouse ?? throw new ArgumentNullException(nameof(warehouse));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _logger = logger ?? NullLogger.Instance;
        _metrics = metrics;
        var scratch = string.IsNullOrWhiteSpace(options.ScratchFolder)
            ? Path.Combine(Path.GetTempPath(), "baloyi-sink", Guid.NewGuid().ToString("N"))
            : Path.Combine(options.ScratchFolder, Guid.NewGuid().ToString("N"));
        _scratch = scratch;
        _urlLake = warehouse.Engine == WarehouseEngine.Synapse ? SynapseLake(lake) : null;
        _generations = new LakeGenerations(lake);
        _gold = new GoldChangeReader(lake, options, scratch, _urlLake);
    }

    /// <summary>
    /// The live gold generation (one listing of <c>gold/_generations/</c>) and its root; the change reader follows it
    /// (a new generation's tables are read from their start).
    /// </summary>
    public async Task<(int Generation, string Root)> LiveGoldAsync(CancellationToken cancellationToken = default)
    {
        var (live, root) = await _generations.ResolveRootAsync(_options.GoldRoot, cancellationToken).ConfigureAwait(false);
        if (root != _gold.GoldRoot)
        {
            _gold.Dispose();
            _gold = new GoldChangeReader(_lake, _options, _scratch, _urlLake, root);
        }

        return (live.Number, root);
    }

    /// <summary>The gold generation the warehouse was last loaded from (its control row; 0 before any reconcile: the layout from before generations).</summary>
    public async Task<long> LoadedGenerationAsync(CancellationToken cancellationToken = default)
    {
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        return (await _warehouse.ReadWatermarkAsync(_options.Pipeline, WarehouseLoad.SourceGenerationName, cancellationToken).ConfigureAwait(false))?.Value ?? 0;
    }

    /// <summary>Synapse reads gold itself (<c>COPY INTO</c> by https URL with its managed identity): only a blob lake at an https endpoint will do.</summary>
    internal static BlobLakeStore SynapseLake(ILakeStore lake) =>
        lake is BlobLakeStore blob && blob.Location.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
            ? blob
            : throw new InvalidOperationException(SinkLakeValidator.SynapseNeedsHttpsBlobLake(lake is BlobLakeStore ? $"a blob lake at {lake.Location}" : $"the folder lake {lake.Location}"));

    /// <summary>The gold round the warehouse holds (0 before the first load): the lowest of its tables' watermarks.</summary>
    public async Task<long> WatermarkAsync(CancellationToken cancellationToken = default)
    {
        var marks = await WatermarksAsync(cancellationToken).ConfigureAwait(false);
        return marks.Count == 0 ? 0 : marks.Values.Min(m => m ?? 0);
    }

    /// <summary>Gold rounds committed but not yet in the warehouse.</summary>
    public async Task<long> LagAsync(CancellationToken cancellationToken = default)
    {
        var (generation, _) = await LiveGoldAsync(cancellationToken).ConfigureAwait(false);
        var through = await _gold.CompleteRoundAsync(cancellationToken).ConfigureAwait(false);
        // Loaded from another generation: every round of the live one is still to come (the reconcile brings them).
        return generation != await LoadedGenerationAsync(cancellationToken).ConfigureAwait(false)
            ? Math.Max(1, through)
            : Math.Max(0, through - await WatermarkAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// Loads every gold round after the watermark; null when the warehouse already holds gold's latest complete round.
    /// The load expects the watermark read here (the fence): when another loader committed in between, the warehouse
    /// refuses it and changes nothing, and this throws <see cref="WarehouseFencedException"/> (logged as a warning and
    /// counted as outcome <c>fenced</c>); the next call starts from the watermark the other loader left.
    /// </summary>
    public Task<SinkLoadResult?> LoadAsync(CancellationToken cancellationToken = default) => LoadAsync([], cancellationToken);

    /// <summary>
    /// As <see cref="LoadAsync(CancellationToken)"/>; the load's span also links <paramref name="wokenBy"/> (the consume
    /// spans of the <c>GoldCommitted</c> messages that woke the worker).
    /// </summary>
    public async Task<SinkLoadResult?> LoadAsync(IReadOnlyList<ActivityContext> wokenBy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(wokenBy);
        var marks = await WatermarksAsync(cancellationToken).ConfigureAwait(false);
        // Every load moves all tables together, so they hold one watermark; only tables added to the model since the
        // last load start behind. The tables furthest behind load first (a load has one expected watermark).
        var expected = marks.Values.Any(m => m is null) ? null : marks.Values.Min();
        var watermark = expected ?? 0;
        var (generation, goldRoot) = await LiveGoldAsync(cancellationToken).ConfigureAwait(false);
        var through = await _gold.CompleteRoundAsync(cancellationToken).ConfigureAwait(false);
        var loaded = await LoadedGenerationAsync(cancellationToken).ConfigureAwait(false);
        if (loaded != generation)
        {
            // Gold switched generations: its rounds restart, so the warehouse is reconciled to the new gold's whole state.
            return await ReconcileAsync(marks, expected, through, loaded, generation, goldRoot, cancellationToken).ConfigureAwait(false);
        }

        _metrics?.Lag(Math.Max(0, through - watermark));
        if (through <= watermark)
        {
            return null;
        }

        var clock = Stopwatch.StartNew();
        Activity? span = null;
        try
        {
            var changes = await _gold.ReadAsync(watermark, through, cancellationToken).ConfigureAwait(false);
            // Started once gold's commits are read: their recorded spans are its links, and links decide sampling.
            var (goldCommits, enqueued) = _metrics?.LineageWanted == true ? _gold.Lineage() : ([], null);
            span = StartLoadSpan(watermark, through, wokenBy, goldCommits);
            var load = new WarehouseLoad(_options.Pipeline, through,
                [.. changes.Where(c => marks[c.Schema.Name] == expected).Select(c => new TableChanges(SinkModel.For(c.Schema), c.Files))], expected);
            var result = await _warehouse.LoadAsync(load, cancellationToken).ConfigureAwait(false);
            _gold.Advance();
            _metrics?.Loaded(result, clock.Elapsed);
            _metrics?.Visible(enqueued, DateTimeOffset.UtcNow);
            _metrics?.Lag(0);
            span?.SetTag("baloyibank.warehouse.rows_inserted", result.Inserted);
            span?.SetTag("baloyibank.warehouse.rows_updated", result.Updated);
            span?.SetTag("baloyibank.warehouse.rows_deleted", result.Deleted);
            LogLoaded(_logger, watermark, through, result.SourceRows, result.Inserted, result.Updated, clock.ElapsedMilliseconds);
            return new SinkLoadResult(watermark, through, result);
        }
        catch (WarehouseFencedException fenced)
        {
            // The fence decision on the load's span: what this sink expected, what the warehouse held.
            span?.AddEvent(new ActivityEvent("fenced", tags: new ActivityTagsCollection
            {
                ["baloyibank.warehouse.expected_watermark"] = Show(fenced.ExpectedWatermark),
                ["baloyibank.warehouse.found_watermark"] = Show(fenced.FoundWatermark),
                ["db.collection.name"] = fenced.Table,
            }));
            _metrics?.Fenced();
            LogFenced(_logger, watermark, through, fenced.Table, Show(fenced.ExpectedWatermark), Show(fenced.FoundWatermark));
            throw;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            span?.SetStatus(ActivityStatusCode.Error, exception.Message);
            span?.AddException(exception);
            _metrics?.Failed(WarehouseErrors.Classify(exception) == WarehouseErrorKind.Transient ? "transient" : "permanent");
            throw;
        }
        finally
        {
            span?.Dispose();
            _gold.CleanScratch();
        }
    }

    /// <summary>
    /// The warehouse after a gold generation switch: the watermark (rounds) belongs to the old generation, so every
    /// table is replaced by the new generation's current state as of its complete round (every change file from the
    /// start, newest row per key), in one fenced load that also records the generation (<see cref="WarehouseLoad.Replace"/>,
    /// <see cref="WarehouseLoad.SourceGeneration"/>): rows whose keys the new gold lacks are deleted, rows that differ
    /// are updated, new keys inserted. Exactly once: the control row and the watermarks commit together, and a sink
    /// that raced it is fenced; a repeat would change 0 rows.
    /// </summary>
    private async Task<SinkLoadResult> ReconcileAsync(
        Dictionary<string, long?> marks, long? expected, long through, long fromGeneration, int toGeneration, string goldRoot, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var changes = await _gold.ReadAsync(0, through, cancellationToken).ConfigureAwait(false);
            // One expected watermark per load: tables behind the others (added to the model later) go first; the
            // generation is recorded with the load that leaves every table at the new gold's round.
            var group = changes.Where(c => marks[c.Schema.Name] == expected).ToList();
            var last = marks.Values.All(m => m == expected || m == through);
            var load = new WarehouseLoad(_options.Pipeline, through, [.. group.Select(c => new TableChanges(SinkModel.For(c.Schema), c.Files))], expected)
            {
                Replace = true,
                SourceGeneration = last ? toGeneration : null,
            };
            var result = await _warehouse.LoadAsync(load, cancellationToken).ConfigureAwait(false);
            _gold.Advance();
            _metrics?.Loaded(result, clock.Elapsed);
            _metrics?.Lag(0);
            LogReconciled(_logger, fromGeneration, toGeneration, goldRoot, through, result.Inserted, result.Updated, result.Deleted, clock.ElapsedMilliseconds);
            return new SinkLoadResult(expected ?? 0, through, result) { Reconciled = toGeneration };
        }
        catch (WarehouseFencedException fenced)
        {
            _metrics?.Fenced();
            LogFenced(_logger, expected ?? 0, through, fenced.Table, Show(fenced.ExpectedWatermark), Show(fenced.FoundWatermark));
            throw;
        }
        finally
        {
            _gold.CleanScratch();
        }
    }

    /// <summary>
    /// Loads until the warehouse holds gold's latest complete round (for the CLI after a run); returns the loads made.
    /// A fenced load (another loader moved the watermark) is not an error here: the next load starts from the new
    /// watermark; only <see cref="MaxFencedInARow"/> fenced loads in a row give up (another loader keeps winning).
    /// </summary>
    public async Task<IReadOnlyList<SinkLoadResult>> CatchUpAsync(CancellationToken cancellationToken = default)
    {
        List<SinkLoadResult> loads = [];
        var fencedInARow = 0;
        while (true)
        {
            SinkLoadResult? load;
            try
            {
                load = await LoadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (WarehouseFencedException) when (++fencedInARow < MaxFencedInARow)
            {
                continue;
            }

            if (load is null)
            {
                return loads;
            }

            fencedInARow = 0;
            loads.Add(load);
        }
    }

    /// <summary>How many fenced loads in a row <see cref="CatchUpAsync"/> takes before it gives up.</summary>
    public const int MaxFencedInARow = 5;

    /// <summary>
    /// The load's span (<c>sink load</c>): a new root linked to the <c>GoldCommitted</c> consume spans that woke the
    /// worker and to the gold commit spans it loads, sampled first, so the journey sampler records it whenever a loaded
    /// round holds a sampled event; the warehouse's MERGE spans are its children.
    /// </summary>
    private Activity? StartLoadSpan(long fromRound, long toRound, IReadOnlyList<ActivityContext> wokenBy, IReadOnlyList<ActivityContext> goldCommits)
    {
        if (!SinkMetrics.Source.HasListeners())
        {
            return null;
        }

        // A default parent means "the current span": cleared so that the load starts its own trace.
        Activity.Current = null;
        var span = SinkMetrics.Source.StartActivity(ActivityKind.Internal, parentContext: default,
            links: TraceLinks.Choose([wokenBy, goldCommits]), name: "sink load");
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag("db.system.name", WarehouseTelemetry.SystemName(_warehouse.Engine));
            span.SetTag("baloyibank.sink.pipeline", _options.Pipeline);
            span.SetTag("baloyibank.gold.from_round", fromRound);
            span.SetTag("baloyibank.gold.to_round", toRound);
            span.SetTag("baloyibank.links.woken_by", wokenBy.Count);
            span.SetTag("baloyibank.links.gold_commits", goldCommits.Count);
        }

        return span;
    }

    /// <summary>Each warehouse table's watermark (null before its first load).</summary>
    private async Task<Dictionary<string, long?>> WatermarksAsync(CancellationToken cancellationToken)
    {
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        var marks = new Dictionary<string, long?>(StringComparer.Ordinal);
        foreach (var table in SinkModel.Tables)
        {
            marks[table.Name] = (await _warehouse.ReadWatermarkAsync(_options.Pipeline, table.Name, cancellationToken).ConfigureAwait(false))?.Value;
        }

        return marks;
    }

    private static string Show(long? watermark) => watermark?.ToString(CultureInfo.InvariantCulture) ?? "none";

    private async Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        if (_schemaEnsured)
        {
            return;
        }

        await _warehouse.EnsureSchemaAsync(SinkModel.Model, cancellationToken).ConfigureAwait(false);
        _schemaEnsured = true;
    }

    public void Dispose() => _gold.Dispose();

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information,
        Message = "Sink loaded gold rounds {FromRound}..{ToRound} into the warehouse: {SourceRows} changed rows, {Inserted} inserted, {Updated} updated in {ElapsedMs} ms")]
    private static partial void LogLoaded(ILogger logger, long fromRound, long toRound, long sourceRows, long inserted, long updated, long elapsedMs);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Information,
        Message = "Sink reconciled the warehouse from gold generation {FromGeneration} to {ToGeneration} ({GoldRoot}) as of round {Round}: {Inserted} inserted, {Updated} updated, {Deleted} deleted in {ElapsedMs} ms")]
    private static partial void LogReconciled(ILogger logger, long fromGeneration, int toGeneration, string goldRoot, long round, long inserted, long updated, long deleted, long elapsedMs);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning,
        Message = "Sink load of gold rounds {FromRound}..{ToRound} fenced: the warehouse's watermark of {Table} is {Found}, not the {Expected} this sink read; another loader committed since. Nothing was changed; the sink re-reads the watermark and the lease")]
    private static partial void LogFenced(ILogger logger, long fromRound, long toRound, string table, string expected, string found);
}
