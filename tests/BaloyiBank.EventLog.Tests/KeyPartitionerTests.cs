using System.Text;
using Xunit;

namespace BaloyiBank.EventLog.Tests;

public sealed class KeyPartitionerTests
{
    // Apache Kafka, clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java, testMurmur2.
    [Theory]
    [InlineData("21", -973932308)]
    [InlineData("foobar", -790332482)]
    [InlineData("a-little-bit-long-string", -985981536)]
    [InlineData("a-little-bit-longer-string", -1486304829)]
    [InlineData("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971)]
    public void Murmur2_matches_Kafkas_published_vectors(string key, int expected) =>
        Assert.Equal(expected, KeyPartitioner.Murmur2(Encoding.UTF8.GetBytes(key)));

    [Fact]
    public void Murmur2_matches_Kafka_on_raw_bytes()
    {
        Assert.Equal(479470107, KeyPartitioner.Murmur2([(byte)'a', (byte)'b', (byte)'c']));

        // Generated with the JVM Kafka client (sarama / kafkautil test data).
        Assert.Equal(274204207, KeyPartitioner.Murmur2([12, 42, 56, 24, 109, 111]));
    }

    [Fact]
    public void PartitionFor_is_Kafkas_toPositive_murmur2_modulo_the_partition_count()
    {
        // toPositive(-790332482) = 1357151166; 1357151166 % 10 = 6.
        Assert.Equal(6, KeyPartitioner.PartitionFor("foobar", 10));
        foreach (var key in new[] { "21", "account-000042", "Zoë-𝄞", new string('x', 1000) })
        {
            for (var partitions = 1; partitions <= 16; partitions++)
            {
                var expected = (KeyPartitioner.Murmur2(Encoding.UTF8.GetBytes(key)) & 0x7fffffff) % partitions;
                Assert.Equal(expected, KeyPartitioner.PartitionFor(key, partitions));
            }
        }
    }

    [Fact]
    public void PartitionFor_rejects_a_null_key_or_no_partitions()
    {
        Assert.Throws<ArgumentNullException>(() => KeyPartitioner.PartitionFor(null!, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => KeyPartitioner.PartitionFor("k", 0));
    }
}
