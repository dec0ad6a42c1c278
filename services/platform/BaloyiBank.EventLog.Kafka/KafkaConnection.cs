using System.Globalization;
using Confluent.Kafka;

namespace BaloyiBank.EventLog.Kafka;

/// <summary>The parts of an Event Hubs connection string this adapter uses. <see cref="ToString"/> hides the key.</summary>
public sealed class EventHubsConnectionString
{
    private EventHubsConnectionString(string endpointHost, int? endpointPort, string? entityPath, bool useDevelopmentEmulator)
    {
        EndpointHost = endpointHost;
        EndpointPort = endpointPort;
        EntityPath = entityPath;
        UseDevelopmentEmulator = useDevelopmentEmulator;
    }

    /// <summary>The namespace host from <c>Endpoint=sb://host/</c>.</summary>
    public string EndpointHost { get; }

    /// <summary>A port written in the endpoint (the emulator's, e.g. <c>sb://localhost:5672</c> is AMQP's, so it is ignored for Kafka).</summary>
    public int? EndpointPort { get; }

    /// <summary>The event hub a hub-level connection string is scoped to.</summary>
    public string? EntityPath { get; }

    /// <summary><c>UseDevelopmentEmulator=true</c>: the local Event Hubs emulator (Kafka on 9092, no TLS).</summary>
    public bool UseDevelopmentEmulator { get; }

    public static bool TryParse(string? connectionString, out EventHubsConnectionString? parsed, out string problem)
    {
        parsed = null;
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            problem = "it is empty";
            return false;
        }

        var parts = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                problem = "a part has no '=' (expected key=value pairs separated by ';')";
                return false;
            }

            parts[part[..equals].Trim()] = part[(equals + 1)..].Trim();
        }

        if (!parts.TryGetValue("Endpoint", out var endpoint) || !Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            problem = "it has no Endpoint=sb://<namespace>.servicebus.windows.net/";
            return false;
        }

        var hasKey = parts.ContainsKey("SharedAccessKey") && parts.ContainsKey("SharedAccessKeyName");
        if (!hasKey && !parts.ContainsKey("SharedAccessSignature"))
        {
            problem = "it has neither SharedAccessKeyName with SharedAccessKey nor SharedAccessSignature";
            return false;
        }

        var emulator = parts.TryGetValue("UseDevelopmentEmulator", out var flag) && bool.TryParse(flag, out var on) && on;
        parsed = new EventHubsConnectionString(uri.Host, uri.IsDefaultPort || uri.Port < 0 ? null : uri.Port, parts.GetValueOrDefault("EntityPath") is { Length: > 0 } e ? e : null, emulator);
        problem = "";
        return true;
    }

    /// <summary>
    /// The connection string with every secret value (SharedAccessKey, SharedAccessSignature) replaced by ***; what an
    /// unparseable value shows is only "(set, not shown)".
    /// </summary>
    public static string Mask(string? connectionString)
    {
        if (string.IsNullOrEmpty(connectionString))
        {
            return "";
        }

        var parts = connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var masked = new List<string>(parts.Length);
        foreach (var part in parts)
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                return "(set, not shown)";
            }

            var key = part[..equals].Trim();
            masked.Add(key.Equals("SharedAccessKey", StringComparison.OrdinalIgnoreCase) || key.Equals("SharedAccessSignature", StringComparison.OrdinalIgnoreCase)
                ? key + "=***"
                : part);
        }

        return string.Join(';', masked);
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"Endpoint=sb://{EndpointHost}{(EndpointPort is { } p ? ":" + p.ToString(CultureInfo.InvariantCulture) : "")}/;SharedAccessKey=***{(EntityPath is null ? "" : ";EntityPath=" + EntityPath)}");
}

/// <summary>How the Kafka clients authenticate, derived from the options.</summary>
public enum KafkaAuthentication
{
    /// <summary>Plain Kafka without SASL (PLAINTEXT or SSL).</summary>
    None,

    /// <summary>SASL PLAIN / SCRAM with a user and password (an Event Hubs connection string as the password of <c>$ConnectionString</c>).</summary>
    Password,

    /// <summary>SASL OAUTHBEARER with an Azure.Identity token for <see cref="KafkaConnection.TokenScope"/>.</summary>
    AzureToken,
}

/// <summary>
/// What the Kafka clients connect to and how, resolved from <see cref="KafkaEventLogOptions"/>: an Event Hubs
/// connection string becomes <c>{ns}.servicebus.windows.net:9093</c>, SASL_SSL, PLAIN, user <c>$ConnectionString</c>;
/// a namespace becomes the same endpoint with OAUTHBEARER; bootstrap servers are used as given. <see cref="ToString"/>
/// and <see cref="Endpoint"/> never show the password.
/// </summary>
public sealed class KafkaConnection
{
    /// <summary>The Kafka endpoint port of an Event Hubs namespace.</summary>
    public const int EventHubsKafkaPort = 9093;

    /// <summary>The Kafka port of the Event Hubs emulator.</summary>
    public const int EmulatorKafkaPort = 9092;

    /// <summary>The SASL user with which Event Hubs takes a connection string as the password.</summary>
    public const string ConnectionStringUser = "$ConnectionString";

    private readonly string? _password;

    private KafkaConnection(string bootstrapServers, SecurityProtocol protocol, SaslMechanism? mechanism, string? userName, string? password, string? tokenScope, bool isEventHubs)
    {
        BootstrapServers = bootstrapServers;
        SecurityProtocol = protocol;
        SaslMechanism = mechanism;
        UserName = userName;
        _password = password;
        TokenScope = tokenScope;
        IsEventHubs = isEventHubs;
    }

    public string BootstrapServers { get; }

