using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace BaloyiBank.Sink;

/// <summary>
/// The sink's part of <c>/health</c>: degraded while its last load failed (the next scheduled load retries) or while
/// it waits as a standby; its figures are the warehouse watermark (the gold round loaded), loads and rows merged.
/// </summary>
public sealed class SinkHealthCheck(SinkProgress progress) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>
        {
            ["watermark"] = progress.Watermark,
            ["loads"] = progress.Loads,
            ["rowsInserted"] = progress.RowsInserted,
            ["rowsUpdated"] = progress.RowsUpdated,
            ["holdsLease"] = progress.HoldsLease,
            ["leaseHolder"] = progress.LeaseHolder ?? "",
            ["fencedLoads"] = progress.FencedLoads,
        };
        var result = progress.LastError is { } error ? HealthCheckResult.Degraded($"last load failed: {error}", data: data)
            : progress.HoldsLease ? HealthCheckResult.Healthy(string.Create(CultureInfo.InvariantCulture, $"warehouse at gold round {progress.Watermark:N0}"), data)
            : HealthCheckResult.Degraded("standby: another sink holds the warehouse lease", data: data);
        return Task.FromResult(result);
    }
}
