using System.Text;
using BaloyiBank.EventLog.Embedded;
using Xunit;

namespace BaloyiBank.EventLog.Tests;

public sealed class Crc32CTests
{
    // RFC 3720 (iSCSI) appendix B.4, and the usual check value of "123456789".
    public static TheoryData<byte[], uint> Vectors => new()
    {
        { Encoding.ASCII.GetBytes("123456789"), 0xE3069283 },
        { new byte[32], 0x8A9136AA },
        { Enumerable.Repeat((byte)0xFF, 32).ToArray(), 0x62A8AB43 },
        { Enumerable.Range(0, 32).Select(i => (byte)i).ToArray(), 0x46DD794E },
        { Enumerable.Range(0, 32).Select(i => (byte)(31 - i)).ToArray(), 0x113FDB5C },
        { Array.Empty<byte>(), 0x00000000 },
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Matches_the_published_check_values(byte[] data, uint expected)
    {
        Assert.Equal(expected, Crc32C.Compute(data));
        Assert.Equal(expected, Crc32C.ComputeSoftware(data));
    }

    [Fact]
    public void Hardware_software_and_incremental_results_agree()
    {
        var random = new Random(7);
        for (var length = 0; length < 300; length++)
        {
            var data = new byte[length];
            random.NextBytes(data);
            var split = length / 3;
            Assert.Equal(Crc32C.ComputeSoftware(data), Crc32C.Compute(data));
            Assert.Equal(Crc32C.Compute(data), ~Crc32C.Update(Crc32C.Update(~0u, data.AsSpan(0, split)), data.AsSpan(split)));
        }
    }
}
