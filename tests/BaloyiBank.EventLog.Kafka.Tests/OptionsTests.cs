using BaloyiBank.EventLog.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit;

namespace BaloyiBank.EventLog.Kafka.Tests;

/// <summary>Start-up validation of EventLog:EventHubs and EventLog:Kafka, and the DI wiring. Config only.</summary>
public sealed class OptionsTests
{
    [Fact]
    public void ConfigOnly_Event_Hubs_needs_exactly_one_of_a_connection_string_or_a_namespace()
    {
        var neither = KafkaEventLogOptionsValidator.Check(new KafkaEventLogOptions(), "eventhubs", "bank-events").Failures;
        var both = KafkaEventLogOptionsValidator.Check(new KafkaEventLogOptions { ConnectionString = ConnectionMappingTests.ConnectionString, FullyQualifiedNamespace = "x.servicebus.windows.net" }, "eventhubs", "bank-events").Failures;

        var message = Assert.Single(neither);
        Assert.StartsWith("EventLog:EventHubs:ConnectionString or FullyQualifiedNamespace must be set (got neither). Fix: set EventLog__EventHubs__ConnectionString", message, StringComparison.Ordinal);
        Assert.StartsWith("EventLog:EventHubs:FullyQualifiedNamespace cannot be set together with ConnectionString", Assert.Single(both), StringComparison.Ordinal);
        Assert.DoesNotContain(ConnectionMappingTests.Key, Assert.Single(both), StringComparison.Ordinal);
    }

    [Fact]
    public void ConfigOnly_every_bad_setting_is_named_with_its_fix_and_secrets_are_never_echoed()
    {
        var options = new KafkaEventLogOptions
        {
            ConnectionString = "Endpoint=sb://;SharedAccessKey=" + ConnectionMappingTests.Key,
            BootstrapServers = "kafka:9092",
            Compression = "brotli",
            ReplicationFactor = 0,
            MessageTimeout = TimeSpan.Zero,
            Linger = TimeSpan.FromSeconds(10),
            BatchBytes = 10,
            RequestTimeout = TimeSpan.Zero,
            RetryAttempts = -1,
            RetryBaseDelay = TimeSpan.FromSeconds(10),
            RetryMaxDelay = TimeSpan.FromSeconds(1),
            FetchMaxWait = TimeSpan.FromMinutes(1),
            ConsumerGroup = " ",
        };

        var failures = KafkaEventLogOptionsValidator.Check(options, "eventhubs", "bank-events").Failures;

        foreach (var key in new[] { "ConnectionString", "BootstrapServers", "Compression", "ReplicationFactor", "MessageTimeout", "Linger", "BatchBytes", "RequestTimeout", "RetryAttempts", "RetryBaseDelay", "FetchMaxWait", "ConsumerGroup" })
        {
            Assert.Contains(failures, f => f.StartsWith($"EventLog:EventHubs:{key} ", StringComparison.Ordinal) && f.Contains(". Fix: ", StringComparison.Ordinal));
        }

        Assert.All(failures, f => Assert.DoesNotContain(ConnectionMappingTests.Key, f, StringComparison.Ordinal));
    }

    [Fact]
    public void ConfigOnly_a_hub_scoped_connection_string_must_name_the_logs_hub()
    {
        var options = new KafkaEventLogOptions { ConnectionString = ConnectionMappingTests.ConnectionString + ";EntityPath=other-hub" };

        var failure = Assert.Single(KafkaEventLogOptionsValidator.Check(options, "eventhubs", "bank-events").Failures);

        Assert.Contains("scoped to event hub 'other-hub' (EntityPath) but EventLog:Name is 'bank-events'", failure, StringComparison.Ordinal);
        Assert.Contains("Fix: set EventLog__Name=other-hub", failure, StringComparison.Ordinal);
        Assert.Empty(KafkaEventLogOptionsValidator.Check(options, "eventhubs", "other-hub").Failures);
    }

    [Fact]
    public void ConfigOnly_namespace_credential_and_plain_Kafka_settings_are_checked()
    {
        var badNamespace = KafkaEventLogOptionsValidator.Check(new KafkaEventLogOptions { FullyQualifiedNamespace = "https://x.servicebus.windows.net/", Credential = "password" }, "eventhubs", "h").Failures;
        Assert.Contains(badNamespace, f => f.StartsWith("EventLog:EventHubs:FullyQualifiedNamespace must be a host name", StringComparison.Ordinal));
        Assert.Contains(badNamespace, f => f.StartsWith("EventLog:EventHubs:Credential must be one of managedidentity, default (got 'password')", StringComparison.Ordinal));

        var kafka = KafkaEventLogOptionsValidator.Check(new KafkaEventLogOptions { BootstrapServers = "kafka", SecurityProtocol = "sasl_ssl", SaslMechanism = "GSSAPI" }, "kafka", "h").Failures;
        Assert.Contains(kafka, f => f.StartsWith("EventLog:Kafka:BootstrapServers must be host:port[,host:port…] (got 'kafka'). Fix: set EventLog__Kafka__BootstrapServers", StringComparison.Ordinal));
        Assert.Contains(kafka, f => f.StartsWith("EventLog:Kafka:SaslMechanism must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", StringComparison.Ordinal));
        Assert.Contains(kafka, f => f.StartsWith("EventLog:Kafka:SaslUserName and SaslPassword are needed with SecurityProtocol sasl_ssl", StringComparison.Ordinal));

        Assert.Empty(KafkaEventLogOptionsValidator.Check(new KafkaEventLogOptions { BootstrapServers = "kafka-1:9092,[::1]:9093" }, "kafka", "h").Failures);
        Assert.Empty(KafkaEventLogOptionsValidator.Check(new KafkaEventLogOptions { FullyQualifiedNamespace = "baloyi.servicebus.windows.net" }, "eventhubs", "h").Failures);
    }

