namespace BaloyiBank.EventLog;

/// <summary>
/// Record headers: W3C trace context (<c>traceparent</c>, <c>tracestate</c>), content type and
/// producer metadata. Small ordered string pairs, as AMQP and Kafka headers are.
/// </summary>
public sealed class EventHeaders : IReadOnlyList<KeyValuePair<string, string>>
{
    public const string TraceParent = "traceparent";
    public const string TraceState = "tracestate";
    public const string ContentType = "content-type";

    private readonly KeyValuePair<string, string>[] _pairs;

    public static EventHeaders Empty { get; } = new([]);

    public EventHeaders(params KeyValuePair<string, string>[] pairs) => _pairs = pairs;

    public EventHeaders(IEnumerable<KeyValuePair<string, string>> pairs) => _pairs = [.. pairs];

    public int Count => _pairs.Length;

    public KeyValuePair<string, string> this[int index] => _pairs[index];

    /// <summary>The first value of a header (case-insensitive name), or null.</summary>
    public string? this[string name]
    {
        get
        {
            foreach (var pair in _pairs)
            {
                if (string.Equals(pair.Key, name, StringComparison.OrdinalIgnoreCase))
                {
                    return pair.Value;
                }
            }

            return null;
        }
    }

    public EventHeaders With(string name, string value) => new([.. _pairs, new(name, value)]);

    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, string>>)_pairs).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
