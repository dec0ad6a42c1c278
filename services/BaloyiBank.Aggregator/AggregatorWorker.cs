using BaloyiBank.Contracts.Control;
using BaloyiBank.Lake;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Aggregator;

/// <summary>
/// Wake-ups for the worker. A <see cref="SilverBatchCommitted"/> only says "look at silver now": the worker
/// reads what to fold from the Delta logs, so a lost, late or repeated message changes nothing.
/// </summary>
public sealed class AggregatorSignal : BaloyiBank.Bus.WakeUpSignal;

/// <summary>The MassTransit consumer: every silver commit announcement is a wake-up call.</summary>
public sealed class SilverBatchCommittedConsumer(AggregatorSignal signal) : IConsumer<SilverBatchCommitted>
{
    public Task Consume(ConsumeContext<SilverBatchCommitted> context)
    {
        // The consume span (MassTransit's, continuing the cleansing flush's publish) is what the round links to.
        signal.Wake(System.Diagnostics.Activity.Current?.Context ?? default);
        return Task.CompletedTask;
    }
}

/// <summary>What the worker has done, for the CLI, health and tests.</summary>
public sealed class AggregatorProgress
{
    private GoldRoundResult? _last;

    public long Round { get; private set; }
    public long RowsFolded { get; private set; }
    public long ChangedRows { get; private set; }
    public long Lag { get; private set; }
    public bool Started { get; private set; }
    public string? Failure { get; private set; }

    /// <summary>Silver's live generation root when gold does not fold it (a replay switched silver); null while it does.</summary>
    public string? SilverSwitchedTo { get; private set; }

    /// <summary>The live gold root the worker writes (after a switch: <c>gold/g000N</c>).</summary>
    public string? GoldRoot { get; private set; }

    /// <summary>The silver root gold is being rebuilt from (after silver switched), null while no rebuild runs.</summary>
    public string? RebuildingFrom { get; private set; }

    public GoldRoundResult? LastRound => _last;
    public IReadOnlyDictionary<string, long> Applied { get; private set; } = new Dictionary<string, long>();

    internal void Update(GoldAggregator aggregator, GoldRoundResult? round)
    {
        Started = true;
        Round = aggregator.Round;
        Lag = aggregator.Lag;
        Applied = aggregator.Applied;
        SilverSwitchedTo = aggregator.SilverSwitchedTo?.Root;
        if (round is not null)
        {
            _last = round;
            RowsFolded += round.RowsFolded.Values.Sum();
            ChangedRows += round.Changes.TotalRows;
        }
    }

    internal void Fail(string reason) => Failure = reason;

    /// <summary>A new engine on <paramref name="live"/>: not started until it has restored gold; the previous engine's silver switch is behind it.</summary>
    internal void Following(LiveGold live)
    {
        GoldRoot = live.Root;
        Started = false;
        SilverSwitchedTo = null;
    }

    internal void Rebuilding(string? silverRoot) => RebuildingFrom = silverRoot;
}

