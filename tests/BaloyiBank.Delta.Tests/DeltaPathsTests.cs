using FsCheck;
using FsCheck.Fluent;

namespace BaloyiBank.Delta.Tests;

public sealed class DeltaPathsTests
{
    [Fact]
    public void Any_relative_path_survives_encoding_for_the_log_and_decoding_back()
    {
        // Text without lone surrogates, which no file name can hold anyway.
        var paths = ArbMap.Default.GeneratorFor<string>()
            .Where(s => s is not null && !s.Any(char.IsSurrogate))
            .Select(s => "event_date=2026-01-01/" + s)
            .ToArbitrary();

        Prop.ForAll(paths, path =>
        {
            var encoded = DeltaPaths.EncodeDataPath(path);
            return DeltaPaths.DecodeDataPath(encoded) == path && !encoded.Contains(' ', StringComparison.Ordinal) && !encoded.Contains(':', StringComparison.Ordinal);
        }).QuickCheckThrowOnFailure();
    }

    [Theory]
    [InlineData("s3://bucket/x.parquet")]
    [InlineData("/abs/x.parquet")]
    [InlineData("c:x.parquet")]
    public void Absolute_paths_are_refused(string path) => Assert.Throws<DeltaProtocolException>(() => DeltaPaths.DecodeDataPath(path));

    [Fact]
    public void Partition_values_serialize_as_the_protocol_says()
    {
        Assert.Equal("2026-01-31", DeltaPaths.SerializePartitionValue(ColumnType.Date, new DateOnly(2026, 1, 31)));
        Assert.Equal("2026-01-31T22:15:00.123456Z", DeltaPaths.SerializePartitionValue(ColumnType.Timestamp, new DateTimeOffset(2026, 2, 1, 0, 15, 0, TimeSpan.FromHours(2)).AddTicks(1_234_560)));
        Assert.Equal("12.50", DeltaPaths.SerializePartitionValue(ColumnType.Money, 12.50m));
        Assert.Equal("-7", DeltaPaths.SerializePartitionValue(ColumnType.Long, -7L));
        Assert.Equal("false", DeltaPaths.SerializePartitionValue(ColumnType.Boolean, false));
        Assert.Null(DeltaPaths.SerializePartitionValue(ColumnType.String, null));
        Assert.Equal(
            "event_date=2026-01-31/booked=2026-01-31T22%3A15%3A00Z/",
            DeltaPaths.PartitionFolder(["event_date", "booked"], new Dictionary<string, string?> { ["event_date"] = "2026-01-31", ["booked"] = "2026-01-31T22:15:00Z" }));
    }

    [Theory]
    [InlineData("00000000000000000042.json", 42L, false)]
    [InlineData("00000000000000000040.checkpoint.parquet", 40L, true)]
    public void Log_file_names_are_recognised(string name, long version, bool checkpoint) =>
        Assert.Equal((version, checkpoint), DeltaPaths.ParseLogFileName(name));

    [Theory]
    [InlineData("00000000000000000040.checkpoint.0000000001.0000000002.parquet")]
    [InlineData("00000000000000000040.crc")]
    [InlineData("_last_checkpoint")]
    public void Other_log_files_are_ignored(string name) => Assert.Null(DeltaPaths.ParseLogFileName(name));
}
