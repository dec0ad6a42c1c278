using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace BaloyiBank.Cleansing;

/// <summary>
/// The cleansing service's part of <c>/health</c>: unhealthy once the worker failed, degraded until every partition
/// resumed; its figures are the events consumed per outcome and, per partition, the last committed offset and lag
/// (with scale-out: the instance id, the partitions it owns, and those partitions' figures only).
/// </summary>
public sealed class CleansingHealthCheck(CleansingProgress progress) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var partitions = progress.Partitions;
        var data = new Dictionary<string, object>
        {
            ["consumed"] = progress.Consumed,
            ["silver"] = progress.Valid,
            ["quarantined"] = progress.Quarantined,
            ["duplicates"] = progress.Duplicates,
            ["batches"] = progress.BatchesCommitted,
            ["started"] = progress.IsStarted,
            ["lag"] = progress.IsStarted ? progress.Lag : -1,
        };
        if (progress.InstanceId is { } instance)
        {
            // Scale-out: which partitions this process reads; the others belong to other instances.
            data["instance"] = instance;
            data["owned"] = string.Join(',', progress.OwnedPartitions);
        }

        foreach (var p in partitions.Where(p => progress.InstanceId is null || progress.OwnedPartitions.Contains(p.Partition)))
        {
            // Offsets need not be dense (Kafka), so progress is compared per partition with the log's next offset.
            data[string.Create(CultureInfo.InvariantCulture, $"p{p.Partition}.committed")] = p.CommittedOffset;
            data[string.Create(CultureInfo.InvariantCulture, $"p{p.Partition}.logNext")] = p.LogNextOffset;
        }

        var result = progress.Failure is { } failure ? HealthCheckResult.Unhealthy($"cleansing failed: {failure}", data: data)
            : progress.IsStarted ? HealthCheckResult.Healthy(string.Create(CultureInfo.InvariantCulture, $"consumed {progress.Consumed:N0}, lag {progress.Lag:N0}"), data)
            : HealthCheckResult.Degraded("resuming partitions from the silver tables' progress", data: data);
        return Task.FromResult(result);
    }
}
