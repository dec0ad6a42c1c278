using System.Globalization;
using Azure.Core;
using Azure.Identity;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.EventLog.Kafka;

/// <summary>
/// Builds the librdkafka clients of one log with the same connection, logging (redacted), error reporting and, for
/// OAUTHBEARER, token refresh from an Azure.Identity credential.
/// </summary>
internal sealed class KafkaClients
{
    private readonly KafkaEventLogOptions _options;
    private readonly ILogger _logger;
    private readonly TokenCredential? _credential;
    private readonly string _clientId;

    public KafkaClients(KafkaConnection connection, KafkaEventLogOptions options, string logName, ILogger logger, TokenCredential? credential)
    {
        Connection = connection;
        _options = options;
        _logger = logger;
        _clientId = $"baloyi-eventlog-{logName}";
        _credential = connection.Authentication == KafkaAuthentication.AzureToken ? credential ?? CreateCredential(options) : null;
    }

    public KafkaConnection Connection { get; }

    /// <summary>Set when a client reported a fatal error (an idempotent producer that can no longer guarantee order).</summary>
    public Action<string>? OnFatal { get; set; }

    public ProducerConfig ProducerConfig()
    {
        var config = new ProducerConfig();
        Common(config);
        config.EnableIdempotence = true;
        config.Acks = Acks.All;
        config.MaxInFlight = 5;
        config.MessageTimeoutMs = Milliseconds(_options.MessageTimeout);
        config.RequestTimeoutMs = Math.Min(Milliseconds(_options.RequestTimeout), config.MessageTimeoutMs.Value);
        config.LingerMs = _options.Linger.TotalMilliseconds;
        config.BatchSize = _options.BatchBytes;
        config.CompressionType = (_options.Compression ?? "none").Trim().ToLowerInvariant() switch
        {
            "gzip" => CompressionType.Gzip,
            "snappy" => CompressionType.Snappy,
            "lz4" => CompressionType.Lz4,
            "zstd" => CompressionType.Zstd,
            _ => CompressionType.None,
        };
        config.QueueBufferingMaxMessages = 1_000_000;
        config.QueueBufferingMaxKbytes = 128 * 1024;
        config.RetryBackoffMs = 100;
        // Keys were already mapped to partitions by KeyPartitioner; the partitioner is never asked, but keep it Kafka's Java one.
        config.Partitioner = Partitioner.Murmur2Random;
        return config;
    }

    public ConsumerConfig ConsumerConfig(string purpose)
    {
        var config = new ConsumerConfig();
        Common(config);
        config.ClientId = $"{_clientId}-{purpose}";
        config.GroupId = _options.ConsumerGroup;
        config.EnableAutoCommit = false;
        config.EnableAutoOffsetStore = false;
        config.EnablePartitionEof = true;
        config.AutoOffsetReset = AutoOffsetReset.Earliest;
        config.AllowAutoCreateTopics = false;
        config.FetchWaitMaxMs = Milliseconds(_options.FetchMaxWait);
        config.QueuedMaxMessagesKbytes = 16 * 1024;
        config.IsolationLevel = IsolationLevel.ReadCommitted;
        return config;
    }

    public AdminClientConfig AdminConfig()
    {
        var config = new AdminClientConfig();
        Common(config);
        config.ClientId = $"{_clientId}-admin";
        return config;
    }

    public IProducer<byte[], byte[]> BuildProducer()
    {
        KafkaNative.EnsureRegistered();
        // Handlers name the client from its config: client.Name is not safe to read while librdkafka is still constructing it.
        var config = ProducerConfig();
        var name = config.ClientId + "-producer";
        var builder = new ProducerBuilder<byte[], byte[]>(config)
            .SetLogHandler((_, message) => Native(name, message))
            .SetErrorHandler((_, error) => Error(name, error));
        if (_credential is not null)
        {
            builder.SetOAuthBearerTokenRefreshHandler((client, _) => RefreshToken(client));
        }

        return builder.Build();
    }

