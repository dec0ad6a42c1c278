using System.Diagnostics;
using System.Globalization;
using BaloyiBank.Cleansing;
using BaloyiBank.Generator;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Cli.Presentation;

/// <summary>Reads the running services' own progress objects into one <see cref="RunSnapshot"/>.</summary>
internal sealed class RunProgressSource(GeneratorProgress? generator, GeneratorOptions options, CleansingProgress? cleansing)
{
    private readonly Stopwatch _elapsed = Stopwatch.StartNew();
    private TimeSpan? _generatorDoneAfter;

    public static RunProgressSource From(IServiceProvider services) =>
        new(services.GetService<GeneratorProgress>(), services.GetService<IOptions<GeneratorOptions>>()?.Value ?? new GeneratorOptions(), services.GetService<CleansingProgress>());

    public string Description() => generator is null ? "no generator: the pipeline processes what the log holds, then stops" : string.Create(CultureInfo.InvariantCulture,
        $"seed {options.Seed} · simulated start {options.Start:yyyy-MM-ddTHH:mm:ss}Z · rate {(options.Rate is > 0 ? options.Rate.ToString("N0", CultureInfo.InvariantCulture) + "/s" : "unlimited")}");

    public RunSnapshot Snapshot()
    {
        if (generator is null)
        {
            return new RunSnapshot(0, 0, 0, 0, _elapsed.Elapsed, null, null, new Dictionary<string, long>(), new Dictionary<string, long>(), [],
                cleansing is null ? null : new CleansingSnapshot(cleansing.Consumed, cleansing.Valid, cleansing.Quarantined, cleansing.Duplicates,
                    cleansing.BatchesCommitted, cleansing.Lag, cleansing.QuarantinedByReason.ToDictionary(), []),
                cleansing?.Failure);
        }

        var s = generator.Snapshot();
        var elapsed = _elapsed.Elapsed;
        if (s.IsFinished)
        {
            // The generator's own rate: its time, not the time cleansing then takes to drain the log.
            _generatorDoneAfter ??= elapsed;
        }

        var generatorElapsed = _generatorDoneAfter ?? elapsed;
        return new RunSnapshot(
            Generated: s.Generated,
            Appended: s.Appended,
            CatchUp: s.CatchUp,
            // While running: the worker's recent rate; at the end: the whole run's average.
            EventsPerSecond: s.IsFinished && generatorElapsed > TimeSpan.Zero ? s.Appended / generatorElapsed.TotalSeconds : s.EventsPerSecond,
            Elapsed: elapsed,
            SimulatedFrom: options.Start,
            SimulatedClock: s.SimulatedClock,
            ByKind: EventKinds.All.ToDictionary(EventKinds.Name, k => s.GeneratedByKind.GetValueOrDefault(k)),
            ByType: s.GeneratedByType,
            NextOffsets: [.. s.LastAcknowledgedOffsets.Select(o => o < 0 ? -1 : o + 1)],
            Cleansing: cleansing is null ? null : Cleansing(cleansing, s),
            Error: s.Failure ?? cleansing?.Failure);
    }

    private static CleansingSnapshot Cleansing(CleansingProgress c, GeneratorProgressSnapshot g)
    {
        var byReason = c.QuarantinedByReason.ToDictionary();
        var reconciliation = new List<KindReconciliation>();
        var validGenerated = 0L;
        foreach (var kind in EventKinds.All)
        {
            var name = EventKinds.Name(kind);
            var generated = g.GeneratedByKind.GetValueOrDefault(kind);
            var expected = QuarantineReasons.ForGeneratorKind(name);
            switch (expected.Kind)
            {
                case OutcomeKind.Valid:
                    validGenerated += generated;
                    break;
                case OutcomeKind.Duplicate:
                    reconciliation.Add(new(name, generated, "duplicate", c.Duplicates));
                    break;
                default:
                    reconciliation.Add(new(name, generated, "quarantined as " + string.Join(" or ", expected.Reasons.Order(StringComparer.Ordinal)),
                        expected.Reasons.Sum(r => byReason.GetValueOrDefault(r))));
                    break;
            }
        }

        reconciliation.Insert(0, new("clean + late", validGenerated, "silver", c.Valid));
        return new CleansingSnapshot(c.Consumed, c.Valid, c.Quarantined, c.Duplicates, c.BatchesCommitted, c.Lag, byReason, reconciliation);
    }
}
