using System.Globalization;
using Azure.Core;
using Azure.Identity;
using Azure.Messaging.EventHubs;
using Microsoft.Extensions.Options;

namespace BaloyiBank.EventLog.EventHubs;

/// <summary>
/// How to reach the Event Hubs namespace (the "EventLog:EventHubs" settings; environment variables use double
/// underscores, e.g. <c>EventLog__EventHubs__ConnectionString</c>). Either a connection string, or a fully qualified
/// namespace with an Azure.Identity credential (<c>DefaultAzureCredential</c>, or a managed identity in Azure; it needs
/// the roles "Azure Event Hubs Data Sender" and "Azure Event Hubs Data Receiver").
/// </summary>
public sealed class EventHubsEventLogOptions
{
    public const string SectionName = "EventLog:EventHubs";

    /// <summary>A namespace or hub connection string; its EntityPath, if any, must be the log's name. A secret: never logged.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>e.g. <c>bank.servicebus.windows.net</c>; used with <see cref="Credential"/> when no connection string is set.</summary>
    public string? FullyQualifiedNamespace { get; set; }

    /// <summary>With <see cref="FullyQualifiedNamespace"/>: default (DefaultAzureCredential, the default) or managedidentity (ManagedIdentityCredential).</summary>
    public string Credential { get; set; } = EventHubsCredentialKinds.Default;

    /// <summary>Client id of a user-assigned managed identity; empty: the system-assigned one (or DefaultAzureCredential's choice).</summary>
    public string? ManagedIdentityClientId { get; set; }

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

