using System.Globalization;
using BaloyiBank.Aggregator;
using BaloyiBank.Cleansing;
using BaloyiBank.Delta;
using BaloyiBank.EventLog;
using BaloyiBank.Lake;
using BaloyiBank.Sink;
using BaloyiBank.Warehouse;
using Spectre.Console;

namespace BaloyiBank.Cli.Gold;

/// <summary>One log partition as cleansing committed it: the last offset of its txn in silver's audit table (null: none yet).</summary>
public sealed record CleansingPartitionStatus(int Partition, long? CommittedOffset, long LogFirstOffset, long LogNextOffset)
{
    /// <summary>Events in the log after the committed offset (from the log's first offset while nothing is committed).</summary>
    public long Lag => LogNextOffset - Math.Max(LogFirstOffset, (CommittedOffset ?? -1) + 1);
}

/// <summary>Gold's last complete round, the silver versions it applied, and how many silver commits it has not folded.</summary>
public sealed record GoldStatus(long Round, IReadOnlyDictionary<string, long> Applied, IReadOnlyDictionary<string, long> SilverLatest)
{
    /// <summary>Silver commits not folded yet, summed over the silver tables (as the aggregator's <c>lag</c> gauge counts them).</summary>
    public long SilverCommitsBehind => SilverLatest.Sum(l => Math.Max(0, l.Value - Applied.GetValueOrDefault(l.Key, -1)));
}

/// <summary>The warehouse's watermark (the gold round its last committed load reached) and when it moved; null fields when unreadable.</summary>
public sealed record WarehouseStatus(string Location, long? Watermark, DateTimeOffset? UpdatedAt, string? Problem);

/// <summary>Every stage's position, read from where each stage keeps it: silver's txns, gold's txns, the warehouse's watermark table.</summary>
public sealed record StageStatus(string SilverRoot, IReadOnlyList<CleansingPartitionStatus> Cleansing, GoldStatus? Gold, WarehouseStatus? Warehouse)
{
    /// <summary>Rounds gold has that the warehouse has not loaded (null when either is unknown).</summary>
    public long? WarehouseRoundsBehind => Gold is { } gold && Warehouse?.Watermark is { } watermark ? Math.Max(0, gold.Round - watermark) : null;

    /// <summary>
    /// Reads, never writes: the cleansing audit's txns (silver's live generation; what cleansing resumes from), gold's change
    /// tables' round and progress txns against the silver tables' latest versions, and the DuckDB warehouse's watermark
    /// (only when <paramref name="duckDbPath"/> exists).
    /// </summary>
    public static async Task<StageStatus> ReadAsync(ILakeStore lake, IReadOnlyList<PartitionInfo> log, string? duckDbPath, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(lake);
        ArgumentNullException.ThrowIfNull(log);
        var cleansingOptions = new CleansingOptions();
        var live = await new LakeGenerations(lake).LiveAsync(cleansingOptions.SilverRoot, ct);
        DeltaSnapshot? audit;
        using (var table = new DeltaTable(lake, $"{live.Root}/{CleansingBatchesTable.FolderName}"))
        {
            audit = await table.TryLoadAsync(ct);
        }

        var cleansing = log.Select(p => new CleansingPartitionStatus(p.Partition,
            audit?.TransactionVersion(CleansingAppId(cleansingOptions.ConsumerGroup, p.Partition)), p.FirstOffset, p.NextOffset)).ToList();
        var gold = await ReadGoldAsync(lake, new AggregatorOptions(), ct);
        var warehouse = duckDbPath is not null && File.Exists(duckDbPath) ? await ReadWarehouseAsync(duckDbPath, ct) : null;
        return new StageStatus(live.Root, cleansing, gold, warehouse);
    }

    /// <summary>Cleansing's txn appId per partition (<c>{group}-p{partition}</c>, as the pipeline and replay write it).</summary>
    private static string CleansingAppId(string group, int partition) => string.Create(CultureInfo.InvariantCulture, $"{group}-p{partition}");

