using System.Diagnostics;
using BaloyiBank.Lake;
using BaloyiBank.Lake.Blob;
using BaloyiBank.Warehouse;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BaloyiBank.Sink;

/// <summary>What one sink load did: the gold rounds it brought the warehouse from and to, and the warehouse's counts.</summary>
public sealed record SinkLoadResult(long FromRound, long ToRound, WarehouseLoadResult Load);

/// <summary>
/// The sink's engine (no hosting): ensures the warehouse model, then loads the gold rounds after the warehouse's
/// watermark — every business table's changed files in one <see cref="IWarehouse.LoadAsync"/>, which commits the
/// rows and the new watermark (the gold round) together. The watermark lives in the warehouse, so a restarted or
/// replaced sink resumes exactly where the last committed load ended; a repeated load changes 0 rows.
/// Not thread-safe: one loader per warehouse (the worker holds a <see cref="SinkLease"/>).
/// </summary>
public sealed partial class SinkLoader : IDisposable
{
    private readonly IWarehouse _warehouse;
    private readonly SinkOptions _options;
    private readonly GoldChangeReader _gold;
    private readonly ILogger _logger;
    private readonly SinkMetrics? _metrics;
    private bool _schemaEnsured;

    public SinkLoader(ILakeStore lake, IWarehouse warehouse, SinkOptions options, ILogger? logger = null, SinkMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(lake);
        _warehouse = warehouse ?? throw new ArgumentNullException(nameof(warehouse));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _logger = logger ?? NullLogger.Instance;
        _metrics = metrics;
        var scratch = string.IsNullOrWhiteSpace(options.ScratchFolder)
            ? Path.Combine(Path.GetTempPath(), "baloyi-sink", Guid.NewGuid().ToString("N"))
            : Path.Combine(options.ScratchFolder, Guid.NewGuid().ToString("N"));
        _gold = new GoldChangeReader(lake, options, scratch, warehouse.Engine == WarehouseEngine.Synapse ? SynapseLake(lake) : null);
    }

    /// <summary>Synapse reads gold itself (<c>COPY INTO</c> by https URL with its managed identity): only a blob lake at an https endpoint will do.</summary>
    internal static BlobLakeStore SynapseLake(ILakeStore lake) =>
        lake is BlobLakeStore blob && blob.Location.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
            ? blob
            : throw new InvalidOperationException(SinkLakeValidator.SynapseNeedsHttpsBlobLake(lake is BlobLakeStore ? $"a blob lake at {lake.Location}" : $"the folder lake {lake.Location}"));

    /// <summary>The gold round the warehouse holds (0 before the first load).</summary>
    public async Task<long> WatermarkAsync(CancellationToken cancellationToken = default)
    {
        await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        long? round = null;
        foreach (var table in SinkModel.Tables)
        {
            var mark = await _warehouse.ReadWatermarkAsync(_options.Pipeline, table.Name, cancellationToken).ConfigureAwait(false);
            round = Math.Min(round ?? long.MaxValue, mark?.Value ?? 0);
        }

        return round ?? 0;
    }

    /// <summary>Gold rounds committed but not yet in the warehouse.</summary>
    public async Task<long> LagAsync(CancellationToken cancellationToken = default) =>
        Math.Max(0, await _gold.CompleteRoundAsync(cancellationToken).ConfigureAwait(false) - await WatermarkAsync(cancellationToken).ConfigureAwait(false));

    /// <summary>Loads every gold round after the watermark; null when the warehouse already holds gold's latest complete round.</summary>
    public async Task<SinkLoadResult?> LoadAsync(CancellationToken cancellationToken = default)
    {
        var watermark = await WatermarkAsync(cancellationToken).ConfigureAwait(false);
        var through = await _gold.CompleteRoundAsync(cancellationToken).ConfigureAwait(false);
        _metrics?.Lag(Math.Max(0, through - watermark));
        if (through <= watermark)
        {
            return null;
        }

        var clock = Stopwatch.StartNew();
        try
        {
            var changes = await _gold.ReadAsync(watermark, through, cancellationToken).ConfigureAwait(false);
            var load = new WarehouseLoad(_options.Pipeline, through,
                [.. changes.Select(c => new TableChanges(SinkModel.For(c.Schema), c.Files))]);
            var result = await _warehouse.LoadAsync(load, cancellationToken).ConfigureAwait(false);
            _gold.Advance();
            _metrics?.Loaded(result, clock.Elapsed);
            _metrics?.Lag(0);
            LogLoaded(_logger, watermark, through, result.SourceRows, result.Inserted, result.Updated, clock.ElapsedMilliseconds);
            return new SinkLoadResult(watermark, through, result);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            _metrics?.Failed(WarehouseErrors.Classify(exception) == WarehouseErrorKind.Transient ? "transient" : "permanent");
            throw;
        }
        finally
        {
            _gold.CleanScratch();
        }
    }

    /// <summary>Loads until the warehouse holds gold's latest complete round (for the CLI after a run); returns the loads made.</summary>
    public async Task<IReadOnlyList<SinkLoadResult>> CatchUpAsync(CancellationToken cancellationToken = default)
    {
        List<SinkLoadResult> loads = [];
        while (await LoadAsync(cancellationToken).ConfigureAwait(false) is { } load)
        {
            loads.Add(load);
        }

        return loads;
    }

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
}
