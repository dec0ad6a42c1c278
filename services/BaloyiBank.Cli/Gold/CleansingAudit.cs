using System.Globalization;
using BaloyiBank.Cleansing;
using BaloyiBank.Delta;
using BaloyiBank.EventLog;
using BaloyiBank.Lake;

namespace BaloyiBank.Cli.Gold;

/// <summary>One partition of the cleansing audit: what it consumed, how it was routed, and whether its batches tile the offsets.</summary>
public sealed record AuditPartition(int Partition, long Batches, long Consumed, long Silver, long Quarantined, long Duplicates, long FirstOffset, long LastOffset, long Gaps, long? LogNextOffset)
{
    public bool Balanced => Consumed == Silver + Quarantined + Duplicates;

    /// <summary>The batches cover the log from its first offset to its end, with no gap or overlap (when the log is known).</summary>
    public bool CoversLog => Gaps == 0 && (LogNextOffset is not { } next || LastOffset == next - 1);
}

/// <summary>
/// Reads the cleansing audit table (<c>silver/_cleansing_batches</c>, of silver's live generation) with DuckDB: consumed = silver + quarantined +
/// duplicates per partition, batches tiling each partition's offsets, and the audit's end against the log's end.
/// </summary>
public static class CleansingAudit
{
    public static async Task<IReadOnlyList<AuditPartition>> ReadAsync(ILakeStore lake, IReadOnlyList<PartitionInfo>? log, string workFolder, CancellationToken ct)
    {
        // The audit of silver's live generation: after a replay's switch, the one the cleansing group goes on writing.
        var live = await new LakeGenerations(lake).LiveAsync(new CleansingOptions().SilverRoot, ct);
        using var table = new DeltaTable(lake, $"{live.Root}/{CleansingBatchesTable.FolderName}");
        if (await table.TryLoadAsync(ct) is not { } snapshot)
        {
            return [];
        }

        var from = (await table.GetReadSetAsync(snapshot, workFolder, ct)).ToSql();
        using var connection = DuckDbSql.Open();
        // Gaps: a batch that does not start right after the previous one (a lost or doubled range).
        using var result = connection.Query($"""
            SELECT source_partition, count(*), sum(consumed)::BIGINT, sum(valid)::BIGINT, sum(quarantined)::BIGINT, sum(duplicates)::BIGINT,
                   min(first_offset), max(last_offset), sum(CASE WHEN gap THEN 1 ELSE 0 END)::BIGINT
            FROM (SELECT *, first_offset <> coalesce(lag(last_offset) OVER (PARTITION BY source_partition ORDER BY first_offset) + 1, first_offset) AS gap
                  FROM {from})
            GROUP BY source_partition ORDER BY source_partition
            """);
        List<AuditPartition> partitions = [];
        while (result.Read())
        {
            var partition = result.GetInt32(0);
            long? next = log?.FirstOrDefault(p => p.Partition == partition)?.NextOffset;
            partitions.Add(new AuditPartition(partition, result.GetInt64(1), result.GetInt64(2), result.GetInt64(3), result.GetInt64(4),
                result.GetInt64(5), result.GetInt64(6), result.GetInt64(7), result.GetInt64(8), next));
        }

        return partitions;
    }

    public static string Describe(IReadOnlyList<AuditPartition> audit, long? logEvents) =>
        string.Create(CultureInfo.InvariantCulture,
            $"Cleansing consumed {audit.Sum(a => a.Consumed):N0} events = silver {audit.Sum(a => a.Silver):N0} + quarantined {audit.Sum(a => a.Quarantined):N0} + duplicates {audit.Sum(a => a.Duplicates):N0} in {audit.Sum(a => a.Batches):N0} batches")
        + (logEvents is { } events ? string.Create(CultureInfo.InvariantCulture, $"; the log holds {events:N0} events") : "");
}