    public SecurityProtocol SecurityProtocol { get; }

    public SaslMechanism? SaslMechanism { get; }

    public string? UserName { get; }

    /// <summary>The scope of the token asked for with OAUTHBEARER: <c>https://{namespace}/.default</c>.</summary>
    public string? TokenScope { get; }

    public bool IsEventHubs { get; }

    public KafkaAuthentication Authentication => SaslMechanism switch
    {
        null => KafkaAuthentication.None,
        Confluent.Kafka.SaslMechanism.OAuthBearer => KafkaAuthentication.AzureToken,
        _ => KafkaAuthentication.Password,
    };

    /// <summary>Whether a password (connection string or SASL password) is configured; its value never leaves this class except into the client config.</summary>
    public bool HasPassword => !string.IsNullOrEmpty(_password);

    /// <summary>The endpoint for logs and messages: servers, protocol and mechanism; no secret.</summary>
    public string Endpoint => $"{BootstrapServers} ({SecurityProtocol}{(SaslMechanism is { } m ? ", " + m : "")})";

    /// <summary>Resolves the options of <paramref name="kind"/> (eventhubs or kafka); the options must be valid.</summary>
    public static KafkaConnection Resolve(KafkaEventLogOptions options, string kind)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.Equals(kind, KafkaEventLogKinds.Kafka, StringComparison.OrdinalIgnoreCase))
        {
            var protocol = (options.SecurityProtocol ?? "").Trim().ToLowerInvariant() switch
            {
                "ssl" => Confluent.Kafka.SecurityProtocol.Ssl,
                "sasl_plaintext" => Confluent.Kafka.SecurityProtocol.SaslPlaintext,
                "sasl_ssl" => Confluent.Kafka.SecurityProtocol.SaslSsl,
                _ => Confluent.Kafka.SecurityProtocol.Plaintext,
            };
            var sasl = protocol is Confluent.Kafka.SecurityProtocol.SaslPlaintext or Confluent.Kafka.SecurityProtocol.SaslSsl;
            var mechanism = (options.SaslMechanism ?? "").Trim().ToUpperInvariant() switch
            {
                "SCRAM-SHA-256" => Confluent.Kafka.SaslMechanism.ScramSha256,
                "SCRAM-SHA-512" => Confluent.Kafka.SaslMechanism.ScramSha512,
                _ => Confluent.Kafka.SaslMechanism.Plain,
            };
            var servers = string.Join(',', options.BootstrapServers.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
            return new KafkaConnection(servers, protocol, sasl ? mechanism : null, sasl ? options.SaslUserName : null, sasl ? options.SaslPassword : null, null, isEventHubs: false);
        }

        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            if (!EventHubsConnectionString.TryParse(options.ConnectionString, out var parsed, out var problem))
            {
                throw new EventLogConfigurationException(
                    $"{KafkaEventLogOptions.EventHubsSectionName}:ConnectionString is not a usable Event Hubs connection string: {problem} (value not shown). " +
                    "Fix: copy it from the namespace's Shared access policies.");
            }

            // The emulator's endpoint port (if any) is its AMQP port; its Kafka listener is 9092 without TLS.
            var servers = parsed!.UseDevelopmentEmulator
                ? $"{parsed.EndpointHost}:{(parsed.EndpointPort is { } p && p != 5672 ? p : EmulatorKafkaPort).ToString(CultureInfo.InvariantCulture)}"
                : $"{parsed.EndpointHost}:{(parsed.EndpointPort ?? EventHubsKafkaPort).ToString(CultureInfo.InvariantCulture)}";
            return new KafkaConnection(
                servers,
                parsed.UseDevelopmentEmulator ? Confluent.Kafka.SecurityProtocol.SaslPlaintext : Confluent.Kafka.SecurityProtocol.SaslSsl,
                Confluent.Kafka.SaslMechanism.Plain,
                ConnectionStringUser,
                options.ConnectionString.Trim(),
                null,
                isEventHubs: true);
        }

        var host = options.FullyQualifiedNamespace.Trim();
        return new KafkaConnection(
            $"{host}:{EventHubsKafkaPort.ToString(CultureInfo.InvariantCulture)}",
            Confluent.Kafka.SecurityProtocol.SaslSsl,
            Confluent.Kafka.SaslMechanism.OAuthBearer,
            null,
            null,
            $"https://{host}/.default",
            isEventHubs: true);
    }

    /// <summary>Writes the connection settings (and Event Hubs' recommended client settings) into a librdkafka config.</summary>
    public void ApplyTo(ClientConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.BootstrapServers = BootstrapServers;
        config.SecurityProtocol = SecurityProtocol;
        if (SaslMechanism is { } mechanism)
        {
            config.SaslMechanism = mechanism;
        }

        if (Authentication == KafkaAuthentication.Password)
        {
            config.SaslUsername = UserName;
            config.SaslPassword = _password;
        }

        if (IsEventHubs)
        {
            // Event Hubs closes idle connections after 240 s and recommends these client settings.
            config.SocketKeepaliveEnable = true;
            config.MetadataMaxAgeMs = 180_000;
            config.ConnectionsMaxIdleMs = 180_000;
        }
    }

    /// <summary>Replaces the password wherever it appears in <paramref name="text"/> (a librdkafka log line, an error) with ***.</summary>
    public string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? "";
        }

        return string.IsNullOrEmpty(_password) ? text : text.Replace(_password, "***", StringComparison.Ordinal);
    }

    public override string ToString() =>
        $"{Endpoint}{(UserName is { } user ? ", user " + user : "")}{(HasPassword ? ", password ***" : "")}{(TokenScope is { } scope ? ", token scope " + scope : "")}";
}