    /// <summary>The Azure.Identity credential <see cref="Credential"/> names (no token is asked for here).</summary>
    internal TokenCredential CreateCredential()
    {
        var clientId = string.IsNullOrWhiteSpace(ManagedIdentityClientId) ? null : ManagedIdentityClientId.Trim();
        return (Credential ?? "").Trim().ToLowerInvariant() switch
        {
            EventHubsCredentialKinds.ManagedIdentity => new ManagedIdentityCredential(
                clientId is null ? ManagedIdentityId.SystemAssigned : ManagedIdentityId.FromUserAssignedClientId(clientId)),
            _ => new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = clientId }),
        };
    }

    /// <summary>Where this connects, for logs and messages: the endpoint (or namespace) and hub, never a key.</summary>
    public string Describe(string hubName)
    {
        if (!string.IsNullOrWhiteSpace(ConnectionString))
        {
            try
            {
                var endpoint = EventHubsConnectionStringProperties.Parse(ConnectionString).Endpoint;
                return string.Create(CultureInfo.InvariantCulture, $"Event Hub '{hubName}' at {endpoint?.Host}{(endpoint is { IsDefaultPort: false } e ? ":" + e.Port.ToString(CultureInfo.InvariantCulture) : "")} (connection string, key not shown)");
            }
            catch (FormatException)
            {
                return $"Event Hub '{hubName}' (connection string not shown)";
            }
        }

        return $"Event Hub '{hubName}' at {FullyQualifiedNamespace} ({Credential} credential)";
    }

    /// <summary>The options without secrets: the connection string is never shown.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture,
            $"EventHubsEventLogOptions {{ ConnectionString = {(string.IsNullOrEmpty(ConnectionString) ? "" : "***")}, FullyQualifiedNamespace = {FullyQualifiedNamespace}, " +
            $"Credential = {Credential}, ConsumerGroup = {ConsumerGroup}, PrefetchCount = {PrefetchCount}, TryTimeout = {TryTimeout}, MaximumRetries = {MaximumRetries} }}");

    /// <summary>Every problem with these settings, one line each, naming the setting and the fix; never showing a key.</summary>
    public IReadOnlyList<string> Validate(string hubName)
    {
        var failures = new List<string>();
        var hasConnectionString = !string.IsNullOrWhiteSpace(ConnectionString);
        var hasNamespace = !string.IsNullOrWhiteSpace(FullyQualifiedNamespace);
        if (hasConnectionString == hasNamespace)
        {
            failures.Add(
                $"EventLog:EventHubs: set exactly one of ConnectionString or FullyQualifiedNamespace (got {(hasConnectionString ? "both" : "neither")}). " +
                "Fix: set EventLog__EventHubs__ConnectionString from a secret store (the namespace's Shared access policies), " +
                "or EventLog__EventHubs__FullyQualifiedNamespace=<ns>.servicebus.windows.net to sign in with DefaultAzureCredential or a managed identity.");
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
                        "EventLog:EventHubs:ConnectionString is not an Event Hubs connection string (value not shown): it needs Endpoint=sb://<namespace>.servicebus.windows.net/ " +
                        "and SharedAccessKeyName + SharedAccessKey (or SharedAccessSignature). Fix: copy it from the namespace's Shared access policies.");
                }

                if (properties.EventHubName is { Length: > 0 } entity && !string.Equals(entity, hubName, StringComparison.OrdinalIgnoreCase))
                {
                    failures.Add($"EventLog:EventHubs:ConnectionString is scoped to event hub '{entity}' (EntityPath) but EventLog:Name is '{hubName}'. Fix: set EventLog__Name={entity}, or use a namespace connection string (no EntityPath).");
                }
            }
            catch (FormatException)
            {
                // The parser's message may quote the value: say only what is expected.
                failures.Add("EventLog:EventHubs:ConnectionString is not an Event Hubs connection string (value not shown). Fix: copy it from the namespace's Shared access policies: Endpoint=sb://<ns>.servicebus.windows.net/;SharedAccessKeyName=…;SharedAccessKey=….");
            }
        }

        if (hasNamespace)
        {
            var host = FullyQualifiedNamespace!.Trim();
            if (Uri.CheckHostName(host) != UriHostNameType.Dns || !host.Contains('.', StringComparison.Ordinal))
            {
                failures.Add($"EventLog:EventHubs:FullyQualifiedNamespace must be a host name such as bank.servicebus.windows.net, without scheme, path or port (got '{FullyQualifiedNamespace}'). Fix: set EventLog__EventHubs__FullyQualifiedNamespace.");
            }

            if (!EventHubsCredentialKinds.All.Contains((Credential ?? "").Trim().ToLowerInvariant()))
            {
                failures.Add($"EventLog:EventHubs:Credential must be one of {string.Join(", ", EventHubsCredentialKinds.All)} (got '{Credential}'). Fix: set EventLog__EventHubs__Credential to managedidentity (in Azure) or default (DefaultAzureCredential).");
            }
        }

        if (string.IsNullOrWhiteSpace(ConsumerGroup))
        {
            failures.Add("EventLog:EventHubs:ConsumerGroup must name a consumer group of the hub (got nothing). Fix: set EventLog__EventHubs__ConsumerGroup, e.g. to $Default.");
        }

        if (PrefetchCount is < 1 or > 10_000)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"EventLog:EventHubs:PrefetchCount must be 1-10000 (got {PrefetchCount}). Fix: set EventLog__EventHubs__PrefetchCount, e.g. to 300 (the SDK's default)."));
        }

        if (TryTimeout <= TimeSpan.Zero)
        {
            failures.Add($"EventLog:EventHubs:TryTimeout must be positive (got {TryTimeout}). Fix: set EventLog__EventHubs__TryTimeout, e.g. to 00:01:00.");
        }

        if (MaximumRetries is < 0 or > 100)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"EventLog:EventHubs:MaximumRetries must be 0-100 (got {MaximumRetries}). Fix: set EventLog__EventHubs__MaximumRetries, e.g. to 3."));
        }

        return failures;
    }
}

/// <summary>Values of <see cref="EventHubsEventLogOptions.Credential"/>.</summary>
public static class EventHubsCredentialKinds
{
    public const string Default = "default";
    public const string ManagedIdentity = "managedidentity";

    public static readonly IReadOnlyList<string> All = [Default, ManagedIdentity];
}

/// <summary>Checks "EventLog:EventHubs" at start-up when <c>EventLog:Kind</c> is eventhubs; every failure names the option and the fix.</summary>
public sealed class EventHubsEventLogOptionsValidator(IOptions<EventLogOptions> eventLog) : IValidateOptions<EventHubsEventLogOptions>
{
    public ValidateOptionsResult Validate(string? name, EventHubsEventLogOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!string.Equals(eventLog.Value.Kind, EventLogKinds.EventHubs, StringComparison.OrdinalIgnoreCase))
        {
            return ValidateOptionsResult.Skip;
        }

        var failures = options.Validate(eventLog.Value.Name ?? "");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
