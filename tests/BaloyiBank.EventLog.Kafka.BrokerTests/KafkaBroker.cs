using BaloyiBank.EventLog.Kafka;
using Confluent.Kafka;
using Xunit;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace BaloyiBank.EventLog.Kafka.BrokerTests;

/// <summary>
/// The broker under test, from the environment: <c>BALOYI_TEST_KAFKA</c> (bootstrap servers of a plain Kafka; the tests
/// create a topic per log and delete it after) or <c>BALOYI_TEST_EVENTHUBS</c> (an Event Hubs connection string: the
/// emulator's or a namespace's). Event Hubs does not create hubs over Kafka, so there the tests take pre-created, empty
/// hubs named <c>contract-*</c> (see README.md). Neither variable set: every test fails and says what to set.
/// </summary>
public sealed class KafkaBroker
{
    public const string KafkaVariable = "BALOYI_TEST_KAFKA";
    public const string EventHubsVariable = "BALOYI_TEST_EVENTHUBS";

    private readonly HashSet<string> _taken = [];
    private readonly object _gate = new();

    public KafkaBroker()
    {
        if (Environment.GetEnvironmentVariable(KafkaVariable) is { Length: > 0 } servers)
        {
            Kind = KafkaEventLogKinds.Kafka;
            Describe = $"Kafka at {servers}";
            Options = () => Tuned(new KafkaEventLogOptions { BootstrapServers = servers });
        }
        else if (Environment.GetEnvironmentVariable(EventHubsVariable) is { Length: > 0 } connectionString)
        {
            Kind = KafkaEventLogKinds.EventHubs;
            Options = () => Tuned(new KafkaEventLogOptions { ConnectionString = connectionString, CreateTopic = false });
            Describe = $"Event Hubs at {KafkaConnection.Resolve(Options(), Kind).Endpoint}";
        }
        else
        {
            Kind = "";
            Describe = "";
            Options = () => throw new InvalidOperationException(
                $"No broker to test against: set {KafkaVariable}=host:9092 (any Kafka, e.g. the apache/kafka container) or " +
                $"{EventHubsVariable}=<Event Hubs connection string> (the emulator's or a namespace's). See tests/BaloyiBank.EventLog.Kafka.BrokerTests/README.md.");
        }
    }

    public string Kind { get; }

    public string Describe { get; }

    public Func<KafkaEventLogOptions> Options { get; }

    public bool CreatesTopics => Kind == KafkaEventLogKinds.Kafka;

    /// <summary>A topic name for a new log: a fresh one on Kafka, an unused empty pre-created hub with that partition count on Event Hubs.</summary>
    public string NewTopic(int partitions)
    {
        var options = Options();
        if (CreatesTopics)
        {
            return $"contract-{Guid.NewGuid():N}"[..24];
        }

        KafkaNative.EnsureRegistered();
        var config = new AdminClientConfig();
        KafkaConnection.Resolve(options, Kind).ApplyTo(config);
        using var admin = new AdminClientBuilder(config).Build();
        var config2 = new ConsumerConfig { GroupId = "$Default", EnableAutoCommit = false };
        KafkaConnection.Resolve(options, Kind).ApplyTo(config2);
        using var consumer = new ConsumerBuilder<byte[], byte[]>(config2).Build();
        var hubs = admin.GetMetadata(TimeSpan.FromSeconds(30)).Topics
            .Where(t => t.Topic.StartsWith("contract-", StringComparison.Ordinal) && t.Partitions.Count == partitions)
            .Select(t => t.Topic)
            .Order(StringComparer.Ordinal)
            .ToList();
        lock (_gate)
        {
            foreach (var hub in hubs.Where(h => !_taken.Contains(h)))
            {
                var empty = Enumerable.Range(0, partitions).All(p =>
                {
                    var marks = consumer.QueryWatermarkOffsets(new TopicPartition(hub, p), TimeSpan.FromSeconds(30));
                    return marks.High.Value <= marks.Low.Value;
                });
                if (empty)
                {
                    _taken.Add(hub);
                    return hub;
                }
            }
        }

        throw new InvalidOperationException(
            $"No unused, empty event hub named contract-* with {partitions} partitions at {Describe}. Event Hubs cannot create hubs over Kafka: " +
            "restart the emulator (it keeps no data) and run the next group of tests (README.md), or create more hubs in the namespace.");
    }

    private static KafkaEventLogOptions Tuned(KafkaEventLogOptions options)
    {
        options.RetryAttempts = 3;
        options.RetryMaxDelay = TimeSpan.FromSeconds(2);
        options.MessageTimeout = TimeSpan.FromSeconds(30);
        options.Linger = TimeSpan.FromMilliseconds(2);
        return options;
    }
}

[CollectionDefinition(Name)]
public sealed class SharedBrokerGroup : ICollectionFixture<KafkaBroker>
{
    public const string Name = "kafka";
}
