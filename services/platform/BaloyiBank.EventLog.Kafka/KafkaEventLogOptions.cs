using System.Globalization;
using BaloyiBank.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace BaloyiBank.EventLog.Kafka;

/// <summary>
/// Where the Kafka protocol endpoint is and how the log uses it. Bound from "EventLog:EventHubs" for
/// <c>EventLog:Kind = eventhubs</c> and from "EventLog:Kafka" for <c>EventLog:Kind = kafka</c>
/// (environment variables use double underscores, e.g. <c>EventLog__EventHubs__ConnectionString</c>).
/// Event Hubs: give either <see cref="ConnectionString"/> (a secret: from the environment or a secret
/// store, never a committed file; never logged) or <see cref="FullyQualifiedNamespace"/> with an
/// Azure.Identity credential. Plain Kafka: <see cref="BootstrapServers"/>, optionally with SASL.
/// </summary>
public sealed class KafkaEventLogOptions
{
    public const string EventHubsSectionName = "EventLog:EventHubs";
    public const string KafkaSectionName = "EventLog:Kafka";

    /// <summary>
    /// An Event Hubs connection string, <c>Endpoint=sb://&lt;ns&gt;.servicebus.windows.net/;SharedAccessKeyName=…;SharedAccessKey=…</c>
    /// (namespace level, or hub level with <c>EntityPath</c> equal to <c>EventLog:Name</c>); the emulator's carries
    /// <c>UseDevelopmentEmulator=true</c>. Sent as the SASL PLAIN password of user <c>$ConnectionString</c>.
    /// </summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>The namespace host, <c>&lt;ns&gt;.servicebus.windows.net</c>, for a token credential (OAUTHBEARER) instead of a connection string.</summary>
    public string FullyQualifiedNamespace { get; set; } = "";

    /// <summary>With <see cref="FullyQualifiedNamespace"/>: managedidentity (ManagedIdentityCredential) or default (DefaultAzureCredential, the default).</summary>
    public string Credential { get; set; } = KafkaCredentialKinds.Default;

    /// <summary>Client id of a user-assigned managed identity; empty: the system-assigned one (or DefaultAzureCredential's choice).</summary>
    public string ManagedIdentityClientId { get; set; } = "";

    /// <summary>Plain Kafka: <c>host:port[,host:port…]</c>.</summary>
    public string BootstrapServers { get; set; } = "";

    /// <summary>Plain Kafka: plaintext (default), ssl, sasl_plaintext or sasl_ssl.</summary>
    public string SecurityProtocol { get; set; } = "";

    /// <summary>Plain Kafka with SASL: PLAIN (default), SCRAM-SHA-256 or SCRAM-SHA-512.</summary>
    public string SaslMechanism { get; set; } = "";

    /// <summary>Plain Kafka with SASL: the user.</summary>
    public string SaslUserName { get; set; } = "";

    /// <summary>Plain Kafka with SASL: the password (a secret: from the environment; never logged).</summary>
    public string SaslPassword { get; set; } = "";

    /// <summary>
    /// Create the topic with <c>EventLog:Partitions</c> partitions when it does not exist (default true). Event Hubs
    /// namespaces usually refuse this over Kafka: create the event hub with the Azure CLI, Bicep or the portal.
    /// </summary>
    public bool CreateTopic { get; set; } = true;

    /// <summary>Replication factor of a created topic; -1 (default) takes the broker's default.</summary>
    public short ReplicationFactor { get; set; } = -1;

