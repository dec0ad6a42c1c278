using BaloyiBank.EventLog.Kafka;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace BaloyiBank.EventLog.Kafka.Tests;

/// <summary>
/// How options become librdkafka settings. Config only: no broker runs here, so these check the settings handed to
/// librdkafka, not a connection.
/// </summary>
public sealed class ConnectionMappingTests
{
    internal const string Key = "c2VjcmV0LWtleS10aGF0LW11c3Qtc3RheS1oaWRkZW4tMDEyMzQ1Njc4OQ==";
    internal const string ConnectionString = "Endpoint=sb://baloyi-prod.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=" + Key;

    [Fact]
    public void ConfigOnly_a_connection_string_maps_to_the_namespace_on_9093_with_SASL_SSL_PLAIN_and_user_ConnectionString()
    {
        var connection = KafkaConnection.Resolve(new KafkaEventLogOptions { ConnectionString = ConnectionString }, KafkaEventLogKinds.EventHubs);
        var config = new ClientConfig();
        connection.ApplyTo(config);

        Assert.Equal("baloyi-prod.servicebus.windows.net:9093", config.BootstrapServers);
        Assert.Equal(SecurityProtocol.SaslSsl, config.SecurityProtocol);
        Assert.Equal(SaslMechanism.Plain, config.SaslMechanism);
        Assert.Equal("$ConnectionString", config.SaslUsername);
        Assert.Equal(ConnectionString, config.SaslPassword);
        Assert.True(connection.IsEventHubs);
        Assert.Equal(KafkaAuthentication.Password, connection.Authentication);
        // Event Hubs' recommended client settings (it drops idle connections after 240 s).
        Assert.Equal(180_000, config.ConnectionsMaxIdleMs);
        Assert.Equal(180_000, config.MetadataMaxAgeMs);
        Assert.True(config.SocketKeepaliveEnable);
    }

    [Fact]
    public void ConfigOnly_the_emulators_connection_string_maps_to_its_Kafka_port_9092_without_TLS()
    {
        var emulator = "Endpoint=sb://localhost;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;";
        var connection = KafkaConnection.Resolve(new KafkaEventLogOptions { ConnectionString = emulator }, KafkaEventLogKinds.EventHubs);

        Assert.Equal("localhost:9092", connection.BootstrapServers);
        Assert.Equal(SecurityProtocol.SaslPlaintext, connection.SecurityProtocol);
        Assert.Equal(SaslMechanism.Plain, connection.SaslMechanism);
        Assert.Equal("$ConnectionString", connection.UserName);

        // The AMQP port in the endpoint is not the Kafka port; another port is taken as the Kafka one.
        Assert.Equal("localhost:9092", KafkaConnection.Resolve(new KafkaEventLogOptions { ConnectionString = emulator.Replace("sb://localhost", "sb://localhost:5672", StringComparison.Ordinal) }, "eventhubs").BootstrapServers);
        Assert.Equal("127.0.0.1:19092", KafkaConnection.Resolve(new KafkaEventLogOptions { ConnectionString = emulator.Replace("sb://localhost", "sb://127.0.0.1:19092", StringComparison.Ordinal) }, "eventhubs").BootstrapServers);
    }

    [Fact]
    public void ConfigOnly_a_namespace_maps_to_OAUTHBEARER_over_SASL_SSL_with_the_namespace_scope_and_no_password()
    {
        var connection = KafkaConnection.Resolve(new KafkaEventLogOptions { FullyQualifiedNamespace = "baloyi-prod.servicebus.windows.net", Credential = "managedidentity" }, "eventhubs");
        var config = new ClientConfig();
        connection.ApplyTo(config);

        Assert.Equal("baloyi-prod.servicebus.windows.net:9093", config.BootstrapServers);
        Assert.Equal(SecurityProtocol.SaslSsl, config.SecurityProtocol);
        Assert.Equal(SaslMechanism.OAuthBearer, config.SaslMechanism);
        Assert.Equal("https://baloyi-prod.servicebus.windows.net/.default", connection.TokenScope);
        Assert.Equal(KafkaAuthentication.AzureToken, connection.Authentication);
        Assert.Null(config.SaslUsername);
        Assert.Null(config.SaslPassword);
        Assert.False(connection.HasPassword);
    }

