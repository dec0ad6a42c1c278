using BaloyiBank.EventLog;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Generator;

/// <summary>
/// Produces the synthetic bank onto the event log (see <see cref="StreamProduction"/>), resuming
/// exactly where the log ends, and stops the host once a limit is reached and acknowledged.
/// </summary>
public sealed class GeneratorWorker(
    IEventLog eventLog,
    IOptions<GeneratorOptions> options,
    GeneratorProgress progress,
    GeneratorTelemetry telemetry,
    TimeProvider timeProvider,
    IHostApplicationLifetime lifetime,
    ILogger<GeneratorWorker> logger) : BackgroundService
{
    private readonly GeneratorOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Let the host finish starting before the first (possibly long) catch-up.
        await Task.Yield();
        var reachedLimit = false;
        string? failure = null;
        try
        {
            var settings = StreamSettings.From(_options);
            var resume = await StreamResume.ReadAsync(eventLog, settings, stoppingToken);
            logger.LogInformation(
                "Generator resuming event log '{Log}' at sequence {Sequence} (seed {Seed}, start {Start:O}, fingerprint {Fingerprint})",
                eventLog.Name, resume.NextSequence, settings.Seed, settings.Start, settings.Fingerprint());
            using var production = new StreamProduction(eventLog, _options, settings, resume, progress, telemetry, timeProvider);
            reachedLimit = await production.ProduceAsync(stoppingToken);
            logger.LogInformation(
                "Generator stopped at sequence {Sequence}: {Appended} records appended ({CatchUp} catch-up), limit reached: {ReachedLimit}",
                progress.NextSequence, progress.Appended, progress.CatchUp, reachedLimit);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception exception)
        {
            failure = exception.Message;
            logger.LogCritical(exception, "Generator failed: {Reason}", exception.Message);
            throw;
        }
        finally
        {
            progress.Finish(reachedLimit, failure);
        }

        if (reachedLimit && _options.StopApplicationWhenDone)
        {
            lifetime.StopApplication();
        }
    }
}
