using System.CommandLine;
using System.Globalization;
using BaloyiBank.Cli.Replay;
using BaloyiBank.Lake;

namespace BaloyiBank.Cli.Commands;

/// <summary>
/// <c>baloyi replay --layer silver</c>: rebuild silver from the log or the bronze archive into a new generation beside the
/// live one, catch up with the live position, then switch every reader to it at once (or, with --dry-run, only print
/// what it would change). <c>--layer gold</c>: rebuild gold from silver's live generation into a new gold generation
/// and switch to it (<see cref="GoldReplay"/>).
/// </summary>
internal static class ReplayCommand
{
    public static Command Create()
    {
        var layer = new Option<string>("--layer")
        {
            Description = "The layer to rebuild: silver (the default; from the log or bronze) or gold (from silver's live generation, with the aggregator's fold).",
            DefaultValueFactory = _ => "silver",
            CustomParser = result =>
            {
                var text = result.Tokens.Count == 0 ? "" : result.Tokens[^1].Value;
                if (text is "silver" or "gold")
                {
                    return text;
                }

                result.AddError($"--layer must be silver or gold (got '{text}'). Fix: pass --layer silver or --layer gold.");
                return "silver";
            },
        };
        var source = new Option<ReplaySourceKind>("--source")
        {
            Description = "Where the raw events come from: log (default; a consumer group of its own from the start position) or bronze (the archive, then the log's tail).",
            DefaultValueFactory = _ => ReplaySourceKind.Log,
            CustomParser = result =>
            {
                var text = result.Tokens.Count == 0 ? "" : result.Tokens[^1].Value;
                switch (text)
                {
                    case "log":
                        return ReplaySourceKind.Log;
                    case "bronze":
                        return ReplaySourceKind.Bronze;
                    default:
                        result.AddError($"--source must be log or bronze (got '{text}'). Fix: pass --source log or --source bronze.");
                        return ReplaySourceKind.Log;
                }
            },
        };
        var from = new Option<ReplayStart>("--from")
        {
            Description = "Where to start: earliest (default), a UTC instant (first record enqueued at or after it) or partition:offset pairs such as 0:1000,3:250. The new generation holds only records from there on.",
            DefaultValueFactory = _ => ReplayStart.Earliest,
            CustomParser = result =>
            {
                var text = result.Tokens.Count == 0 ? "" : result.Tokens[^1].Value;
                if (ReplayStart.TryParse(text, out var problem) is { } start)
                {
                    return start;
                }

                result.AddError(problem);
                return ReplayStart.Earliest;
            },
        };
        var dryRun = new Option<bool>("--dry-run") { Description = "Write nothing visible: rebuild into a private scratch lake, print the difference per table and quarantine reason, delete it." };
        var data = CommonOptions.ExistingData(DataAccess.WriteIfExists, "The data folder of a run (its lake is <data>/lake) or of a baloyi up deployment.");
        var eventLog = EventLogChoice.Option("The event log the run used, when not embedded: the same --event-log given to run.");
        var set = ConfigurationOverrides.Create("Cleansing settings for the rebuild (a changed rule), e.g. --set Cleansing:MaxPayloadBytes=2048.", "Cleansing:MaxPayloadBytes=2048");
        var command = new Command("replay", "Rebuild silver (from the event log or the bronze archive) or gold (from silver) into a new generation, catch up with the live position, then switch every reader to it in one step; --dry-run prints the difference instead.")
        {
            layer, source, from, dryRun, data, eventLog, set,
        };
        command.Validators.Add(r =>
        {
            // Presence, not values: gold is rebuilt from silver's live generation, so where raw events come from has no meaning.
            if (r.GetResult(layer) is { Implicit: false } && r.GetResult(layer)!.Tokens is [.., { Value: "gold" }]
                && new Option[] { source, from, eventLog }.FirstOrDefault(o => r.GetResult(o) is { Implicit: false }) is { } silverOption)
            {
                r.AddError($"--layer gold rebuilds gold from silver's live generation, so {silverOption.Name} has no meaning. Fix: leave out {silverOption.Name}, or pass --layer silver.");
            }
        });
        command.SetAction(async (parse, ct) =>
        {
            var root = parse.GetValue(data)!.FullName;
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            if (parse.GetValue(layer) == "gold")
            {
                return await ReplayGoldAsync(new ReplaySettings("gold", ReplaySourceKind.Log, ReplayStart.Earliest, parse.GetValue(dryRun), root, parse.GetValue(set)!), output, error, ct);
            }
            await using var sources = ReplaySources.Open(root, parse.GetValue(eventLog), out var problem);
            if (sources is null)
            {
                await error.WriteLineAsync(problem);
                return CommandLineApp.UsageError;
            }

            var settings = new ReplaySettings(parse.GetValue(layer)!, parse.GetValue(source), parse.GetValue(from)!, parse.GetValue(dryRun), root, parse.GetValue(set)!);
            ReplayOutcome outcome;
            try
            {
                outcome = await new ReplayRunner(settings, output).RunAsync(sources, ct);
            }
            catch (Exception failure) when (failure is InvalidOperationException or LakeGenerationConflictException or Delta.DeltaTableNotFoundException)
            {
                await error.WriteLineAsync($"Replay stopped: {failure.Message}");
                return 1;
            }

            await PrintSummaryAsync(output, settings, outcome);
            return 0;
        });
        return command;
    }

