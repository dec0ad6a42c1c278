using BaloyiBank.Tests.Shared;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using BaloyiBank.EventLog.Tests;
using Xunit;

namespace BaloyiBank.EventLog.RabbitMq.Tests;

/// <summary>Events numbered 0, 1, 2 …, the same as the CrashWriter child writes, and checks over a log holding them.</summary>
internal static class Numbered
{
    public static OutgoingEvent Make(long number) => new(
        string.Create(CultureInfo.InvariantCulture, $"acct-{number % 97}"),
        Encoding.UTF8.GetBytes(number.ToString(CultureInfo.InvariantCulture)),
        new EventHeaders(new KeyValuePair<string, string>("bb-seq", number.ToString(CultureInfo.InvariantCulture))));

    public static long Of(LogRecord record) => long.Parse(record.Text(), CultureInfo.InvariantCulture);

    /// <summary>
    /// Every partition holds exactly its share of 0 … total-1, in order, at offsets 0, 1, 2 … with no gap.
    /// </summary>
    public static async Task AssertHoldsExactlyAsync(IEventLog log, long total)
    {
        for (var p = 0; p < log.PartitionCount; p++)
        {
            var expected = Enumerable.Range(0, (int)total).Select(n => (long)n).Where(n => KeyPartitioner.PartitionFor(Make(n).Key, log.PartitionCount) == p).ToList();
            await using var reader = log.OpenReader(p, StartPosition.Earliest);
            var records = await reader.ReadExactlyAsync(expected.Count, TimeSpan.FromSeconds(60));
            Assert.Empty(await reader.ReadAsync(10, TimeSpan.FromMilliseconds(500)));
            Assert.Equal(Enumerable.Range(0, expected.Count).Select(i => (long)i), records.Select(r => r.Offset));
            Assert.Equal(expected, records.Select(Of));
            var info = (await log.DescribeAsync())[p];
            Assert.Equal((0L, (long)expected.Count), (info.FirstOffset, info.NextOffset));
        }
    }
}

/// <summary>Starts the CrashWriter child with the same dotnet host that runs the tests.</summary>
internal static class CrashWriterProcess
{
    public static Process Start(string uri, string name, int partitions, long total) =>
        ChildDotnet.Start("BaloyiBank.EventLog.RabbitMq.CrashWriter", [uri, name, partitions.ToString(CultureInfo.InvariantCulture), total.ToString(CultureInfo.InvariantCulture)]);
}
