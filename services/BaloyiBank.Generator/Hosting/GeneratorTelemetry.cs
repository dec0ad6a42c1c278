using System.Diagnostics;
using System.Diagnostics.Metrics;
using BaloyiBank.ServiceDefaults;

namespace BaloyiBank.Generator;

/// <summary>
/// The generator's spans and metrics. Spans follow the OpenTelemetry messaging conventions: a
/// <c>create</c> span per event (only when someone listens; its context travels in the event's
/// headers) and a <c>send</c> span per append batch linked to them.
/// </summary>
public sealed class GeneratorTelemetry : IDisposable
{
    public const string Name = Telemetry.SourcePrefix + "Generator";

    /// <summary>The messaging.system value: the product's event-log port, whatever backend sits behind it.</summary>
    public const string MessagingSystem = "baloyibank.eventlog";

    public static readonly ActivitySource Source = new(Name);

    private readonly Meter _meter;

    public GeneratorTelemetry(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(Name);
        Events = _meter.CreateCounter<long>("baloyibank.generator.events", "{event}", "Records appended by the generator, by kind and event type.");
        CatchUpEvents = _meter.CreateCounter<long>("baloyibank.generator.catch_up.events", "{event}", "Records below the resume point re-emitted after a partial write.");
        AppendDuration = _meter.CreateHistogram<double>("baloyibank.generator.append.duration", "s", "Time for one batch append to be acknowledged.");
    }

    internal Counter<long> Events { get; }
    internal Counter<long> CatchUpEvents { get; }
    internal Histogram<double> AppendDuration { get; }

    public void Dispose() => _meter.Dispose();
}
