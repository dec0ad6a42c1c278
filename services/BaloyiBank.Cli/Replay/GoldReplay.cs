using System.Globalization;
using System.Runtime.CompilerServices;
using BaloyiBank.Aggregator;
using BaloyiBank.Lake;
using Microsoft.Extensions.Configuration;

namespace BaloyiBank.Cli.Replay;

/// <summary>One gold table compared by key between the live generation and the rebuild (lineage columns aside).</summary>
internal sealed record GoldTableDifference(string Table, long Before, long After, long Added, long Removed, long Changed)
{
    public long Differences => Added + Removed + Changed;
}

/// <summary>What a replay of gold did.</summary>
internal sealed record GoldReplayOutcome(GoldRebuildResult Rebuild, string PreviousRoot, IReadOnlyList<GoldTableDifference> Difference);

/// <summary>
/// <c>baloyi replay --layer gold</c>: the aggregator's own fold (<see cref="GoldGenerations.RebuildAsync"/>) over all of
/// silver's live generation into a new gold generation beside the live one, then one switch; a running aggregator takes
/// the new generation over and the sink reconciles the warehouse to it. With --dry-run the rebuild goes to a private
/// scratch folder (the lake's gold layer overlaid) and only the difference is printed.
/// </summary>
internal sealed class GoldReplay(ReplaySettings settings, TextWriter output)
{
    public async Task<GoldReplayOutcome> RunAsync(ILakeStore lake, string description, CancellationToken cancellationToken)
    {
        var configuration = new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .AddInMemoryCollection(settings.Overrides)
            .Build();
        var options = configuration.GetSection(AggregatorOptions.SectionName).Get<AggregatorOptions>() ?? new AggregatorOptions();
        var live = await GoldGenerations.ResolveAsync(lake, options, cancellationToken);
        var (silverLive, silverRoot) = await new LakeGenerations(lake).ResolveRootAsync(options.SilverRoot, cancellationToken);
        var scratch = Path.Combine(settings.DataRoot, $".replay-gold-{Guid.NewGuid():N}");
        try
        {
            var target = settings.DryRun ? new GoldOverlayLake(lake, new FolderLakeStore(Path.Combine(scratch, "lake")), GoldGenerations.LayerOf(options.GoldRoot)) : lake;
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"Rebuilding gold of {description} from silver generation {silverLive.Number} ({silverRoot}) into " +
                $"{(settings.DryRun ? "a private scratch folder (dry run: nothing visible is written)" : "a new gold generation")}; live gold: generation {live.Generation} ({live.Root}, folding {live.SilverRoot})."));
            var note = $"replay of gold from {silverRoot}";
            var rebuild = await GoldGenerations.RebuildAsync(target, options, silverRoot, note, switchToIt: !settings.DryRun, cancellationToken: cancellationToken);
            if (rebuild.Switched)
            {
                await output.WriteLineAsync(
                    $"Switched gold from generation {rebuild.Previous.Number} ({live.Root}) to {rebuild.Built.Number} ({rebuild.Built.Root}): every reader resolving gold now reads it; " +
                    "a running aggregator takes it over and folds new silver commits there, and the sink reconciles the warehouse to it once.");
            }

