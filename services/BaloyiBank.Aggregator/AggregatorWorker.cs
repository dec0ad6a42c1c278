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
}

/// <summary>
/// The aggregator service: restores gold, catches up from silver's logs on its own, then runs a round on every
/// wake-up (at most one per <see cref="AggregatorOptions.MinRoundInterval"/>) or every
/// <see cref="AggregatorOptions.PollInterval"/>, and announces each committed round as <see cref="GoldCommitted"/>.
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
            using var aggregator = new GoldAggregator(lake, settings, time, logger, metrics, retention)
            {
                Committed = (round, ct) => PublishAsync(publisher, round, ct),
            };
            var redone = await aggregator.StartAsync(stoppingToken).ConfigureAwait(false);
            progress.Update(aggregator, redone);
            while (!stoppingToken.IsCancellationRequested)
            {
                var round = await aggregator.RunRoundAsync(signal.Contexts.Drain(), stoppingToken).ConfigureAwait(false);
                progress.Update(aggregator, round);
                await aggregator.VacuumIfDueAsync(stoppingToken).ConfigureAwait(false);
                if (round is null)
                {
                    await signal.WaitAsync(settings.PollInterval, stoppingToken).ConfigureAwait(false);
                }

                await Task.Delay(settings.MinRoundInterval, time, stoppingToken).ConfigureAwait(false);
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

    private async Task PublishAsync(IPublishEndpoint? publisher, GoldRoundResult? round, CancellationToken cancellationToken)
    {
        if (publisher is null || round is null || round.CommittedTables.Count == 0)
        {
            return;
        }

        // After the commit: a message never names an invisible round; a crash before it loses only the wake-up.
        var business = GoldTables.Business.Select(t => GoldStore.ChangeTablePath(options.Value.GoldRoot, t)).ToHashSet(StringComparer.Ordinal);
        await publisher.Publish(new GoldCommitted
        {
            Tables = [.. round.CommittedTables.Where(business.Contains)],
            Version = round.Round,
            ChangedRows = round.Changes.RowsByTable.ToDictionary(r => GoldStore.ChangeTablePath(options.Value.GoldRoot, GoldTables.Business.First(t => t.Name == r.Key)), r => r.Value),
            CommittedAt = time.GetUtcNow(),
        }, cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Critical, Message = "Aggregator failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string reason, Exception exception);
}