    [Fact]
    public void ConfigOnly_bootstrap_servers_map_to_PLAINTEXT_or_to_the_SASL_settings_given()
    {
        var plain = KafkaConnection.Resolve(new KafkaEventLogOptions { BootstrapServers = " kafka-1:9092 , kafka-2:9092" }, "kafka");
        var plainConfig = new ClientConfig();
        plain.ApplyTo(plainConfig);
        Assert.Equal("kafka-1:9092,kafka-2:9092", plainConfig.BootstrapServers);
        Assert.Equal(SecurityProtocol.Plaintext, plainConfig.SecurityProtocol);
        Assert.Null(plainConfig.SaslMechanism);
        Assert.Null(plainConfig.SaslUsername);
        Assert.False(plain.IsEventHubs);
        Assert.Null(plainConfig.ConnectionsMaxIdleMs);

        var scram = KafkaConnection.Resolve(new KafkaEventLogOptions
        {
            BootstrapServers = "kafka:9094",
            SecurityProtocol = "SASL_SSL",
            SaslMechanism = "scram-sha-512",
            SaslUserName = "app",
            SaslPassword = "pw-123",
        }, "kafka");
        var scramConfig = new ClientConfig();
        scram.ApplyTo(scramConfig);
        Assert.Equal(SecurityProtocol.SaslSsl, scramConfig.SecurityProtocol);
        Assert.Equal(SaslMechanism.ScramSha512, scramConfig.SaslMechanism);
        Assert.Equal("app", scramConfig.SaslUsername);
        Assert.Equal("pw-123", scramConfig.SaslPassword);
    }

    [Fact]
    public void ConfigOnly_the_producer_is_idempotent_with_acks_all_and_batches_and_readers_never_commit()
    {
        var options = new KafkaEventLogOptions { BootstrapServers = "127.0.0.1:9092", Linger = TimeSpan.FromMilliseconds(20), BatchBytes = 500_000, Compression = "lz4" };
        var clients = new KafkaClients(KafkaConnection.Resolve(options, "kafka"), options, "bank-events", NullLogger.Instance, null);

        var producer = clients.ProducerConfig();
        Assert.True(producer.EnableIdempotence);
        Assert.Equal(Acks.All, producer.Acks);
        Assert.InRange(producer.MaxInFlight ?? 0, 1, 5);
        Assert.Equal(20, producer.LingerMs);
        Assert.Equal(500_000, producer.BatchSize);
        Assert.Equal(CompressionType.Lz4, producer.CompressionType);
        Assert.Equal(30_000, producer.MessageTimeoutMs);

        var consumer = clients.ConsumerConfig("p0");
        Assert.False(consumer.EnableAutoCommit);
        Assert.False(consumer.EnableAutoOffsetStore);
        Assert.True(consumer.EnablePartitionEof);
        Assert.False(consumer.AllowAutoCreateTopics);
        Assert.Equal(AutoOffsetReset.Earliest, consumer.AutoOffsetReset);
        Assert.Equal("$Default", consumer.GroupId);
    }

    [Fact]
    public void ConfigOnly_a_hub_level_connection_string_gives_its_entity_path()
    {
        Assert.True(EventHubsConnectionString.TryParse(ConnectionString + ";EntityPath=bank-events", out var parsed, out _));
        Assert.Equal("bank-events", parsed!.EntityPath);
        Assert.Equal("baloyi-prod.servicebus.windows.net", parsed.EndpointHost);
        Assert.False(parsed.UseDevelopmentEmulator);

        Assert.False(EventHubsConnectionString.TryParse("Endpoint=sb://x.servicebus.windows.net/", out _, out var problem));
        Assert.Contains("SharedAccessKey", problem, StringComparison.Ordinal);
        Assert.False(EventHubsConnectionString.TryParse("just-a-secret-" + Key, out _, out problem));
        Assert.DoesNotContain(Key, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void The_system_librdkafka_loads_through_the_resolver()
    {
        KafkaNative.EnsureRegistered();
        KafkaNative.EnsureRegistered();

        Assert.StartsWith("2.", KafkaNative.LibraryVersion(), StringComparison.Ordinal);
    }
}
