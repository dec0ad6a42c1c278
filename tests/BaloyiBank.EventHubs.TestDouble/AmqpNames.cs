using Microsoft.Azure.Amqp.Encoding;

namespace BaloyiBank.EventHubs.TestDouble;

/// <summary>The Event Hubs names on the wire (annotations, link properties) the double reads and writes.</summary>
internal static class AmqpNames
{
    public static readonly AmqpSymbol OwnerLevel = "com.microsoft:epoch";
    public static readonly AmqpSymbol SequenceNumber = "x-opt-sequence-number";
    public static readonly AmqpSymbol Offset = "x-opt-offset";
    public static readonly AmqpSymbol EnqueuedTime = "x-opt-enqueued-time";
    public static readonly AmqpSymbol PartitionKey = "x-opt-partition-key";
    public static readonly AmqpSymbol RuntimeMetricCapability = "com.microsoft:enable-receiver-runtime-metric";
    public static readonly AmqpSymbol LastEnqueuedSequenceNumber = "last_enqueued_sequence_number";
    public static readonly AmqpSymbol LastEnqueuedOffset = "last_enqueued_offset";
    public static readonly AmqpSymbol LastEnqueuedTimeUtc = "last_enqueued_time_utc";
    public static readonly AmqpSymbol RuntimeInfoRetrievalTimeUtc = "runtime_info_retrieval_time_utc";
}
