using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace BaloyiBank.Generator.Hosting;

/// <summary>The generator's part of <c>/health</c>: unhealthy once it failed; its figures say how far it got.</summary>
public sealed class GeneratorHealthCheck(GeneratorProgress progress) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>
        {
            ["appended"] = progress.Appended,
            ["nextSequence"] = progress.NextSequence,
            ["eventsPerSecond"] = Math.Round(progress.EventsPerSecond, 1),
            ["finished"] = progress.IsFinished,
            ["reachedLimit"] = progress.ReachedLimit,
        };
        var result = progress.Failure is { } failure
            ? HealthCheckResult.Unhealthy($"generator failed: {failure}", data: data)
            : HealthCheckResult.Healthy(
                progress.IsFinished
                    ? string.Create(CultureInfo.InvariantCulture, $"finished at sequence {progress.NextSequence:N0}")
                    : string.Create(CultureInfo.InvariantCulture, $"appending, next sequence {progress.NextSequence:N0}"),
                data);
        return Task.FromResult(result);
    }
}
