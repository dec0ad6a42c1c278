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
    public void ConfigOnly_start_up_validation_checks_only_the_section_of_the_chosen_kind()
    {
        using var provider = Services(new()
        {
            ["EventLog:Kind"] = "eventhubs",
            ["EventLog:EventHubs:ConnectionString"] = "",
            ["EventLog:Kafka:BootstrapServers"] = "not a server list",
        });
        var monitor = provider.GetRequiredService<IOptionsMonitor<KafkaEventLogOptions>>();

        var error = Assert.Throws<OptionsValidationException>(() => monitor.Get(KafkaEventLogKinds.EventHubs));
        Assert.Contains("EventLog:EventHubs:ConnectionString or FullyQualifiedNamespace must be set", error.Message, StringComparison.Ordinal);
        Assert.Equal("not a server list", monitor.Get(KafkaEventLogKinds.Kafka).BootstrapServers);
    }

    [Fact]
    public async Task ConfigOnly_EventLog_Kind_eventhubs_and_kafka_resolve_to_the_Kafka_log_without_contacting_a_broker()
    {
        await using (var provider = Services(new()
        {
            ["EventLog:Kind"] = "eventhubs",
            ["EventLog:Name"] = "bank-events",
            ["EventLog:Partitions"] = "8",
            ["EventLog:EventHubs:ConnectionString"] = ConnectionMappingTests.ConnectionString,
        }))
        {
            var log = Assert.IsType<KafkaEventLog>(provider.GetRequiredService<IEventLog>());
            Assert.Equal("eventhubs", log.Kind);
            Assert.Equal("bank-events", log.Name);
            Assert.Equal(8, log.PartitionCount);
            Assert.Equal("baloyi-prod.servicebus.windows.net:9093", log.Connection.BootstrapServers);
        }

        await using (var provider = Services(new()
        {
            ["EventLog:Kind"] = "Kafka",
            ["EventLog:Partitions"] = "3",
            ["EventLog:Kafka:BootstrapServers"] = "127.0.0.1:9092",
        }))
        {
            var log = Assert.IsType<KafkaEventLog>(provider.GetRequiredService<IEventLog>());
            Assert.Equal("kafka", log.Kind);
            Assert.Equal("127.0.0.1:9092", log.Connection.BootstrapServers);
        }
    }

    [Fact]
    public void ConfigOnly_an_unknown_kind_lists_eventhubs_and_kafka_among_the_choices()
    {
        using var provider = Services(new() { ["EventLog:Kind"] = "kinesis" });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<EventLogOptions>>().Value);

        Assert.Contains("EventLog:Kind must be one of embedded, eventhubs, kafka (got 'kinesis')", error.Message, StringComparison.Ordinal);
    }

    private static ServiceProvider Services(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddEventLog(configuration);
        services.AddKafkaEventLog(configuration);
        return services.BuildServiceProvider();
    }
}
