using System.Diagnostics;
using System.Globalization;
using BaloyiBank.Generator;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Cli.Presentation;

/// <summary>Reads the running services' own progress objects into one <see cref="RunSnapshot"/>.</summary>
internal sealed class RunProgressSource(GeneratorProgress generator, GeneratorOptions options)
{
    private readonly Stopwatch _elapsed = Stopwatch.StartNew();

    public static RunProgressSource From(IServiceProvider services) =>
        new(services.GetRequiredService<GeneratorProgress>(), services.GetRequiredService<IOptions<GeneratorOptions>>().Value);

    public string Description() => string.Create(CultureInfo.InvariantCulture,
        $"seed {options.Seed} · simulated start {options.Start:yyyy-MM-ddTHH:mm:ss}Z · rate {(options.Rate is > 0 ? options.Rate.ToString("N0", CultureInfo.InvariantCulture) + "/s" : "unlimited")}");

    public RunSnapshot Snapshot()
    {
        var s = generator.Snapshot();
        var elapsed = _elapsed.Elapsed;
        return new RunSnapshot(
            Generated: s.Generated,
            Appended: s.Appended,
            CatchUp: s.CatchUp,
            // While running: the worker's recent rate; at the end: the whole run's average.
            EventsPerSecond: s.IsFinished && elapsed > TimeSpan.Zero ? s.Appended / elapsed.TotalSeconds : s.EventsPerSecond,
            Elapsed: elapsed,
            SimulatedFrom: options.Start,
            SimulatedClock: s.SimulatedClock,
            ByKind: EventKinds.All.ToDictionary(EventKinds.Name, k => s.GeneratedByKind.GetValueOrDefault(k)),
            ByType: s.GeneratedByType,
            NextOffsets: [.. s.LastAcknowledgedOffsets.Select(o => o < 0 ? -1 : o + 1)],
            Error: s.Failure);
    }
}
