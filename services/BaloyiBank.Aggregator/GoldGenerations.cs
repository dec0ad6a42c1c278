using System.Globalization;
using System.Text.Json;
using BaloyiBank.Lake;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.Aggregator;

/// <summary>The gold generation readers use and the silver root it folds.</summary>
/// <param name="Generation">The live generation of the gold layer (0: the configured folder itself, the layout from before generations).</param>
/// <param name="Root">The folder every gold table of that generation lives below.</param>
/// <param name="SilverRoot">The silver root it folds: recorded in its <see cref="GoldGenerations.SourceFile"/>; for generation 0 the configured one.</param>
public sealed record LiveGold(int Generation, string Root, string SilverRoot);

/// <summary>What a gold rebuild did.</summary>
public sealed record GoldRebuildResult(LakeGeneration Previous, LakeGeneration Built, string SilverRoot, long Round, long RowsFolded, int Accounts, TimeSpan Elapsed, bool Switched);

/// <summary>
/// Gold's generations, as silver's (<see cref="LakeGenerations"/>, layer <c>gold</c>): every reader resolves the live
/// gold root with one listing of <c>gold/_generations/</c>; a rebuild folds a silver root from scratch into a newly
/// claimed generation (<c>gold/g000N</c>) with the aggregator's own engine and switches to it in one put-if-absent.
/// Each generation above 0 records the silver root it folds in <c>gold/g000N/_source.json</c>, written before its
/// first table, so the aggregator that takes it over folds the same silver.
/// </summary>
public static class GoldGenerations
{
    /// <summary>The object, in a generation's root, that names the silver root it folds.</summary>
    public const string SourceFile = "_source.json";

    /// <summary>The gold layer of a configured gold root: the root without a <c>/gNNNN</c> generation suffix.</summary>
    public static string LayerOf(string goldRoot) => LakeGenerations.LayerOf(goldRoot);

    /// <summary>The live gold generation of <see cref="AggregatorOptions.GoldRoot"/>'s layer and the silver root it folds: one listing (and one read above generation 0).</summary>
    public static async Task<LiveGold> ResolveAsync(ILakeStore lake, AggregatorOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lake);
        ArgumentNullException.ThrowIfNull(options);
        var live = await new LakeGenerations(lake).LiveAsync(LayerOf(options.GoldRoot), cancellationToken).ConfigureAwait(false);
        if (live.Number == 0)
        {
            // Generation 0 is the configured folder itself: a gold root configured with a generation suffix keeps working.
            return new LiveGold(0, options.GoldRoot.TrimEnd('/'), options.SilverRoot.TrimEnd('/'));
        }

        return new LiveGold(live.Number, live.Root, await SilverRootOfAsync(lake, live.Root, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException(
                $"Gold generation {live.Number} ({live.Root}) has no {SourceFile} naming the silver it folds; it was not built by a gold rebuild. " +
                $"Fix: rebuild gold (baloyi replay --layer gold), which switches to a new generation."));
    }

    /// <summary>
    /// The live gold, rebuilt first when it folds a silver generation that is no longer silver's live one (a replay of
    /// silver switched it): the same path the worker takes, for callers that fold gold without it (the CLI after a run).
    /// </summary>
    public static async Task<LiveGold> FollowSilverAsync(ILakeStore lake, AggregatorOptions options, TimeProvider? time = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        var live = await ResolveAsync(lake, options, cancellationToken).ConfigureAwait(false);
        var (_, silverRoot) = await new LakeGenerations(lake).ResolveRootAsync(live.SilverRoot, cancellationToken).ConfigureAwait(false);
        if (silverRoot == live.SilverRoot)
        {
            return live;
        }

        await RebuildAsync(lake, options, silverRoot, $"gold follows silver's switch to {silverRoot}", time: time, logger: logger, cancellationToken: cancellationToken).ConfigureAwait(false);
        return await ResolveAsync(lake, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The silver root recorded in a gold generation's <see cref="SourceFile"/>, or null.</summary>
    public static async Task<string?> SilverRootOfAsync(ILakeStore lake, string goldRoot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lake);
        var content = await lake.GetAsync($"{goldRoot.TrimEnd('/')}/{SourceFile}", cancellationToken).ConfigureAwait(false);
        if (content is null)
        {
            return null;
        }

        using var document = JsonDocument.Parse(content);
        return document.RootElement.GetProperty("silverRoot").GetString();
    }

    /// <summary>
    /// Folds all of <paramref name="silverRoot"/> into a new gold generation with <see cref="GoldAggregator"/> (rounds
    /// until silver has nothing new), then, unless <paramref name="switchToIt"/> is false, switches the gold layer to it.
    /// The live generation is untouched until the switch; a rebuild that fails leaves its claimed generation unswitched.
    /// A switch that loses a race (another rebuild switched first) throws <see cref="LakeGenerationConflictException"/>.
    /// </summary>
    public static async Task<GoldRebuildResult> RebuildAsync(
        ILakeStore lake, AggregatorOptions options, string silverRoot, string note, bool switchToIt = true,
        TimeProvider? time = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lake);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(silverRoot);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var generations = new LakeGenerations(lake);
        var layer = LayerOf(options.GoldRoot);
        var previous = await generations.LiveAsync(layer, cancellationToken).ConfigureAwait(false);
        var claim = await generations.ClaimAsync(layer, $"{note} (from {silverRoot})", cancellationToken).ConfigureAwait(false);
        await lake.PutIfAbsentAsync($"{claim.Root}/{SourceFile}", Source(silverRoot, note), cancellationToken).ConfigureAwait(false);
        var settings = options.WithRoots(silverRoot.TrimEnd('/'), claim.Root);
        long round, folded = 0;
        int accounts;
        using (var aggregator = new GoldAggregator(lake, settings, time, logger))
        {
            await aggregator.StartAsync(cancellationToken).ConfigureAwait(false);
            foreach (var done in await aggregator.CatchUpAsync(cancellationToken).ConfigureAwait(false))
            {
                folded += done.RowsFolded.Values.Sum();
            }

            round = aggregator.Round;
            accounts = aggregator.Fold.AccountCount;
        }

        var switched = false;
        if (switchToIt)
        {
            await generations.SwitchAsync(previous, claim.Number,
                string.Create(CultureInfo.InvariantCulture, $"{note}: {silverRoot} folded through gold round {round}"), cancellationToken).ConfigureAwait(false);
            switched = true;
        }

        return new GoldRebuildResult(previous, claim, silverRoot.TrimEnd('/'), round, folded, accounts, clock.Elapsed, switched);
    }

    private static byte[] Source(string silverRoot, string note) => JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
    {
        ["silverRoot"] = silverRoot.TrimEnd('/'),
        ["note"] = note,
        ["at"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
    });
}