/// <summary>
/// The aggregator service: resolves the live gold generation (and the silver it folds), restores gold, catches up from
/// silver's logs on its own, then runs a round on every wake-up (at most one per <see cref="AggregatorOptions.MinRoundInterval"/>)
/// or every <see cref="AggregatorOptions.PollInterval"/>, and announces each committed round as <see cref="GoldCommitted"/>.
/// After each round it looks at both generations: when gold switched it takes the new generation over; when silver
/// switched it rebuilds gold from the new silver into a new gold generation and switches (<see cref="GoldGenerations.RebuildAsync"/>).
/// </summary>
public sealed partial class AggregatorWorker(
    ILakeStore lake,
    IOptions<AggregatorOptions> options,
    AggregatorSignal signal,
    AggregatorProgress progress,
    AggregatorMetrics metrics,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    IServiceProvider services,
    ILogger<AggregatorWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var settings = options.Value;
        var publisher = services.GetService<IPublishEndpoint>();
        try
        {
            // Rounds are announced from inside the round's span, so GoldCommitted carries the round's trace to the sink.
            var retention = services.GetService<IOptions<LakeOptions>>()?.Value.VacuumRetention ?? new LakeOptions().VacuumRetention;
            while (!stoppingToken.IsCancellationRequested)
            {
                // The live gold generation and the silver it folds: the worker writes there until gold or silver switches.
                var live = await GoldGenerations.ResolveAsync(lake, settings, stoppingToken).ConfigureAwait(false);
                progress.Following(live);
                using var aggregator = new GoldAggregator(lake, settings.WithRoots(live.SilverRoot, live.Root), time, logger, metrics, retention)
                {
                    Committed = (round, ct) => PublishAsync(publisher, live.Root, round, ct),
                };
                var redone = await aggregator.StartAsync(stoppingToken).ConfigureAwait(false);
                progress.Update(aggregator, redone);
                await FoldUntilSwitchAsync(aggregator, live, settings, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            progress.Fail(exception.Message);
            LogFailed(logger, exception.Message, exception);
            lifetime.StopApplication();
            throw;
        }
    }

    /// <summary>
    /// Runs rounds on <paramref name="live"/> until the gold layer switched to another generation (a <c>baloyi replay
    /// --layer gold</c>: the worker takes the new one over) or silver did (a replay of silver: gold is rebuilt from the
    /// new silver into a new generation and switched to, the same path as the replay of gold).
    /// </summary>
    private async Task FoldUntilSwitchAsync(GoldAggregator aggregator, LiveGold live, AggregatorOptions settings, CancellationToken stoppingToken)
    {
        var generations = new LakeGenerations(lake);
        var layer = GoldGenerations.LayerOf(settings.GoldRoot);
        while (!stoppingToken.IsCancellationRequested)
        {
            var round = await aggregator.RunRoundAsync(signal.Contexts.Drain(), stoppingToken).ConfigureAwait(false);
            progress.Update(aggregator, round);
            if ((await generations.LiveAsync(layer, stoppingToken).ConfigureAwait(false)).Number != live.Generation)
            {
                LogGoldSwitched(logger, live.Root);
                return;
            }

            if (aggregator.SilverSwitchedTo is { } silver)
            {
                await RebuildAsync(settings, live, silver, stoppingToken).ConfigureAwait(false);
                return;
            }

            await aggregator.VacuumIfDueAsync(stoppingToken).ConfigureAwait(false);
            if (round is null)
            {
                await signal.WaitAsync(settings.PollInterval, stoppingToken).ConfigureAwait(false);
            }

            await Task.Delay(settings.MinRoundInterval, time, stoppingToken).ConfigureAwait(false);
        }
    }

    private async Task RebuildAsync(AggregatorOptions settings, LiveGold live, LakeGeneration silver, CancellationToken stoppingToken)
    {
        progress.Rebuilding(silver.Root);
        LogRebuilding(logger, silver.ToString(), live.Root);
        try
        {
            var rebuilt = await GoldGenerations.RebuildAsync(lake, settings, silver.Root, $"the aggregator follows silver's switch to generation {silver.Number}",
                time: time, logger: logger, cancellationToken: stoppingToken).ConfigureAwait(false);
            LogRebuilt(logger, rebuilt.Built.Root, silver.Root, rebuilt.Round, rebuilt.RowsFolded, (long)rebuilt.Elapsed.TotalMilliseconds);
        }
        catch (LakeGenerationConflictException conflict)
        {
            // Another rebuild (a replay of gold, another aggregator) switched first: take over whatever is live now.
            LogRebuildLost(logger, conflict.Message);
        }
        finally
        {
            progress.Rebuilding(null);
        }
    }

    private async Task PublishAsync(IPublishEndpoint? publisher, string goldRoot, GoldRoundResult? round, CancellationToken cancellationToken)
    {
        if (publisher is null || round is null || round.CommittedTables.Count == 0)
        {
            return;
        }

        // After the commit: a message never names an invisible round; a crash before it loses only the wake-up.
        var business = GoldTables.Business.Select(t => GoldStore.ChangeTablePath(goldRoot, t)).ToHashSet(StringComparer.Ordinal);
        await publisher.Publish(new GoldCommitted
        {
            Tables = [.. round.CommittedTables.Where(business.Contains)],
            Version = round.Round,
            ChangedRows = round.Changes.RowsByTable.ToDictionary(r => GoldStore.ChangeTablePath(goldRoot, GoldTables.Business.First(t => t.Name == r.Key)), r => r.Value),
            CommittedAt = time.GetUtcNow(),
        }, cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "Gold switched away from {Root}: the aggregator takes over the live generation")]
    private static partial void LogGoldSwitched(ILogger logger, string root);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "Silver switched to {Silver}; gold at {Gold} folds the previous generation: rebuilding gold from the new silver into a new generation")]
    private static partial void LogRebuilding(ILogger logger, string silver, string gold);

    [LoggerMessage(EventId = 13, Level = LogLevel.Information, Message = "Gold rebuilt into {Gold} from {Silver} (round {Round}, {Rows} silver rows folded in {Milliseconds} ms) and switched to")]
    private static partial void LogRebuilt(ILogger logger, string gold, string silver, long round, long rows, long milliseconds);

    [LoggerMessage(EventId = 14, Level = LogLevel.Warning, Message = "Gold rebuild not switched: {Reason}. The aggregator takes over the live generation")]
    private static partial void LogRebuildLost(ILogger logger, string reason);

    [LoggerMessage(EventId = 10, Level = LogLevel.Critical, Message = "Aggregator failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string reason, Exception exception);
}