            var difference = await CompareAsync(lake, live.Root, target, rebuild.Built.Root, options.AppId, cancellationToken);
            return new GoldReplayOutcome(rebuild, live.Root, difference);
        }
        finally
        {
            if (Directory.Exists(scratch))
            {
                Directory.Delete(scratch, recursive: true);
            }
        }
    }

    /// <summary>Per business table, the current rows of two gold roots compared by key on every column but gold_version and updated_at (DuckDB).</summary>
    internal static async Task<IReadOnlyList<GoldTableDifference>> CompareAsync(
        ILakeStore beforeLake, string beforeRoot, ILakeStore afterLake, string afterRoot, string appId, CancellationToken cancellationToken)
    {
        using var before = new GoldStore(beforeLake, beforeRoot, appId);
        using var after = new GoldStore(afterLake, afterRoot, appId);
        await before.OpenAsync(cancellationToken);
        await after.OpenAsync(cancellationToken);
        var (beforeRound, afterRound) = (before.Rounds().Values.Min(), after.Rounds().Values.Min());
        using var connection = DuckDbSql.Open();
        List<GoldTableDifference> tables = [];
        foreach (var schema in GoldTables.Business)
        {
            var keys = GoldTables.KeyOf(schema);
            var values = schema.Columns.Select(c => c.Name).Where(c => c is not GoldTables.VersionColumn and not GoldTables.UpdatedAtColumn).ToList();
            var match = string.Join(" AND ", keys.Select(k => $"b.\"{k}\" = a.\"{k}\""));
            string Row(string alias) => $"row({string.Join(", ", values.Select(v => $"{alias}.\"{v}\""))})";
            var sql = $"""
                SELECT
                    count(*) FILTER (WHERE b."{keys[0]}" IS NOT NULL),
                    count(*) FILTER (WHERE a."{keys[0]}" IS NOT NULL),
                    count(*) FILTER (WHERE b."{keys[0]}" IS NULL),
                    count(*) FILTER (WHERE a."{keys[0]}" IS NULL),
                    count(*) FILTER (WHERE b."{keys[0]}" IS NOT NULL AND a."{keys[0]}" IS NOT NULL AND {Row("b")} IS DISTINCT FROM {Row("a")})
                FROM ({await before.CurrentRowsSqlAsync(schema, beforeRound, cancellationToken)}) AS b
                FULL OUTER JOIN ({await after.CurrentRowsSqlAsync(schema, afterRound, cancellationToken)}) AS a ON {match}
                """;
            using var reader = connection.Query(sql);
            reader.Read();
            tables.Add(new GoldTableDifference(schema.Name, reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4)));
        }

        return tables;
    }
}

/// <summary>
/// The lake as a dry run of gold sees it: objects under the gold layer (<c>gold/…</c>, its generations included) live
/// in a private scratch store, everything else (silver) is read from the real lake. Writes outside the gold layer are
/// refused, so a dry run cannot change anything visible.
/// </summary>
internal sealed class GoldOverlayLake(ILakeStore lake, ILakeStore scratch, string goldLayer) : ILakeStore
{
    private readonly string _prefix = goldLayer.TrimEnd('/') + "/";

    public string Location => $"{scratch.Location} over {lake.Location}";

    private ILakeStore Reading(string path) => path.StartsWith(_prefix, StringComparison.Ordinal) ? scratch : lake;

    private ILakeStore Writing(string path) => path.StartsWith(_prefix, StringComparison.Ordinal)
        ? scratch
        : throw new InvalidOperationException($"A dry run of gold writes only below {_prefix} (in its scratch folder), not {path}.");

    public Task PutAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) => Writing(path).PutAsync(path, content, cancellationToken);

    public Task<PutOutcome> PutIfAbsentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        Writing(path).PutIfAbsentAsync(path, content, cancellationToken);

    public Task<bool> PutIfMatchAsync(string path, ReadOnlyMemory<byte> content, string etag, CancellationToken cancellationToken = default) =>
        Writing(path).PutIfMatchAsync(path, content, etag, cancellationToken);

    public Task PutFileAsync(string path, string localFile, CancellationToken cancellationToken = default) => Writing(path).PutFileAsync(path, localFile, cancellationToken);

    public Task<byte[]?> GetAsync(string path, CancellationToken cancellationToken = default) => Reading(path).GetAsync(path, cancellationToken);

    public Task<bool> GetFileAsync(string path, string localFile, CancellationToken cancellationToken = default) => Reading(path).GetFileAsync(path, localFile, cancellationToken);

    public Task<LakeObjectInfo?> GetInfoAsync(string path, CancellationToken cancellationToken = default) => Reading(path).GetInfoAsync(path, cancellationToken);

    public async IAsyncEnumerable<LakeObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var info in Reading(prefix).ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            yield return info;
        }
    }

    public Task<bool> DeleteAsync(string path, CancellationToken cancellationToken = default) => Writing(path).DeleteAsync(path, cancellationToken);
}
