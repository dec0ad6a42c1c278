using System.Diagnostics;
using OpenTelemetry.Trace;

namespace BaloyiBank.ServiceDefaults;

/// <summary>
/// Samples whole event journeys. A span with a parent follows the parent's decision (so one event's hops are kept or
/// dropped together); a span without a parent but with links (a batch span: a cleansing flush, a gold round, a sink
/// load) is recorded when any link is to a sampled span, so a sampled event's story never breaks at a batch; any other
/// new trace is kept with probability <c>ratio</c> (by trace id, like <see cref="TraceIdRatioBasedSampler"/>).
/// </summary>
/// <remarks>
/// Cost: the batch spans of a flush, round or load that holds at least one sampled event are always recorded, so at
/// ratio r and n events per batch a batch span is recorded with probability 1 − (1 − r)^n: at 1 % and 200,000 events a
/// flush, every flush. That is one span (plus its lake write spans) per flush, round and load: a few per second at
/// most, against the per-event spans the ratio thins out.
/// </remarks>
public sealed class JourneySampler(double ratio) : Sampler
{
    private readonly TraceIdRatioBasedSampler _roots = new(ratio);

    public double Ratio { get; } = ratio;

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters)
    {
        var parent = samplingParameters.ParentContext;
        if (parent.TraceId != default)
        {
            return new(parent.TraceFlags.HasFlag(ActivityTraceFlags.Recorded) ? SamplingDecision.RecordAndSample : SamplingDecision.Drop);
        }

        if (samplingParameters.Links is { } links)
        {
            foreach (var link in links)
            {
                if (link.Context.TraceFlags.HasFlag(ActivityTraceFlags.Recorded))
                {
                    return new(SamplingDecision.RecordAndSample);
                }
            }
        }

        return _roots.ShouldSample(samplingParameters);
    }
}
