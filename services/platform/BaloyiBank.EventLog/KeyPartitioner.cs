using System.Text;

namespace BaloyiBank.EventLog;

/// <summary>
/// Key to partition, identical for every backend and stable across runs and machines:
/// Kafka's default (Java client) partitioner, <c>toPositive(murmur2(utf8(key))) % partitions</c>.
/// The Kafka/Event Hubs backend produces to the explicit partition this returns, so Spark,
/// Kafka Streams and Java producers writing the same keys agree with all three backends.
/// </summary>
public static class KeyPartitioner
{
    public static int PartitionFor(string key, int partitionCount)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitionCount, 1);
        Span<byte> stack = stackalloc byte[256];
        var byteCount = Encoding.UTF8.GetByteCount(key);
        var bytes = byteCount <= stack.Length ? stack[..byteCount] : new byte[byteCount];
        Encoding.UTF8.GetBytes(key, bytes);
        return (Murmur2(bytes) & 0x7fffffff) % partitionCount;
    }

    /// <summary>Kafka's murmur2 (seed 0x9747b28c), bit for bit, including its tail handling.</summary>
    public static int Murmur2(ReadOnlySpan<byte> data)
    {
        const uint seed = 0x9747b28c;
        const uint m = 0x5bd1e995;
        const int r = 24;

        var length = data.Length;
        var h = seed ^ (uint)length;
        var length4 = length / 4;

        for (var i = 0; i < length4; i++)
        {
            var i4 = i * 4;
            var k = data[i4] | ((uint)data[i4 + 1] << 8) | ((uint)data[i4 + 2] << 16) | ((uint)data[i4 + 3] << 24);
            k *= m;
            k ^= k >> r;
            k *= m;
            h *= m;
            h ^= k;
        }

        var tail = length & ~3;
        switch (length % 4)
        {
            case 3:
                h ^= (uint)data[tail + 2] << 16;
                goto case 2;
            case 2:
                h ^= (uint)data[tail + 1] << 8;
                goto case 1;
            case 1:
                h ^= data[tail];
                h *= m;
                break;
        }

        h ^= h >> 13;
        h *= m;
        h ^= h >> 15;
        return (int)h;
    }
}