    /// <summary>Null when gold has no table yet.</summary>
    private static async Task<GoldStatus?> ReadGoldAsync(ILakeStore lake, AggregatorOptions options, CancellationToken ct)
    {
        var live = await GoldGenerations.ResolveAsync(lake, options, ct);
        options = options.WithRoots(live.SilverRoot, live.Root);
        List<DeltaSnapshot> snapshots = [];
        foreach (var schema in GoldTables.All)
        {
            using var table = new DeltaTable(lake, GoldTables.ChangeTablePath(options.GoldRoot, schema));
            if (await table.TryLoadAsync(ct) is { } snapshot)
            {
                snapshots.Add(snapshot);
            }
        }

        using var silver = new SilverSource(lake, options.SilverRoot);
        var latest = await silver.LatestVersionsAsync(ct);
        if (snapshots.Count == 0)
        {
            return null;
        }

        // The round every table holds (a crash mid-round leaves some one ahead), and the silver versions it recorded.
        var round = snapshots.Count < GoldTables.All.Count ? 0 : snapshots.Min(s => s.TransactionVersion(options.AppId) ?? 0);
        var holding = snapshots.FirstOrDefault(s => (s.TransactionVersion(options.AppId) ?? 0) == round);
        var applied = silver.Paths.ToDictionary(p => p, p => holding?.TransactionVersion($"{options.AppId}:{p}") ?? -1, StringComparer.Ordinal);
        return new GoldStatus(round, applied, latest);
    }

    private static async Task<WarehouseStatus> ReadWarehouseAsync(string path, CancellationToken ct)
    {
        try
        {
            await using var warehouse = WarehouseFactory.Create(new WarehouseOptions { DuckDbPath = path });
            var pipeline = new SinkOptions().Pipeline;
            List<WarehouseWatermark?> marks = [];
            foreach (var table in SinkModel.Tables)
            {
                marks.Add(await warehouse.ReadWatermarkAsync(pipeline, table.Name, ct));
            }

            // Every load moves all tables together: the lowest is the round the warehouse holds (0 before the first load).
            return marks.Any(m => m is null)
                ? new WarehouseStatus(path, 0, null, null)
                : new WarehouseStatus(path, marks.Min(m => m!.Value), marks.Max(m => m!.UpdatedAt), null);
        }
        catch (Exception problem) when (problem is not OperationCanceledException and not OutOfMemoryException)
        {
            // Most often a running `baloyi run` holding the DuckDB file: say so rather than fail the whole status.
            return new WarehouseStatus(path, null, null, $"{problem.GetType().Name}: {problem.Message.Split('\n')[0]}");
        }
    }

    /// <summary>The stages as a person checks them: each position, what it is behind, and where the figure comes from.</summary>
    public Table ToTable()
    {
        var table = new Table().Title("Stages (read from the lake and the warehouse)").Border(TableBorder.Simple)
            .AddColumn("stage").AddColumn("position").AddColumn(new TableColumn("behind").RightAligned()).AddColumn("read from");
        foreach (var p in Cleansing)
        {
            table.AddRow(Markup.Escape($"cleansing p{N(p.Partition)}"),
                Markup.Escape(p.CommittedOffset is { } committed ? $"committed offset {N(committed)} (log next {N(p.LogNextOffset)})" : $"nothing committed (log next {N(p.LogNextOffset)})"),
                Markup.Escape($"lag {N(p.Lag)} events"), Markup.Escape($"{SilverRoot}/{CleansingBatchesTable.FolderName} txn"));
        }

        if (Gold is { } gold)
        {
            table.AddRow("gold", Markup.Escape($"round {N(gold.Round)}; {FoldedRoot(gold)} versions applied/latest: {string.Join(", ", gold.Applied.Select(a => $"{a.Key[(a.Key.LastIndexOf('/') + 1)..]} {N(a.Value)}/{N(gold.SilverLatest.GetValueOrDefault(a.Key, -1))}"))}"),
                Markup.Escape($"behind {N(gold.SilverCommitsBehind)} silver commits"), "gold/changes/* txn");
        }
        else
        {
            table.AddRow("gold", "no gold table yet", "", "gold/changes/*");
        }

        if (Warehouse is { Problem: { } problem } unreadable)
        {
            table.AddRow("warehouse", Markup.Escape($"unreadable: {problem}"), "", Markup.Escape(Path.GetFileName(unreadable.Location)));
        }
        else if (Warehouse is { Watermark: { } watermark } warehouse)
        {
            var updated = warehouse.UpdatedAt is { } at ? $" (loaded {at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC)" : "";
            table.AddRow("warehouse", Markup.Escape($"watermark round {N(watermark)}{updated}"),
                Markup.Escape(WarehouseRoundsBehind is { } behind ? $"behind gold {N(behind)} rounds" : "?"), Markup.Escape($"{Path.GetFileName(warehouse.Location)} watermark table"));
        }
        else
        {
            table.AddRow("warehouse", "no DuckDB warehouse in the folder", "", "");
        }

        return table;
    }

    private static string FoldedRoot(GoldStatus gold) => gold.Applied.Keys.Select(k => k[..Math.Max(0, k.LastIndexOf('/'))]).FirstOrDefault() ?? "silver";

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
