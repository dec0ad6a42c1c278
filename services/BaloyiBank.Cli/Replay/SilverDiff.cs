using System.Globalization;
using System.Text;
using BaloyiBank.Cleansing;
using BaloyiBank.Delta;
using BaloyiBank.Lake;

namespace BaloyiBank.Cli.Replay;

/// <summary>One table's difference between two silver generations, over the compared log range.</summary>
internal sealed record TableDifference(string Table, long Before, long After, long Added, long Removed, long Changed)
{
    public long Differences => Added + Removed + Changed;
}

/// <summary>The quarantine of one reason before and after.</summary>
internal sealed record ReasonDifference(string Reason, long Before, long After)
{
    public long Delta => After - Before;
}

internal sealed record SilverDifference(IReadOnlyList<TableDifference> Tables, IReadOnlyList<ReasonDifference> Reasons)
{
    public long Differences => Tables.Sum(t => t.Differences);
}

/// <summary>
/// Compares the silver tables of two generations (possibly in two lakes) row by row, keyed by each row's source
/// position (partition, offset), over the log range both cover: per partition, records at or after the replay's start
/// and at or before <c>limits[partition]</c>. Every column counts except <c>ingested_at</c> and the quarantine's
/// <c>ingest_date</c> (when the row was made, not what it says).
/// </summary>
internal static class SilverDiff
{
    private static readonly HashSet<string> Ignored = ["ingested_at", "ingest_date"];

    public static async Task<SilverDifference> CompareAsync(
        ILakeStore beforeLake, string beforeRoot, ILakeStore afterLake, string afterRoot,
        ReplayStart start, IReadOnlyDictionary<int, long> limits, string cacheFolder, CancellationToken cancellationToken)
    {
        List<TableDifference> tables = [];
        Dictionary<string, long> reasonsBefore = [], reasonsAfter = [];
        foreach (var schema in SilverTables.All)
        {
            var quarantine = ReferenceEquals(schema, SilverTables.Quarantine);
            var before = await ReadAsync(beforeLake, $"{beforeRoot}/{schema.Name}", schema, start, limits, quarantine ? reasonsBefore : null, Path.Combine(cacheFolder, "before"), cancellationToken);
            var after = await ReadAsync(afterLake, $"{afterRoot}/{schema.Name}", schema, start, limits, quarantine ? reasonsAfter : null, Path.Combine(cacheFolder, "after"), cancellationToken);
            long added = 0, changed = 0;
            foreach (var (key, hash) in after)
            {
                if (!before.TryGetValue(key, out var old))
                {
                    added++;
                }
                else if (old != hash)
                {
                    changed++;
                }
            }

            var removed = before.Keys.Count(k => !after.ContainsKey(k));
            tables.Add(new TableDifference(schema.Name, before.Count, after.Count, added, removed, changed));
        }

        List<ReasonDifference> reasons = [.. reasonsBefore.Keys.Union(reasonsAfter.Keys).Order(StringComparer.Ordinal)
            .Select(r => new ReasonDifference(r, reasonsBefore.GetValueOrDefault(r), reasonsAfter.GetValueOrDefault(r)))];
        return new SilverDifference(tables, reasons);
    }

    /// <summary>(partition, offset) → a 64-bit hash of the row's compared values; counts quarantine reasons on the way.</summary>
    private static async Task<Dictionary<(int, long), ulong>> ReadAsync(ILakeStore lake, string path, TableSchema schema, ReplayStart start,
        IReadOnlyDictionary<int, long> limits, Dictionary<string, long>? reasons, string cacheFolder, CancellationToken cancellationToken)
    {
        var rows = new Dictionary<(int, long), ulong>();
        using var table = new DeltaTable(lake, path);
        if (await table.TryLoadAsync(cancellationToken) is not { } snapshot)
        {
            return rows;
        }

        var columns = schema.Columns.Select(c => c.Name).Where(c => !Ignored.Contains(c)).ToArray();
        var readSet = await table.GetReadSetAsync(snapshot, Path.Combine(cacheFolder, schema.Name), cancellationToken);
        var text = new StringBuilder();
        await foreach (var chunk in ColumnChunk.ReadAsync(readSet, columns, cancellationToken))
        {
            var (partitions, offsets, enqueued) = (chunk.Ints("source_partition"), chunk.Longs("source_offset"), chunk.Timestamps("enqueued_at"));
            var values = columns.Select(chunk.Column).ToArray();
            var reason = reasons is null ? null : chunk.Strings("reason");
            for (var r = 0; r < chunk.RowCount; r++)
            {
                if (!limits.TryGetValue(partitions[r], out var limit) || offsets[r] > limit
                    || !start.Admits(partitions[r], offsets[r], new DateTimeOffset(DateTime.SpecifyKind(enqueued[r], DateTimeKind.Utc))))
                {
                    continue;
                }

                text.Clear();
                foreach (var column in values)
                {
                    Render(text, column.GetValue(r));
                    text.Append('\u001f');
                }

                rows[(partitions[r], offsets[r])] = Fnv1a(text);
                if (reason is not null)
                {
                    reasons![reason[r]!] = reasons.GetValueOrDefault(reason[r]!) + 1;
                }
            }
        }

        return rows;
    }

    private static void Render(StringBuilder text, object? value)
    {
        switch (value)
        {
            case null:
                text.Append('\u2400');
                break;
            case ReadOnlyMemory<byte> bytes:
                text.Append(Convert.ToHexString(bytes.Span));
                break;
            case ReadOnlyMemory<char> chars:
                text.Append(chars.Span);
                break;
            case DateTime instant:
                text.Append(instant.Ticks);
                break;
            case IFormattable formattable:
                text.Append(formattable.ToString(null, CultureInfo.InvariantCulture));
                break;
            default:
                text.Append(value);
                break;
        }
    }

    private static ulong Fnv1a(StringBuilder text)
    {
        var hash = 14695981039346656037UL;
        foreach (var chunk in text.GetChunks())
        {
            foreach (var c in chunk.Span)
            {
                hash = (hash ^ c) * 1099511628211UL;
            }
        }

        return hash;
    }
}