    public IConsumer<byte[], byte[]> BuildConsumer(string purpose)
    {
        KafkaNative.EnsureRegistered();
        var config = ConsumerConfig(purpose);
        var name = config.ClientId;
        var builder = new ConsumerBuilder<byte[], byte[]>(config)
            .SetLogHandler((_, message) => Native(name, message))
            .SetErrorHandler((_, error) => Error(name, error));
        if (_credential is not null)
        {
            builder.SetOAuthBearerTokenRefreshHandler((client, _) => RefreshToken(client));
        }

        return builder.Build();
    }

    public IAdminClient BuildAdmin()
    {
        KafkaNative.EnsureRegistered();
        var config = AdminConfig();
        var name = config.ClientId;
        var builder = new AdminClientBuilder(config)
            .SetLogHandler((_, message) => Native(name, message))
            .SetErrorHandler((_, error) => Error(name, error));
        if (_credential is not null)
        {
            builder.SetOAuthBearerTokenRefreshHandler((client, _) => RefreshToken(client));
        }

        return builder.Build();
    }

    /// <summary>The Azure.Identity credential <c>Credential</c> names (no token is asked for here).</summary>
    internal static TokenCredential CreateCredential(KafkaEventLogOptions options)
    {
        var clientId = string.IsNullOrWhiteSpace(options.ManagedIdentityClientId) ? null : options.ManagedIdentityClientId.Trim();
        return (options.Credential ?? "").Trim().ToLowerInvariant() switch
        {
            KafkaCredentialKinds.ManagedIdentity => new ManagedIdentityCredential(
                clientId is null ? ManagedIdentityId.SystemAssigned : ManagedIdentityId.FromUserAssignedClientId(clientId)),
            _ => new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = clientId }),
        };
    }

    /// <summary>Asks the credential for a token for the namespace and hands it to librdkafka (called on librdkafka's poll thread).</summary>
    internal void RefreshToken(IClient client)
    {
        var scope = Connection.TokenScope!;
        try
        {
            var token = _credential!.GetToken(new TokenRequestContext([scope]), CancellationToken.None);
            client.OAuthBearerSetToken(token.Token, token.ExpiresOn.ToUnixTimeMilliseconds(), "baloyi-eventlog");
        }
        catch (Exception e) when (e is AuthenticationFailedException or CredentialUnavailableException or Azure.RequestFailedException or InvalidOperationException or KafkaException)
        {
            var reason = Connection.Redact(e.Message);
            KafkaEventLogLog.TokenFailed(_logger, scope, reason);
            try
            {
                client.OAuthBearerSetTokenFailure($"no token for {scope}: {reason}");
            }
            catch (KafkaException)
            {
                // The client is shutting down.
            }
        }
    }

    private void Common(ClientConfig config)
    {
        Connection.ApplyTo(config);
        config.ClientId = _clientId;
        config.SocketTimeoutMs = Milliseconds(_options.RequestTimeout);
        config.ReconnectBackoffMs = 100;
        config.ReconnectBackoffMaxMs = 5_000;
        config.LogConnectionClose = false;
    }

    // Called on librdkafka's threads: an exception escaping here would take the process down.
    private void Native(string client, LogMessage message)
    {
        try
        {
            var level = KafkaEventLogLog.LevelOf(message.Level);
            if (_logger.IsEnabled(level))
            {
                KafkaEventLogLog.Native(_logger, level, client, message.Facility ?? "", Connection.Redact(message.Message));
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A failing logger must not kill librdkafka's thread.
        }
    }

    private void Error(string client, Error error)
    {
        try
        {
            ReportError(client, error);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // As above: never throw into librdkafka.
        }
    }

    private void ReportError(string client, Error error)
    {
        var reason = Connection.Redact(error.Reason);
        if (error.IsFatal)
        {
            KafkaEventLogLog.FatalError(_logger, client, Connection.Endpoint, error.Code, reason);
            OnFatal?.Invoke(client);
        }
        else
        {
            KafkaEventLogLog.ClientError(_logger, client, Connection.Endpoint, error.Code, reason);
        }
    }

    private static int Milliseconds(TimeSpan value) => (int)Math.Clamp(value.TotalMilliseconds, 0, int.MaxValue);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{_clientId} at {Connection}");
}