    [Fact]
    public void ConfigOnly_start_up_validation_checks_the_Kafka_section_only_when_kind_is_kafka()
    {
        using (var provider = Services(new() { ["EventLog:Kind"] = "embedded", ["EventLog:Kafka:BootstrapServers"] = "not a server list" }))
        {
            Assert.Equal("not a server list", provider.GetRequiredService<IOptionsMonitor<KafkaEventLogOptions>>().Get(KafkaEventLogKinds.Kafka).BootstrapServers);
        }

        using (var provider = Services(new() { ["EventLog:Kind"] = "kafka", ["EventLog:Kafka:BootstrapServers"] = "not a server list" }))
        {
            var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptionsMonitor<KafkaEventLogOptions>>().Get(KafkaEventLogKinds.Kafka));
            Assert.Contains("EventLog:Kafka:BootstrapServers must be host:port", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ConfigOnly_kind_kafka_resolves_to_the_Kafka_log_and_kind_eventhubs_to_the_native_Event_Hubs_log()
    {
        await using (var provider = Services(new()
        {
            ["EventLog:Kind"] = "Kafka",
            ["EventLog:Partitions"] = "3",
            ["EventLog:Kafka:BootstrapServers"] = "127.0.0.1:9092",
        }, withEventHubs: true))
        {
            var log = Assert.IsType<KafkaEventLog>(provider.GetRequiredService<IEventLog>());
            Assert.Equal("kafka", log.Kind);
            Assert.Equal("127.0.0.1:9092", log.Connection.BootstrapServers);
        }

        // An Event Hubs connection string no longer reaches the Kafka backend: kind eventhubs is Azure.Messaging.EventHubs.
        await using (var provider = Services(new()
        {
            ["EventLog:Kind"] = "eventhubs",
            ["EventLog:Name"] = "bank-events",
            ["EventLog:Partitions"] = "8",
            ["EventLog:EventHubs:ConnectionString"] = ConnectionMappingTests.ConnectionString,
        }, withEventHubs: true))
        {
            var log = Assert.IsType<EventHubs.EventHubsEventLog>(provider.GetRequiredService<IEventLog>());
            Assert.Equal("bank-events", log.Name);
            Assert.Equal(8, log.PartitionCount);
        }
    }

    [Fact]
    public void ConfigOnly_without_the_Event_Hubs_adapter_kind_eventhubs_is_unknown_rather_than_served_by_Kafka()
    {
        using var provider = Services(new() { ["EventLog:Kind"] = "eventhubs", ["EventLog:EventHubs:ConnectionString"] = ConnectionMappingTests.ConnectionString });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<EventLogOptions>>().Value);

        Assert.Contains("EventLog:Kind must be one of embedded, kafka (got 'eventhubs')", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConfigOnly_kind_kafka_refuses_an_Event_Hubs_connection_string_as_SASL_password_without_echoing_it()
    {
        var asPassword = KafkaEventLogOptionsValidator.Check(new KafkaEventLogOptions
        {
            BootstrapServers = "baloyi-prod.servicebus.windows.net:9093",
            SecurityProtocol = "sasl_ssl",
            SaslUserName = "someone",
            SaslPassword = ConnectionMappingTests.ConnectionString,
        }, "kafka", "bank-events").Failures;
        var asUser = KafkaEventLogOptionsValidator.Check(new KafkaEventLogOptions
        {
            BootstrapServers = "baloyi-prod.servicebus.windows.net:9093",
            SecurityProtocol = "sasl_ssl",
            SaslUserName = "$ConnectionString",
            SaslPassword = "x",
        }, "kafka", "bank-events").Failures;

        var message = Assert.Single(asPassword);
        Assert.StartsWith("EventLog:Kafka:SaslPassword is an Event Hubs connection string (value not shown)", message, StringComparison.Ordinal);
        Assert.Contains("set EventLog__Kind=eventhubs and EventLog__EventHubs__ConnectionString", message, StringComparison.Ordinal);
        Assert.DoesNotContain(ConnectionMappingTests.Key, message, StringComparison.Ordinal);
        Assert.Single(asUser);
    }

    private static ServiceProvider Services(Dictionary<string, string?> settings, bool withEventHubs = false)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddEventLog(configuration);
        services.AddKafkaEventLog(configuration);
        if (withEventHubs)
        {
            EventHubs.EventHubsEventLogServiceCollectionExtensions.AddEventHubsEventLog(services, configuration);
        }

        return services.BuildServiceProvider();
    }
}
