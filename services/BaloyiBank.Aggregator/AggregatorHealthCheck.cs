using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace BaloyiBank.Aggregator;

/// <summary>
/// The aggregator's part of <c>/health</c>: unhealthy while its last round failed, degraded until gold is restored and
/// while silver's live generation is not the one gold folds (after a replay's switch, until gold is rebuilt from it);
/// its figures are the gold round, the silver versions applied and the lag seen at the last round.
/// </summary>
public sealed class AggregatorHealthCheck(AggregatorProgress progress) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>
        {
            ["round"] = progress.Round,
            ["lag"] = progress.Lag,
            ["rowsFolded"] = progress.RowsFolded,
            ["changedRows"] = progress.ChangedRows,
            ["started"] = progress.Started,
        };
        foreach (var (path, version) in progress.Applied)
        {
            data["applied:" + path] = version;
        }

        var result = progress.Failure is { } failure ? HealthCheckResult.Unhealthy($"aggregator failed: {failure}", data: data)
            : progress.RebuildingFrom is { } from ? HealthCheckResult.Degraded(
                $"rebuilding gold from {from} after silver's switch; gold and the warehouse follow once it is switched to", data: data)
            : progress.SilverSwitchedTo is { } live ? HealthCheckResult.Degraded(
                $"silver switched to {live}; gold still folds the previous generation until the aggregator has rebuilt gold from {live} into a new gold generation", data: data)
            : progress.Started ? HealthCheckResult.Healthy(string.Create(CultureInfo.InvariantCulture, $"gold round {progress.Round:N0}, silver commits behind {progress.Lag:N0}"), data)
            : HealthCheckResult.Degraded("restoring gold", data: data);
        return Task.FromResult(result);
    }
}
