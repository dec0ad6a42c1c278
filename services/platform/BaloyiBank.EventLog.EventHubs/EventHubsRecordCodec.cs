using Azure.Messaging.EventHubs;

namespace BaloyiBank.EventLog.EventHubs;

/// <summary>
/// An event-log record as an Event Hubs event: the value is the body, every header an application property (so
/// <c>traceparent</c> reaches any Event Hubs consumer), and the key one reserved application property (an event sent
/// to an explicit partition cannot carry an Event Hubs partition key).
/// </summary>
internal static class EventHubsRecordCodec
{
    public const string KeyProperty = "x-baloyi-key";

    public static EventData ToEventData(OutgoingEvent e)
    {
        var data = new EventData(e.Value);
        foreach (var (name, value) in e.Headers)
        {
            if (string.Equals(name, KeyProperty, StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"Header '{name}' is reserved by the Event Hubs event log for the record key; rename the header.", nameof(e));
            }

            if (!data.Properties.TryAdd(name, value))
            {
                throw new ArgumentException($"Header '{name}' appears twice on the event with key '{e.Key}'; Event Hubs application properties hold one value per name.", nameof(e));
            }
        }

        data.Properties[KeyProperty] = e.Key;
        return data;
    }

    public static LogRecord ToRecord(int partition, EventData data)
    {
        var key = string.Empty;
        var headers = new List<KeyValuePair<string, string>>(data.Properties.Count);
        foreach (var (name, value) in data.Properties)
        {
            if (name == KeyProperty)
            {
                key = value as string ?? string.Empty;
            }
            else
            {
                headers.Add(new(name, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty));
            }
        }

        return new LogRecord(
            partition,
            data.SequenceNumber,
            data.EnqueuedTime.ToUniversalTime(),
            key,
            data.EventBody.ToMemory(),
            headers.Count == 0 ? EventHeaders.Empty : new EventHeaders(headers));
    }
}
