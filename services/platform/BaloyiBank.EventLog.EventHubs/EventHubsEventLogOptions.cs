using Azure.Messaging.EventHubs;

namespace BaloyiBank.EventLog.EventHubs;

/// <summary>
/// How to reach the Event Hubs namespace (the "EventLog:EventHubs" settings). Either a connection string, or a
/// fully qualified namespace with Azure.Identity's <c>DefaultAzureCredential</c> (managed identity in Azure; needs
/// the roles "Azure Event Hubs Data Sender" and "Azure Event Hubs Data Receiver").
/// </summary>
public sealed class EventHubsEventLogOptions
{
    /// <summary>A namespace or hub connection string; its EntityPath, if any, must be the log's name. A secret: never logged.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>e.g. <c>bank.servicebus.windows.net</c>; used with DefaultAzureCredential when no connection string is set.</summary>
    public string? FullyQualifiedNamespace { get; set; }

    /// <summary>The consumer group partition readers read in, default <c>$Default</c>.</summary>
    public string ConsumerGroup { get; set; } = "$Default";

    /// <summary>Events a partition reader fetches ahead of the caller, default 300 (the SDK's default).</summary>
    public int PrefetchCount { get; set; } = 300;

    /// <summary>How long one service operation may take before it is retried, default 60 s (the SDK's default).</summary>
    public TimeSpan TryTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Retries of a failed service operation, default 3 (the SDK's default).</summary>
    public int MaximumRetries { get; set; } = 3;

    internal EventHubsRetryOptions RetryOptions() => new()
    {
        MaximumRetries = MaximumRetries,
        TryTimeout = TryTimeout,
        Mode = EventHubsRetryMode.Exponential,
    };

    /// <summary>Every problem with these settings, each naming the setting and the fix.</summary>
    public IReadOnlyList<string> Validate(string hubName)
    {
        var failures = new List<string>();
        var hasConnectionString = !string.IsNullOrWhiteSpace(ConnectionString);
        var hasNamespace = !string.IsNullOrWhiteSpace(FullyQualifiedNamespace);
        if (hasConnectionString == hasNamespace)
        {
            failures.Add(
                "Set exactly one of EventLog:EventHubs:ConnectionString (EventLog__EventHubs__ConnectionString, from the namespace's " +
                "Shared access policies) or EventLog:EventHubs:FullyQualifiedNamespace (e.g. bank.servicebus.windows.net, signed in " +
                $"with DefaultAzureCredential) (got {(hasConnectionString ? "both" : "neither")}).");
        }

        if (hasConnectionString)
        {
            try
            {
                var properties = EventHubsConnectionStringProperties.Parse(ConnectionString!);
                var hasKey = !string.IsNullOrEmpty(properties.SharedAccessKeyName) && !string.IsNullOrEmpty(properties.SharedAccessKey);
                if (properties.Endpoint is null || !(hasKey || !string.IsNullOrEmpty(properties.SharedAccessSignature)))
                {
                    failures.Add(
                        "EventLog:EventHubs:ConnectionString is not an Event Hubs connection string: it needs Endpoint=sb://<namespace>.servicebus.windows.net/ " +
                        "and SharedAccessKeyName + SharedAccessKey (or SharedAccessSignature). Copy it from the namespace's Shared access policies.");
                }

                if (properties.EventHubName is { Length: > 0 } entity && !string.Equals(entity, hubName, StringComparison.OrdinalIgnoreCase))
                {
                    failures.Add($"The connection string's EntityPath is '{entity}' but EventLog:Name is '{hubName}'. Use the namespace connection string (no EntityPath) or set EventLog__Name={entity}.");
                }
            }
            catch (FormatException ex)
            {
                // The parser's message names the missing part, never the key.
                failures.Add($"EventLog:EventHubs:ConnectionString is not an Event Hubs connection string: {ex.Message} Copy it from the namespace's Shared access policies.");
            }
        }

        if (hasNamespace && (FullyQualifiedNamespace!.Contains("://", StringComparison.Ordinal) || FullyQualifiedNamespace.Contains('/', StringComparison.Ordinal)))
        {
            failures.Add($"EventLog:EventHubs:FullyQualifiedNamespace must be a host name such as bank.servicebus.windows.net (got '{FullyQualifiedNamespace}'): drop the scheme and path.");
        }

        if (string.IsNullOrWhiteSpace(ConsumerGroup))
        {
            failures.Add("EventLog:EventHubs:ConsumerGroup must name a consumer group of the hub, e.g. $Default.");
        }

        if (PrefetchCount is < 1 or > 10_000)
        {
            failures.Add($"EventLog:EventHubs:PrefetchCount must be 1-10000 (got {PrefetchCount}); 300 is the SDK's default.");
        }

        if (TryTimeout <= TimeSpan.Zero || MaximumRetries is < 0 or > 100)
        {
            failures.Add($"EventLog:EventHubs:TryTimeout must be positive and MaximumRetries 0-100 (got {TryTimeout} and {MaximumRetries}).");
        }

        return failures;
    }
}