    /// <summary>
    /// How long librdkafka keeps retrying (with its back-off) to deliver an appended event before the append fails
    /// (<c>message.timeout.ms</c>), default 30 s.
    /// </summary>
    public TimeSpan MessageTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the producer waits to fill a batch (<c>linger.ms</c>), default 5 ms.</summary>
    public TimeSpan Linger { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Largest batch per partition request (<c>batch.size</c>), default and maximum 1,000,000 bytes (Event Hubs' and a default Kafka broker's limit).</summary>
    public int BatchBytes { get; set; } = 1_000_000;

    /// <summary>Producer compression: none (default), gzip, snappy, lz4 or zstd. Check what your Event Hubs tier accepts before turning it on.</summary>
    public string Compression { get; set; } = "none";

    /// <summary>
    /// Time allowed for one metadata, offset or admin request, default 10 s. librdkafka keeps reconnecting (with its own
    /// back-off) within it, so an unreachable endpoint costs a whole RequestTimeout per attempt.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Attempts after the first failed open, describe or position lookup (Polly, exponential back-off with jitter), default 3:
    /// with the default RequestTimeout an unreachable endpoint is reported after about 40 s.
    /// </summary>
    public int RetryAttempts { get; set; } = 3;

    /// <summary>First retry delay, doubled per attempt up to <see cref="RetryMaxDelay"/>, default 0.2 s.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest delay between two retries, default 5 s.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest time a broker holds a reader's fetch open waiting for data (<c>fetch.wait.max.ms</c>), default 100 ms.</summary>
    public TimeSpan FetchMaxWait { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The <c>group.id</c> readers present, default <c>$Default</c> (Event Hubs' default consumer group). Readers assign
    /// partitions themselves and never join the group or commit offsets: progress lives in the lake's commits.
    /// </summary>
    public string ConsumerGroup { get; set; } = "$Default";

    /// <summary>The options with every secret replaced by ***, for logs and messages.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture,
            $"KafkaEventLogOptions {{ ConnectionString = {EventHubsConnectionString.Mask(ConnectionString)}, FullyQualifiedNamespace = {FullyQualifiedNamespace}, " +
            $"Credential = {Credential}, BootstrapServers = {BootstrapServers}, SecurityProtocol = {SecurityProtocol}, SaslMechanism = {SaslMechanism}, " +
            $"SaslUserName = {SaslUserName}, SaslPassword = {(string.IsNullOrEmpty(SaslPassword) ? "" : "***")} }}");
}

/// <summary>Values of <see cref="KafkaEventLogOptions.Credential"/>.</summary>
public static class KafkaCredentialKinds
{
    public const string ManagedIdentity = "managedidentity";
    public const string Default = "default";

    public static readonly IReadOnlyList<string> All = [ManagedIdentity, Default];
}

/// <summary>The event-log kinds this adapter serves.</summary>
public static class KafkaEventLogKinds
{
    /// <summary>Azure Event Hubs through its Kafka endpoint (<see cref="EventLogKinds.EventHubs"/>).</summary>
    public const string EventHubs = EventLogKinds.EventHubs;

    /// <summary>Any Kafka cluster reached by bootstrap servers.</summary>
    public const string Kafka = "kafka";

    public static string SectionOf(string kind) =>
        string.Equals(kind, Kafka, StringComparison.OrdinalIgnoreCase) ? KafkaEventLogOptions.KafkaSectionName : KafkaEventLogOptions.EventHubsSectionName;
}

/// <summary>
/// Checks "EventLog:EventHubs" (named options "eventhubs") or "EventLog:Kafka" (named "kafka") at start-up, only for the
/// kind <c>EventLog:Kind</c> chooses; every failure names the option, the problem and the fix, and never shows a secret.
/// </summary>
public sealed class KafkaEventLogOptionsValidator(IOptions<EventLogOptions> eventLog) : IValidateOptions<KafkaEventLogOptions>
{
    public ValidateOptionsResult Validate(string? name, KafkaEventLogOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var kind = eventLog.Value.Kind ?? "";
        if (name is null || !string.Equals(kind, name, StringComparison.OrdinalIgnoreCase))
        {
            return ValidateOptionsResult.Skip;
        }

        return Check(options, kind, eventLog.Value.Name).ToResult();
    }

    /// <summary>The checks themselves for <paramref name="kind"/> (eventhubs or kafka) and the log (hub) name.</summary>
    public static OptionProblems Check(KafkaEventLogOptions options, string kind, string logName)
    {
        ArgumentNullException.ThrowIfNull(options);
        var eventHubs = !string.Equals(kind, KafkaEventLogKinds.Kafka, StringComparison.OrdinalIgnoreCase);
        var section = KafkaEventLogKinds.SectionOf(kind);
        var env = section.Replace(":", "__", StringComparison.Ordinal);
        var problems = new OptionProblems(section);
        var hasConnectionString = !string.IsNullOrWhiteSpace(options.ConnectionString);
        var hasNamespace = !string.IsNullOrWhiteSpace(options.FullyQualifiedNamespace);
        var hasBootstrap = !string.IsNullOrWhiteSpace(options.BootstrapServers);
        if (eventHubs)
        {
            problems.Require(hasConnectionString != hasNamespace, hasConnectionString ? "FullyQualifiedNamespace" : "ConnectionString",
                hasConnectionString ? "cannot be set together with ConnectionString (value not shown)" : "or FullyQualifiedNamespace must be set (got neither)",
                $"set {env}__ConnectionString from a secret store, or {env}__FullyQualifiedNamespace=<ns>.servicebus.windows.net to use a managed identity");
            problems.Require(!hasBootstrap, "BootstrapServers", $"is for plain Kafka (got '{options.BootstrapServers}')",
                "remove it and use ConnectionString or FullyQualifiedNamespace, or set EventLog__Kind=kafka with EventLog__Kafka__BootstrapServers");
            if (hasConnectionString)
            {
                var parsed = EventHubsConnectionString.TryParse(options.ConnectionString, out var connection, out var why);
                problems.Require(parsed, "ConnectionString", $"is not a usable Event Hubs connection string: {why} (value not shown)",
                    "copy it from the namespace's Shared access policies (Endpoint=sb://<ns>.servicebus.windows.net/;SharedAccessKeyName=…;SharedAccessKey=…)");
                if (parsed && connection!.EntityPath is { Length: > 0 } entity)
                {
                    problems.Require(string.Equals(entity, logName, StringComparison.Ordinal), "ConnectionString",
                        $"is scoped to event hub '{entity}' (EntityPath) but EventLog:Name is '{logName}'",
                        $"set EventLog__Name={entity}, or use a namespace-level connection string");
                }
            }

            if (hasNamespace)
            {
                var host = options.FullyQualifiedNamespace.Trim();
                problems.Require(Uri.CheckHostName(host) == UriHostNameType.Dns && host.Contains('.', StringComparison.Ordinal), "FullyQualifiedNamespace",
                    $"must be a host name like <ns>.servicebus.windows.net, without scheme, path or port (got '{host}')",
                    $"set {env}__FullyQualifiedNamespace, e.g. to baloyi-prod.servicebus.windows.net");
                problems.Require(KafkaCredentialKinds.All.Contains((options.Credential ?? "").Trim().ToLowerInvariant()), "Credential",
                    $"must be one of {string.Join(", ", KafkaCredentialKinds.All)} (got '{options.Credential}')",
                    $"set {env}__Credential to managedidentity (in Azure) or default (DefaultAzureCredential: developer sign-in, workload identity, managed identity)");
            }
        }
        else
        {
            problems.Require(hasBootstrap && BootstrapListIsValid(options.BootstrapServers), "BootstrapServers",
                hasBootstrap ? $"must be host:port[,host:port…] (got '{options.BootstrapServers}')" : "must name the Kafka brokers (got nothing)",
                $"set {env}__BootstrapServers, e.g. to kafka-1.example:9092,kafka-2.example:9092");
            problems.Require(!hasConnectionString && !hasNamespace, hasConnectionString ? "ConnectionString" : "FullyQualifiedNamespace",
                "is for Event Hubs (value not shown)", "set EventLog__Kind=eventhubs and move it to EventLog:EventHubs, or remove it");
            // Event Hubs' Kafka endpoint takes a connection string as the SASL password of $ConnectionString: Event Hubs goes through kind eventhubs now.
            var saslIsEventHubs = string.Equals(options.SaslUserName?.Trim(), KafkaConnection.ConnectionStringUser, StringComparison.OrdinalIgnoreCase)
                || (options.SaslPassword ?? "").TrimStart().StartsWith("Endpoint=sb://", StringComparison.OrdinalIgnoreCase);
            problems.Require(!saslIsEventHubs, "SaslPassword",
                "is an Event Hubs connection string (value not shown); Event Hubs is served by EventLog:Kind eventhubs through Azure.Messaging.EventHubs, not by the Kafka backend",
                "set EventLog__Kind=eventhubs and EventLog__EventHubs__ConnectionString instead, and remove EventLog__Kafka__SaslUserName/SaslPassword");
            var protocol = (options.SecurityProtocol ?? "").Trim().ToLowerInvariant();
            problems.Require(protocol is "" or "plaintext" or "ssl" or "sasl_plaintext" or "sasl_ssl", "SecurityProtocol",
                $"must be plaintext, ssl, sasl_plaintext or sasl_ssl (got '{options.SecurityProtocol}')", $"set {env}__SecurityProtocol, or leave it empty for plaintext");
            var mechanism = (options.SaslMechanism ?? "").Trim().ToUpperInvariant();
            problems.Require(mechanism is "" or "PLAIN" or "SCRAM-SHA-256" or "SCRAM-SHA-512", "SaslMechanism",
                $"must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (got '{options.SaslMechanism}')", $"set {env}__SaslMechanism, or leave it empty for PLAIN");
            if (protocol.StartsWith("sasl", StringComparison.Ordinal))
            {
                problems.Require(!string.IsNullOrEmpty(options.SaslUserName) && !string.IsNullOrEmpty(options.SaslPassword), "SaslUserName",
                    $"and SaslPassword are needed with SecurityProtocol {protocol} (got {(string.IsNullOrEmpty(options.SaslUserName) ? "no user" : "a user")}, {(string.IsNullOrEmpty(options.SaslPassword) ? "no password" : "a password")})",
                    $"set {env}__SaslUserName and {env}__SaslPassword (the password from a secret store)");
            }
        }

        var compression = (options.Compression ?? "").Trim().ToLowerInvariant();
        return problems
            .Require(compression is "none" or "gzip" or "snappy" or "lz4" or "zstd", "Compression",
                $"must be none, gzip, snappy, lz4 or zstd (got '{options.Compression}')", $"set {env}__Compression, e.g. to none")
            .Require(options.ReplicationFactor == -1 || options.ReplicationFactor is >= 1 and <= 32, "ReplicationFactor",
                $"must be -1 (the broker's default) or between 1 and 32 (got {options.ReplicationFactor})", $"set {env}__ReplicationFactor, e.g. to 3")
            .Require(options.MessageTimeout >= TimeSpan.FromMilliseconds(100) && options.MessageTimeout <= TimeSpan.FromHours(1), "MessageTimeout",
                $"must be between 00:00:00.1 and 01:00:00 (got {options.MessageTimeout})", $"set {env}__MessageTimeout, e.g. to 00:00:30")
            .Require(options.Linger >= TimeSpan.Zero && options.Linger <= TimeSpan.FromSeconds(5), "Linger",
                $"must be between 00:00:00 and 00:00:05 (got {options.Linger})", $"set {env}__Linger, e.g. to 00:00:00.005")
            .Require(options.BatchBytes is >= 1024 and <= 1_000_000, "BatchBytes",
                string.Create(CultureInfo.InvariantCulture, $"must be between 1024 and 1000000, the largest request Event Hubs and a default Kafka broker accept (got {options.BatchBytes})"),
                $"set {env}__BatchBytes, e.g. to 1000000")
            .Require(options.RequestTimeout >= TimeSpan.FromMilliseconds(100) && options.RequestTimeout <= TimeSpan.FromMinutes(10), "RequestTimeout",
                $"must be between 00:00:00.1 and 00:10:00 (got {options.RequestTimeout})", $"set {env}__RequestTimeout, e.g. to 00:00:10")
            .Require(options.RetryAttempts is >= 0 and <= 1000, "RetryAttempts",
                $"must be between 0 and 1000 (got {options.RetryAttempts})", $"set {env}__RetryAttempts, e.g. to 3")
            .Require(options.RetryBaseDelay > TimeSpan.Zero && options.RetryBaseDelay <= options.RetryMaxDelay, "RetryBaseDelay",
                $"must be above 0 and at most RetryMaxDelay {options.RetryMaxDelay} (got {options.RetryBaseDelay})", $"set {env}__RetryBaseDelay, e.g. to 00:00:00.200")
            .Require(options.RetryMaxDelay > TimeSpan.Zero && options.RetryMaxDelay <= TimeSpan.FromMinutes(5), "RetryMaxDelay",
                $"must be above 0 and at most 00:05:00 (got {options.RetryMaxDelay})", $"set {env}__RetryMaxDelay, e.g. to 00:00:05")
            .Require(options.FetchMaxWait >= TimeSpan.Zero && options.FetchMaxWait <= TimeSpan.FromSeconds(30), "FetchMaxWait",
                $"must be between 00:00:00 and 00:00:30 (got {options.FetchMaxWait})", $"set {env}__FetchMaxWait, e.g. to 00:00:00.100")
            .Require(!string.IsNullOrWhiteSpace(options.ConsumerGroup), "ConsumerGroup",
                "must name a consumer group (got nothing)", $"set {env}__ConsumerGroup, e.g. to $Default");
    }

    private static bool BootstrapListIsValid(string servers) =>
        servers.Split(',', StringSplitOptions.TrimEntries).All(server =>
        {
            var colon = server.LastIndexOf(':');
            return colon > 0
                && int.TryParse(server.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 1 and <= 65535
                && Uri.CheckHostName(server[..colon].Trim('[', ']')) != UriHostNameType.Unknown;
        });
}
