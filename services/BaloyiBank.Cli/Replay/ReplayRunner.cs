using System.Diagnostics;
using System.Globalization;
using BaloyiBank.Cleansing;
using BaloyiBank.Delta;
using BaloyiBank.EventLog;
using BaloyiBank.Lake;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.Cli.Replay;

/// <summary>Where a replay reads the raw events.</summary>
internal enum ReplaySourceKind
{
    Log,
    Bronze,
}

internal sealed record ReplaySettings(
    string Layer, ReplaySourceKind Source, ReplayStart Start, bool DryRun, string DataRoot, IReadOnlyDictionary<string, string?> Overrides);

/// <summary>What a finished replay did, in figures.</summary>
internal sealed record ReplayOutcome(
    int Generation, string Root, string ConsumerGroup, long Consumed, long Valid, long Quarantined, long Duplicates, TimeSpan Elapsed,
    IReadOnlyDictionary<int, long> Positions, SilverDifference Difference, bool Switched);

/// <summary>
/// <c>baloyi replay --layer silver</c>: the cleansing pipeline itself (<see cref="CleansingWorker"/>, unchanged rules and
/// code) run over the log or the bronze archive into a new generation of silver under a consumer group of its own,
/// until it has caught up with the live position; then a handover commit gives the live consumer group its progress
/// in the new generation, and one switch makes it live for every reader.
/// </summary>
internal sealed class ReplayRunner(ReplaySettings settings, TextWriter output)
{
    /// <summary>With no new commit for this long the replay has read everything it can (e.g. a --from past some partitions' ends).</summary>
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(2);

    public async Task<ReplayOutcome> RunAsync(ReplaySources sources, CancellationToken cancellationToken)
    {
        var configuration = Configuration(settings.Overrides);
        var live = configuration.GetSection(CleansingOptions.SectionName).Get<CleansingOptions>() ?? new CleansingOptions();
        var layer = live.SilverRoot.TrimEnd('/');
        var generations = new LakeGenerations(sources.Lake);
        var current = await generations.LiveAsync(layer, cancellationToken);
        var scratch = Path.Combine(settings.DataRoot, $".replay-{Guid.NewGuid():N}");
        var note = $"replay of {layer} from {(settings.Source == ReplaySourceKind.Log ? "the log" : "bronze")} at {settings.Start}";
        try
        {
            ILakeStore target;
            string root, group;
            int generation;
            if (settings.DryRun)
            {
                // Nothing visible: the dry run writes a private folder lake, compared with the live generation, then deleted.
                target = new FolderLakeStore(Path.Combine(scratch, "lake"));
                (root, group, generation) = (layer, "replay-dry-run", -1);
            }
            else
            {
                var claim = await generations.ClaimAsync(layer, note, cancellationToken);
                (target, root, group, generation) = (sources.Lake, claim.Root, string.Create(CultureInfo.InvariantCulture, $"replay-g{claim.Number:D4}"), claim.Number);
            }

            await using var source = settings.Source == ReplaySourceKind.Log
                ? (IEventLog)new StartingEventLog(sources.Log, settings.Start)
                : await BronzeEventLog.OpenAsync(sources.Lake, live.BronzeRoot, sources.Log, settings.Start, Path.Combine(scratch, "bronze"), cancellationToken);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"Replaying {layer} of {sources.Description} from {(source is BronzeEventLog b ? $"bronze (version {b.Version}, {b.ArchivedRecords:N0} records archived, then the log)" : "the log")}, start {settings.Start}, " +
                $"into {(settings.DryRun ? "a private scratch lake (dry run: nothing visible is written)" : $"generation {generation} ({root})")} as consumer group {group}; " +
                $"live: {current}."));

            var watch = Stopwatch.StartNew();
            var progress = await RunPipelineAsync(configuration, source, target, root, group, cancellationToken);
            var elapsed = watch.Elapsed;
            var positions = await PositionsAsync(target, root, group, sources.Log.PartitionCount, cancellationToken);
            var livePositions = await PositionsAsync(sources.Lake, current.Root, live.ConsumerGroup, sources.Log.PartitionCount, cancellationToken);

