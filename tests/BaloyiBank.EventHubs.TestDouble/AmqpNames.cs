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
}
