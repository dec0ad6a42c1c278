using System.Diagnostics;

namespace BaloyiBank.ServiceDefaults;

/// <summary>
/// How batch spans choose their links: sampled contexts first, then the others, at most <see cref="MaxLinks"/> (the
/// OpenTelemetry SDK's default span link limit, <c>OTEL_SPAN_LINK_COUNT_LIMIT</c> = 128, beyond which links are dropped
/// anyway). A link to an unsampled span points at nothing any backend holds, so it is only kept when there is room.
/// </summary>
public static class TraceLinks
{
    public const int MaxLinks = 128;

    /// <summary>
    /// Up to <paramref name="max"/> links from <paramref name="sources"/>, sampled first, taken round-robin over the
    /// sources (e.g. partitions) so that one busy partition does not take every link; duplicates dropped.
    /// </summary>
    public static List<ActivityLink> Choose(IEnumerable<IReadOnlyList<ActivityContext>> sources, int max = MaxLinks)
    {
        ArgumentNullException.ThrowIfNull(sources);
        var lists = sources.ToList();
        List<ActivityLink> links = [];
        HashSet<ActivitySpanId> seen = [];
        foreach (var sampled in (bool[])[true, false])
        {
            var positions = new int[lists.Count];
            bool more;
            do
            {
                more = false;
                for (var i = 0; i < lists.Count && links.Count < max; i++)
                {
                    var list = lists[i];
                    while (positions[i] < list.Count)
                    {
                        var context = list[positions[i]++];
                        if (IsSampled(context) == sampled && context.TraceId != default && seen.Add(context.SpanId))
                        {
                            links.Add(new ActivityLink(context));
                            more = true;
                            break;
                        }
                    }
                }
            }
            while (more && links.Count < max);
        }

        return links;
    }

    public static bool IsSampled(ActivityContext context) => context.TraceFlags.HasFlag(ActivityTraceFlags.Recorded);

    /// <summary>Parses W3C <c>traceparent</c> values (e.g. from a commit's record); unparsable ones are skipped.</summary>
    public static IEnumerable<ActivityContext> Parse(IEnumerable<string> traceparents)
    {
        ArgumentNullException.ThrowIfNull(traceparents);
        foreach (var value in traceparents)
        {
            if (ActivityContext.TryParse(value, null, isRemote: true, out var context))
            {
                yield return context;
            }
        }
    }
}

/// <summary>
/// A bounded set of trace contexts a component collects between batches (e.g. the control messages that woke a
/// worker): sampled ones are kept first, so a full set drops unsampled contexts before sampled ones. Thread-safe.
/// </summary>
public sealed class TraceContextBag(int capacity = TraceLinks.MaxLinks)
{
    private readonly Lock _gate = new();
    private List<ActivityContext> _contexts = [];

    public void Add(ActivityContext context)
    {
        if (context.TraceId == default)
        {
            return;
        }

        lock (_gate)
        {
            if (_contexts.Count < capacity)
            {
                _contexts.Add(context);
            }
            else if (TraceLinks.IsSampled(context) && _contexts.FindIndex(c => !TraceLinks.IsSampled(c)) is >= 0 and var unsampled)
            {
                _contexts[unsampled] = context;
            }
        }
    }

    /// <summary>Everything collected since the last call.</summary>
    public IReadOnlyList<ActivityContext> Drain()
    {
        lock (_gate)
        {
            var taken = _contexts;
            _contexts = [];
            return taken;
        }
    }
}