    /// <summary><c>--layer gold</c>: needs only the lake (the fold reads silver); --source and --from do not apply.</summary>
    private static async Task<int> ReplayGoldAsync(ReplaySettings settings, TextWriter output, TextWriter error, CancellationToken ct)
    {
        await using var lake = ReplaySources.OpenLake(settings.DataRoot, out var description, out var problem);
        if (lake is null)
        {
            await error.WriteLineAsync(problem);
            return CommandLineApp.UsageError;
        }

        GoldReplayOutcome outcome;
        try
        {
            outcome = await new GoldReplay(settings, output).RunAsync(lake.Lake, description, ct);
        }
        catch (Exception failure) when (failure is InvalidOperationException or LakeGenerationConflictException or Delta.DeltaTableNotFoundException)
        {
            await error.WriteLineAsync($"Replay of gold stopped: {failure.Message}");
            return 1;
        }

        var rebuild = outcome.Rebuild;
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"Folded {rebuild.RowsFolded:N0} silver rows of {rebuild.SilverRoot} in {rebuild.Elapsed.TotalSeconds:N1} s into gold round {rebuild.Round:N0} ({rebuild.Accounts:N0} accounts)."));
        await output.WriteLineAsync(settings.DryRun
            ? $"Dry run: nothing visible was written. Difference the rebuild would make against the live gold ({outcome.PreviousRoot}), rows by key, every column but gold_version and updated_at:"
            : string.Create(CultureInfo.InvariantCulture, $"Gold generation {rebuild.Built.Number} ({rebuild.Built.Root}) is live. Difference against the previous one ({outcome.PreviousRoot}), rows by key, every column but gold_version and updated_at:"));
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {"table",-28}{"before",12}{"after",12}{"added",10}{"removed",10}{"changed",10}"));
        foreach (var t in outcome.Difference)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {t.Table,-28}{t.Before,12:N0}{t.After,12:N0}{t.Added,10:N0}{t.Removed,10:N0}{t.Changed,10:N0}"));
        }

        var differences = outcome.Difference.Sum(t => t.Differences);
        await output.WriteLineAsync(differences == 0
            ? "No difference: every row of the rebuild equals the live one."
            : string.Create(CultureInfo.InvariantCulture, $"{differences:N0} rows differ."));
        return 0;
    }

    private static async Task PrintSummaryAsync(TextWriter output, ReplaySettings settings, ReplayOutcome outcome)
    {
        var rate = outcome.Consumed / Math.Max(outcome.Elapsed.TotalSeconds, 0.001);
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"Replayed {outcome.Consumed:N0} events in {outcome.Elapsed.TotalSeconds:N1} s ({rate:N0} events/s): {outcome.Valid:N0} silver + {outcome.Quarantined:N0} quarantined + {outcome.Duplicates:N0} duplicates; " +
            $"committed through {ReplayRunner.Positions(outcome.Positions)} (partition:next offset)."));
        var difference = outcome.Difference;
        await output.WriteLineAsync(settings.DryRun
            ? "Dry run: nothing visible was written. Difference the rebuild would make against the live generation (rows keyed by source partition and offset, over the range both hold):"
            : string.Create(CultureInfo.InvariantCulture, $"Generation {outcome.Generation} ({outcome.Root}) is live. Difference against the previous generation (rows keyed by source partition and offset, over the range both hold):"));
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {"table",-16}{"before",12}{"after",12}{"added",10}{"removed",10}{"changed",10}"));
        foreach (var t in difference.Tables)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {t.Table,-16}{t.Before,12:N0}{t.After,12:N0}{t.Added,10:N0}{t.Removed,10:N0}{t.Changed,10:N0}"));
        }

        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {"quarantine reason",-28}{"before",12}{"after",12}{"difference",12}"));
        foreach (var r in difference.Reasons)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {r.Reason,-28}{r.Before,12:N0}{r.After,12:N0}{r.Delta,12:+#,0;-#,0;0}"));
        }

        await output.WriteLineAsync(difference.Differences == 0
            ? "No difference: every row of the rebuild equals the live one."
            : string.Create(CultureInfo.InvariantCulture, $"{difference.Differences:N0} rows differ."));
        if (!settings.DryRun)
        {
            await output.WriteLineAsync("A running cleansing follows the switch within Cleansing:GenerationPollInterval (5 s) and continues in the new generation; a running aggregator sees it at its next round, rebuilds gold from it into a new gold generation and switches, and the sink then reconciles the warehouse to that gold. With no aggregator running, run baloyi replay --layer gold.");
        }
    }
}