            var switched = false;
            if (!settings.DryRun)
            {
                await HandOverAsync(target, root, live.ConsumerGroup, positions, cancellationToken);
                await generations.SwitchAsync(current, generation, $"{note}: {Positions(positions)}", cancellationToken);
                switched = true;
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"Switched {layer} from generation {current.Number} ({current.Root}) to {generation} ({root}): every reader resolving {layer} now reads it. " +
                    $"The live consumer group {live.ConsumerGroup} continues there from {Positions(positions)}."));
            }

            // Compare over the range both generations hold, so a live cleansing ahead or behind the replay adds no noise.
            var limits = Enumerable.Range(0, sources.Log.PartitionCount).ToDictionary(p => p,
                p => Math.Min(positions.GetValueOrDefault(p, -1), livePositions.GetValueOrDefault(p, -1)));
            var difference = await SilverDiff.CompareAsync(sources.Lake, current.Root, target, root, settings.Start, limits, Path.Combine(scratch, "diff"), cancellationToken);
            return new ReplayOutcome(generation, root, group, progress.Consumed, progress.Valid, progress.Quarantined, progress.Duplicates, elapsed, positions, difference, switched);
        }
        finally
        {
            if (Directory.Exists(scratch))
            {
                Directory.Delete(scratch, recursive: true);
            }
        }
    }

    /// <summary>Settings as the live services read them (appsettings.json, environment), then the command's own.</summary>
    private static IConfigurationRoot Configuration(IReadOnlyDictionary<string, string?> overrides) =>
        new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .AddInMemoryCollection(overrides)
            .Build();

    /// <summary>Runs the cleansing worker over <paramref name="source"/> into <paramref name="root"/> until it caught up with the source's end.</summary>
    private async Task<CleansingProgress> RunPipelineAsync(IConfiguration baseConfiguration, IEventLog source, ILakeStore target, string root, string group, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ContentRootPath = AppContext.BaseDirectory, ApplicationName = "baloyi-replay" });
        builder.Configuration.AddConfiguration(baseConfiguration);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Cleansing:SilverRoot"] = root,
            ["Cleansing:ConsumerGroup"] = group,
            // Bronze already holds every record; the generation is the replay's own, never resolved.
            ["Cleansing:Archive"] = "false",
            ["Cleansing:FollowGenerations"] = "false",
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole().AddFilter(level => level >= LogLevel.Warning);
        builder.Services.AddSingleton(source);
        builder.Services.AddSingleton(target);
        builder.Services.AddCleansing(builder.Configuration);
        using var host = builder.Build();
        var progress = host.Services.GetRequiredService<CleansingProgress>();
        await host.StartAsync(cancellationToken);
        try
        {
            await WaitUntilCaughtUpAsync(source, progress, cancellationToken);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }

        if (progress.Failure is { } failure)
        {
            throw new InvalidOperationException($"The replay's cleansing failed: {failure}. The live generation is untouched; the claimed generation is left unswitched.");
        }

        return progress;
    }

    /// <summary>
    /// Waits until every partition is committed up to the source's end as described one check earlier (the live position a
    /// moment ago: a live stream never stands still, the live consumer group takes over from wherever the replay stops),
    /// printing partitions, positions, rows/s and an ETA.
    /// </summary>
    private async Task WaitUntilCaughtUpAsync(IEventLog source, CleansingProgress progress, CancellationToken cancellationToken)
    {
        var started = Stopwatch.StartNew();
        var lastPrint = TimeSpan.Zero;
        var lastConsumed = -1L;
        var quietSince = started.Elapsed;
        IReadOnlyList<PartitionInfo>? target = null;
        while (true)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
            if (progress.Failure is not null)
            {
                return;
            }

            var ends = await source.DescribeAsync(cancellationToken);
            var committed = progress.Partitions.ToDictionary(p => p.Partition, p => p.CommittedOffset);
            if (progress.Consumed != lastConsumed)
            {
                (lastConsumed, quietSince) = (progress.Consumed, started.Elapsed);
            }

            if (progress.IsStarted && target is not null && target.All(e => e.IsEmpty || committed.GetValueOrDefault(e.Partition, -1) + 1 >= e.NextOffset))
            {
                await PrintProgressAsync(progress, ends, started.Elapsed, "caught up");
                return;
            }

            if (progress.IsStarted && started.Elapsed - quietSince > Quiet)
            {
                await PrintProgressAsync(progress, ends, started.Elapsed, $"nothing more to read for {Quiet.TotalSeconds:N0} s");
                return;
            }

            target = ends;
            if (started.Elapsed - lastPrint >= ProgressEvery)
            {
                lastPrint = started.Elapsed;
                await PrintProgressAsync(progress, ends, started.Elapsed, null);
            }
        }
    }

    private async Task PrintProgressAsync(CleansingProgress progress, IReadOnlyList<PartitionInfo> ends, TimeSpan elapsed, string? done)
    {
        var committed = progress.Partitions.ToDictionary(p => p.Partition, p => p.CommittedOffset);
        var remaining = ends.Sum(e => Math.Max(0, e.NextOffset - Math.Max(e.FirstOffset, committed.GetValueOrDefault(e.Partition, -1) + 1)));
        var rate = progress.Consumed / Math.Max(elapsed.TotalSeconds, 0.001);
        var eta = rate > 0 ? TimeSpan.FromSeconds(remaining / rate) : (TimeSpan?)null;
        var partitionsDone = ends.Count(e => e.IsEmpty || committed.GetValueOrDefault(e.Partition, -1) + 1 >= e.NextOffset);
        var positions = string.Join(" ", ends.Select(e => string.Create(CultureInfo.InvariantCulture,
            $"p{e.Partition} {committed.GetValueOrDefault(e.Partition, -1) + 1:N0}/{e.NextOffset:N0}")));
        var state = done ?? $"ETA {(eta is { } e ? e.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture) : "?")}";
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"  {elapsed:hh\\:mm\\:ss} {progress.Consumed:N0} events ({rate:N0}/s), partitions at the end {partitionsDone}/{ends.Count}, {remaining:N0} to go, {state} | {positions}"));
    }

    /// <summary>Per partition the last offset <paramref name="group"/> committed in the generation at <paramref name="root"/> (its audit table's txn).</summary>
    internal static async Task<Dictionary<int, long>> PositionsAsync(ILakeStore lake, string root, string group, int partitions, CancellationToken cancellationToken)
    {
        using var table = new DeltaTable(lake, $"{root}/{CleansingBatchesTable.FolderName}");
        var snapshot = await table.TryLoadAsync(cancellationToken);
        var positions = new Dictionary<int, long>();
        for (var p = 0; p < partitions; p++)
        {
            if (snapshot?.TransactionVersion(CleansingPipelineAppId(group, p)) is { } version)
            {
                positions[p] = version;
            }
        }

        return positions;
    }

    /// <summary>
    /// One commit per table of the new generation giving the live consumer group the replay's progress (a txn per partition,
    /// no data), so the live cleansing resumes there after the switch: nothing the replay committed is cleansed twice and
    /// nothing after it is missed. Idempotent (a table that holds the txns already is skipped).
    /// </summary>
    private static async Task HandOverAsync(ILakeStore lake, string root, string liveGroup, IReadOnlyDictionary<int, long> positions, CancellationToken cancellationToken)
    {
        List<DeltaTransaction> transactions = [.. positions.OrderBy(p => p.Key).Select(p => new DeltaTransaction(CleansingPipelineAppId(liveGroup, p.Key), p.Value))];
        if (transactions.Count == 0)
        {
            return;
        }

        var options = new CleansingOptions { SilverRoot = root, Archive = false };
        foreach (var schema in (IEnumerable<TableSchema>)[.. SilverTables.All, CleansingBatchesTable.Schema])
        {
            using var table = new DeltaTable(lake, CleansingWorker.TablePath(options, schema));
            var snapshot = await table.LoadAsync(cancellationToken);
            await table.CommitAsync(snapshot, new DeltaCommit
            {
                Transactions = transactions,
                Operation = "REPLAY HANDOVER",
                OperationParameters = new Dictionary<string, string> { ["consumerGroup"] = liveGroup },
            }, cancellationToken);
        }
    }

    private static string CleansingPipelineAppId(string group, int partition) =>
        string.Create(CultureInfo.InvariantCulture, $"{group}-p{partition}");

    public static string Positions(IReadOnlyDictionary<int, long> positions) =>
        positions.Count == 0 ? "no partition" : string.Join(",", positions.OrderBy(p => p.Key).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key}:{p.Value + 1}")));
}
