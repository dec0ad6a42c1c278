using BaloyiBank.Tests.Shared;
using System.Diagnostics;
using System.Text;
using BaloyiBank.EventLog.Embedded;
using Xunit;

namespace BaloyiBank.EventLog.Tests;

public sealed class EmbeddedEventLogTests : IDisposable
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(100);
    private readonly TempFolder _root = new();
    private readonly ManualClock _clock = new(new DateTimeOffset(2025, 3, 1, 8, 0, 0, TimeSpan.Zero));

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task A_torn_tail_cut_mid_frame_is_invisible_and_the_next_writer_repairs_it()
    {
        var folder = _root.NewFolder();
        await AppendBatches(folder, batches: 3, perBatch: 10);
        var segment = SegmentPath(folder, 0, 0);
        Truncate(segment, by: 7);

        await using var log = Open(folder);
        await using var reader = log.OpenReader(0, StartPosition.Earliest);
        var before = await reader.ReadToEndAsync(Quiet);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i), before.Select(r => r.Offset));
        Assert.Equal(20, (await log.DescribeAsync())[0].NextOffset);

        await using var producer = log.CreateProducer();
        Assert.True(log.Writer(0).TruncatedTailBytes > 0);
        var result = await producer.AppendAsync([.. Enumerable.Range(0, 5).Select(i => Events.Make("k", $"after-{i}"))]);

        Assert.Equal(Enumerable.Range(20, 5).Select(i => (long)i), result.Positions.Select(p => p.Offset));
        var after = await reader.ReadExactlyAsync(5);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"after-{i}"), after.Select(r => r.Text()));
    }

    [Theory]
    [InlineData("random")]
    [InlineData("zeros")]
    [InlineData("half-a-frame")]
    [InlineData("frame-with-bad-body")]
    public async Task Garbage_after_the_last_frame_is_invisible_and_the_next_writer_cuts_it(string garbage)
    {
        var folder = _root.NewFolder();
        await AppendBatches(folder, batches: 3, perBatch: 10);
        var segment = SegmentPath(folder, 0, 0);
        var bytes = File.ReadAllBytes(segment);
        var firstFrameLength = BitConverter.ToInt32(bytes, 4);
        byte[] tail = garbage switch
        {
            "random" => RandomBytes(1000),
            "zeros" => new byte[4096],
            "half-a-frame" => bytes[..(firstFrameLength / 2)],
            _ => FlipLastByte(bytes[..firstFrameLength]),
        };
        await File.AppendAllBytesAsync(segment, tail);

        await using var log = Open(folder);
        await using var reader = log.OpenReader(0, StartPosition.Earliest);
        Assert.Equal(30, (await reader.ReadToEndAsync(Quiet)).Count);

        await using var producer = log.CreateProducer();
        var result = await producer.AppendAsync([Events.Make("k", "after")]);

        Assert.Equal(30, result.Positions[0].Offset);
        Assert.Equal("after", (await reader.ReadExactlyAsync(1))[0].Text());
        Assert.Equal(tail.Length, log.Writer(0).TruncatedTailBytes);
    }

    [Theory]
    [InlineData("middle")]
    [InlineData("first-header")]
    [InlineData("last-frame")]
    public async Task A_flipped_byte_in_a_sealed_segment_is_reported_as_corruption_with_partition_file_and_offset(string where)
    {
        var folder = _root.NewFolder();
        await AppendBatches(folder, batches: 40, perBatch: 5, segmentBytes: 4096, valueSize: 100);
        var segments = Directory.GetFiles(Path.Combine(folder, "partition-0000"), "*.log").Order().ToArray();
        Assert.True(segments.Length >= 3, $"{segments.Length} segments");
        var damaged = segments[1];
        var length = new FileInfo(damaged).Length;
        FlipByte(damaged, where switch { "middle" => length / 2, "first-header" => 5, _ => length - 3 });

        await using var log = Open(folder);
        await using var reader = log.OpenReader(0, StartPosition.Earliest);
        var records = new List<LogRecord>();
        var error = await Assert.ThrowsAsync<EventLogCorruptionException>(async () =>
        {
            for (var attempt = 0; attempt < 100; attempt++)
            {
                records.AddRange(await Events.Guarded(reader, 1000, Quiet));
            }
        });

        Assert.Equal(0, error.Partition);
        Assert.Equal(damaged, error.FilePath);
        Assert.InRange(error.BytePosition, 0, length - 1);
        Assert.Equal(records.Count, error.Offset);
        Assert.Contains("partition 0", error.Message, StringComparison.Ordinal);
        Assert.Contains(Path.GetFileName(damaged), error.Message, StringComparison.Ordinal);
        Assert.Contains($"offset {error.Offset}", error.Message, StringComparison.Ordinal);
        Assert.Equal(Enumerable.Range(0, records.Count).Select(i => (long)i), records.Select(r => r.Offset));
        Assert.All(records, r => Assert.StartsWith("v", r.Text(), StringComparison.Ordinal));
        await Assert.ThrowsAsync<EventLogCorruptionException>(() => reader.ReadAsync(10, Quiet));

        // Reading from the next segment on is unaffected, and the writer can still append.
        var nextBase = long.Parse(Path.GetFileNameWithoutExtension(segments[2]), System.Globalization.CultureInfo.InvariantCulture);
        await using var later = log.OpenReader(0, StartPosition.AtOffset(nextBase));
        Assert.Equal(200 - nextBase, (await later.ReadToEndAsync(Quiet)).Count);
        await using var producer = log.CreateProducer();
        Assert.Equal(200, (await producer.AppendAsync([Events.Make("k", "still writable")])).Positions[0].Offset);
    }

    [Fact]
    public async Task Damage_with_valid_frames_after_it_in_the_active_segment_is_corruption_and_the_writer_refuses_to_cut_it()
    {
        var folder = _root.NewFolder();
        await AppendBatches(folder, batches: 4, perBatch: 5, indexIntervalBytes: 1 << 20);
        var segment = SegmentPath(folder, 0, 0);
        var bytes = File.ReadAllBytes(segment);
        var secondFrame = BitConverter.ToInt32(bytes, 4);
        FlipByte(segment, secondFrame + 60);

        await using var log = Open(folder, indexIntervalBytes: 1 << 20);
        await using var reader = log.OpenReader(0, StartPosition.Earliest);
        Assert.Equal(5, (await reader.ReadAsync(100, Quiet)).Count);
        var readError = await Assert.ThrowsAsync<EventLogCorruptionException>(() => reader.ReadAsync(100, Quiet));
        var writeError = Assert.Throws<EventLogCorruptionException>(() => log.CreateProducer());

        Assert.Equal(5, readError.Offset);
        Assert.Equal(secondFrame, readError.BytePosition);
        Assert.Equal(secondFrame, writeError.BytePosition);
        Assert.Contains("will not truncate", writeError.Message, StringComparison.Ordinal);
        Assert.Equal(bytes.Length, new FileInfo(segment).Length);
    }

    [Fact]
    public async Task A_second_writer_in_the_same_process_gets_a_clear_lock_error_until_the_first_closes()
    {
        var folder = _root.NewFolder();
        var first = Open(folder, partitions: 2);
        await using var producer = first.CreateProducer();
        await using var second = Open(folder, partitions: 2);

        var error = Assert.Throws<EventLogLockedException>(() => second.CreateProducer());

        Assert.Equal(0, error.Partition);
        Assert.Contains("partition 0", error.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(folder, "partition-0000"), error.Message, StringComparison.Ordinal);
        Assert.Contains($"pid {Environment.ProcessId}", error.Message, StringComparison.Ordinal);
        Assert.Contains("stop the other process or use another --data folder", error.Message, StringComparison.Ordinal);

        await first.DisposeAsync();
        await using var now = second.CreateProducer();
        Assert.Equal(0, (await now.AppendAsync([Events.Make("k", "v")])).Positions[0].Offset);
    }

    [Fact]
    public async Task A_writer_in_another_process_blocks_writing_with_its_pid_until_it_is_killed()
    {
        var folder = _root.NewFolder();
        using var child = CrashWriterProcess.Start(folder, run: 0, partitions: 2, mode: "hold");
        try
        {
            var line = await child.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal($"holding {child.Id}", line);

            await using var log = Open(folder, partitions: 2);
            var error = Assert.Throws<EventLogLockedException>(() => log.CreateProducer());
            Assert.Contains($"pid {child.Id}", error.Message, StringComparison.Ordinal);

            child.Kill();
            await child.WaitForExitAsync();
            await using var producer = log.CreateProducer();
            Assert.Single((await producer.AppendAsync([Events.Make("k", "v")])).Positions);
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill();
            }
        }
    }

    [Fact]
    public async Task Opening_an_existing_log_with_another_partition_count_or_name_fails_clearly()
    {
        var folder = _root.NewFolder();
        await using (Open(folder, partitions: 4))
        {
        }

        var partitions = Assert.Throws<EventLogConfigurationException>(() => Open(folder, partitions: 8));
        Assert.Contains("has 4 partitions", partitions.Message, StringComparison.Ordinal);
        Assert.Contains("8 were configured", partitions.Message, StringComparison.Ordinal);
        Assert.Contains("EventLog__Partitions", partitions.Message, StringComparison.Ordinal);
        Assert.Contains("another --data folder", partitions.Message, StringComparison.Ordinal);

        var name = Assert.Throws<EventLogConfigurationException>(() => EmbeddedEventLog.Open(new EmbeddedEventLogOptions { Directory = folder, Partitions = 4, Name = "other" }));
        Assert.Contains("'bank-events'", name.Message, StringComparison.Ordinal);

        var manifest = File.ReadAllText(Path.Combine(folder, "log.json"));
        Assert.Contains("\"partitions\": 4", manifest, StringComparison.Ordinal);
        Assert.Contains("\"formatVersion\": 1", manifest, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenExisting_takes_the_partition_count_and_name_from_the_manifest_and_refuses_a_folder_without_a_log()
    {
        var folder = _root.NewFolder();
        await using (var created = EmbeddedEventLog.Open(new EmbeddedEventLogOptions { Directory = folder, Partitions = 3, Name = "payments" }))
        {
            await using var producer = created.CreateProducer();
            await producer.AppendAsync([new OutgoingEvent("ACC-1", new byte[] { 1, 2, 3 }, EventHeaders.Empty)]);
        }

        await using (var existing = EmbeddedEventLog.OpenExisting(folder))
        {
            Assert.Equal(3, existing.PartitionCount);
            Assert.Equal("payments", existing.Name);
            Assert.Equal(1, (await existing.DescribeAsync()).Sum(p => p.NextOffset - p.FirstOffset));
        }

        var empty = _root.NewFolder();
        var missing = Assert.Throws<EventLogConfigurationException>(() => EmbeddedEventLog.OpenExisting(empty));
        Assert.Contains("no event log", missing.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(empty, "log.json")), "OpenExisting must not create a log");
    }

    [Fact]
    public async Task Segments_roll_at_SegmentBytes_are_named_by_base_offset_and_reads_cross_them()
    {
        var folder = _root.NewFolder();
        await AppendBatches(folder, batches: 100, perBatch: 3, segmentBytes: 4096, valueSize: 200);
        var directory = Path.Combine(folder, "partition-0000");
        var segments = Directory.GetFiles(directory, "*.log").Order().ToArray();

        Assert.True(segments.Length > 10, $"{segments.Length} segments");
        Assert.All(segments, s => Assert.Matches("^[0-9]{20}\\.log$", Path.GetFileName(s)));
        Assert.All(segments, s => Assert.True(File.Exists(Path.ChangeExtension(s, ".idx"))));
        Assert.All(segments, s => Assert.InRange(new FileInfo(s).Length, 1, 4096));

        await using var log = Open(folder);
        await using var reader = log.OpenReader(0, StartPosition.Earliest);
        var records = await reader.ReadToEndAsync(Quiet);
        Assert.Equal(Enumerable.Range(0, 300).Select(i => (long)i), records.Select(r => r.Offset));
        Assert.Equal(Enumerable.Range(0, 300).Select(i => Value(i, 200)), records.Select(r => r.Text()));

        // Each segment starts where the previous one ended.
        var bases = segments.Select(s => long.Parse(Path.GetFileNameWithoutExtension(s), System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(0, bases[0]);
        Assert.True(bases.Zip(bases.Skip(1)).All(pair => pair.Second > pair.First && pair.Second % 3 == 0));
    }

    [Fact]
    public async Task Seeking_by_offset_or_time_uses_the_index_instead_of_scanning_the_partition()
    {
        const int segmentBytes = 64 * 1024;
        var folder = _root.NewFolder();
        var start = _clock.GetUtcNow();
        await AppendBatches(folder, batches: 400, perBatch: 10, segmentBytes: segmentBytes, valueSize: 500, tick: TimeSpan.FromSeconds(1));
        var total = Directory.GetFiles(Path.Combine(folder, "partition-0000"), "*.log").Sum(f => new FileInfo(f).Length);
        Assert.True(total > 30 * segmentBytes);

        await using var log = Open(folder);
        foreach (var target in new long[] { 0, 1, 1234, 2000, 2501, 3999 })
        {
            await using var reader = (EmbeddedPartitionReader)log.OpenReader(0, StartPosition.AtOffset(target));
            var record = (await reader.ReadAsync(1, Quiet)).Single();
            Assert.Equal(target, record.Offset);
            Assert.Equal(Value((int)target, 500), record.Text());
            Assert.True(reader.BytesRead <= 2 * segmentBytes, $"read {reader.BytesRead} bytes to reach offset {target}");
        }

        foreach (var batch in new[] { 0, 7, 123, 399 })
        {
            // Batch b was appended at start + b seconds.
            await using var reader = (EmbeddedPartitionReader)log.OpenReader(0, StartPosition.AtTime(start + TimeSpan.FromSeconds(batch) - TimeSpan.FromMilliseconds(1)));
            var record = (await reader.ReadAsync(1, Quiet)).Single();
            Assert.Equal(batch * 10, record.Offset);
            Assert.True(reader.BytesRead <= 2 * segmentBytes, $"read {reader.BytesRead} bytes to reach batch {batch}");
        }
    }

    [Fact]
    public async Task Retention_never_deletes_the_active_segment()
    {
        var folder = _root.NewFolder();
        await using var log = Open(folder, retention: TimeSpan.FromHours(1));
        await using var producer = log.CreateProducer();
        await producer.AppendAsync([.. Enumerable.Range(0, 10).Select(i => Events.Make("k", $"v{i}"))]);
        _clock.Advance(TimeSpan.FromDays(30));

        Assert.Equal(0, log.ApplyRetention());
        await using var reader = log.OpenReader(0, StartPosition.Earliest);
        Assert.Equal(10, (await reader.ReadToEndAsync(Quiet)).Count);
    }

    [Fact]
    public async Task Retention_deletes_only_segments_whose_newest_record_is_older_than_the_period_and_also_runs_at_roll()
    {
        var folder = _root.NewFolder();
        await using var log = Open(folder, segmentBytes: 4096, retention: TimeSpan.FromHours(2));
        await using var producer = log.CreateProducer();
        var start = _clock.GetUtcNow();
        for (var batch = 0; batch < 60; batch++)
        {
            await producer.AppendAsync([.. Enumerable.Range(0, 4).Select(i => Events.Make("k", Value((batch * 4) + i, 150)))]);
            _clock.Advance(TimeSpan.FromMinutes(10));
        }

        // Record o was appended with batch o / 4, at start + 10 minutes per batch.
        DateTimeOffset TimeOf(long offset) => start + (TimeSpan.FromMinutes(10) * (offset / 4));
        Assert.True((await log.DescribeAsync())[0].FirstOffset > 0, "segment rolls applied retention without an explicit call");

        log.ApplyRetention();
        var cutoff = _clock.GetUtcNow() - TimeSpan.FromHours(2);
        var info = (await log.DescribeAsync())[0];
        var bases = Directory.GetFiles(Path.Combine(folder, "partition-0000"), "*.log").Order()
            .Select(f => long.Parse(Path.GetFileNameWithoutExtension(f), System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(info.FirstOffset, bases[0]);
        Assert.True(TimeOf(info.FirstOffset - 1) < cutoff, "the newest record of the last deleted segment had expired");
        Assert.True(TimeOf(bases[1] - 1) >= cutoff, "the newest record of the oldest kept segment has not expired");

        await using var reader = log.OpenReader(0, StartPosition.AtOffset(0));
        var retained = await reader.ReadToEndAsync(Quiet);
        Assert.Equal(Enumerable.Range((int)info.FirstOffset, 240 - (int)info.FirstOffset).Select(i => (long)i), retained.Select(r => r.Offset));
        Assert.All(retained, r => Assert.Equal(TimeOf(r.Offset), r.EnqueuedAt));

        _clock.Advance(TimeSpan.FromHours(3));
        Assert.True(log.ApplyRetention() > 0);
        var last = (await log.DescribeAsync())[0];
        Assert.Equal(240, last.NextOffset);
        Assert.True(last.FirstOffset > info.FirstOffset);
    }

    [Fact]
    public async Task A_reader_in_another_instance_tails_by_polling_across_segment_rolls()
    {
        var folder = _root.NewFolder();
        await using var writer = Open(folder, segmentBytes: 4096);
        await using var producer = writer.CreateProducer();
        await producer.AppendAsync([Events.Make("k", "before")]);
        await using var other = Open(folder, segmentBytes: 4096);
        await using var reader = other.OpenReader(0, StartPosition.Latest);

        for (var batch = 0; batch < 30; batch++)
        {
            await producer.AppendAsync([.. Enumerable.Range(0, 3).Select(i => Events.Make("k", Value((batch * 3) + i, 300)))]);
        }

        var records = await reader.ReadExactlyAsync(90);
        Assert.Equal(Enumerable.Range(1, 90).Select(i => (long)i), records.Select(r => r.Offset));
        Assert.Equal(Enumerable.Range(0, 90).Select(i => Value(i, 300)), records.Select(r => r.Text()));
        Assert.Equal((await writer.DescribeAsync())[0], (await other.DescribeAsync())[0]);
    }

    [Fact]
    public async Task A_reader_waiting_at_a_torn_tail_continues_with_the_data_a_new_writer_appends_there()
    {
        var folder = _root.NewFolder();
        await AppendBatches(folder, batches: 2, perBatch: 5);
        await File.AppendAllBytesAsync(SegmentPath(folder, 0, 0), RandomBytes(300));

        await using var readOnly = Open(folder);
        await using var reader = readOnly.OpenReader(0, StartPosition.Earliest);
        Assert.Equal(10, (await reader.ReadToEndAsync(Quiet)).Count);

        await using var repaired = Open(folder);
        await using var producer = repaired.CreateProducer();
        await producer.AppendAsync([.. Enumerable.Range(0, 5).Select(i => Events.Make("k", $"new-{i}"))]);

        var records = await reader.ReadExactlyAsync(5);
        Assert.Equal(Enumerable.Range(10, 5).Select(i => (long)i), records.Select(r => r.Offset));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"new-{i}"), records.Select(r => r.Text()));
    }

    [Fact]
    public async Task An_empty_active_segment_left_by_a_crash_right_after_a_roll_reads_and_appends_normally()
    {
        var folder = _root.NewFolder();
        await AppendBatches(folder, batches: 20, perBatch: 3, segmentBytes: 4096, valueSize: 200, tick: TimeSpan.FromSeconds(1));
        File.WriteAllBytes(SegmentPath(folder, 0, 60), []);

        await using var log = Open(folder, segmentBytes: 4096);
        var info = (await log.DescribeAsync())[0];
        Assert.Equal(60, info.NextOffset);
        Assert.Equal(_clock.GetUtcNow() - TimeSpan.FromSeconds(1), info.LastEnqueuedAt);
        await using var earliest = log.OpenReader(0, StartPosition.Earliest);
        Assert.Equal(60, (await earliest.ReadToEndAsync(Quiet)).Count);
        await using var latest = log.OpenReader(0, StartPosition.Latest);
        await using var future = log.OpenReader(0, StartPosition.AtTime(_clock.GetUtcNow()));
        Assert.Empty(await Events.Guarded(future, 10, Quiet));

        await using var producer = log.CreateProducer();
        var result = await producer.AppendAsync([Events.Make("k", "after the crash")]);

        Assert.Equal(60, result.Positions[0].Offset);
        Assert.Equal(60, (await earliest.ReadExactlyAsync(1))[0].Offset);
        Assert.Equal(60, (await latest.ReadExactlyAsync(1))[0].Offset);
        Assert.Equal(60, (await future.ReadExactlyAsync(1))[0].Offset);
    }

    [Fact]
    public async Task Invalid_events_are_rejected_before_anything_is_written()
    {
        await using var log = Open(_root.NewFolder());
        await using var producer = log.CreateProducer();

        var noKey = await Assert.ThrowsAsync<ArgumentException>(() => producer.AppendAsync([Events.Make("k", "a"), new OutgoingEvent(null!, new byte[1], EventHeaders.Empty)]));
        Assert.Contains("events[1]", noKey.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => producer.AppendAsync([Events.Make(new string('k', 70_000), "a")]));
        await Assert.ThrowsAsync<ArgumentException>(() => producer.AppendAsync([Events.Make("k", "a", new EventHeaders(new KeyValuePair<string, string>("h", new string('x', 70_000))))]));

        Assert.True((await log.DescribeAsync())[0].IsEmpty);
    }

    [Fact]
    public async Task A_large_batch_is_encoded_and_written_per_partition_in_parallel_with_the_same_result()
    {
        await using var log = Open(_root.NewFolder(), partitions: 4, segmentBytes: 64 * 1024);
        await using var producer = log.CreateProducer();
        var events = Enumerable.Range(0, 5000).Select(i => Events.Make($"account-{i % 701}", Value(i, 120), new EventHeaders(
            new KeyValuePair<string, string>(EventHeaders.TraceParent, $"00-{i:x32}-{i:x16}-01")))).ToArray();
        var broken = events.ToArray();
        broken[^1] = new OutgoingEvent("k", new byte[1], new EventHeaders(new KeyValuePair<string, string>(null!, "no name")));

        var error = await Assert.ThrowsAsync<ArgumentException>(() => producer.AppendAsync(broken));
        Assert.Contains("events[4999]", error.Message, StringComparison.Ordinal);
        Assert.All(await log.DescribeAsync(), info => Assert.True(info.IsEmpty));

        var result = await producer.AppendAsync(events);
        for (var p = 0; p < 4; p++)
        {
            var expected = Enumerable.Range(0, events.Length).Where(i => result.Positions[i].Partition == p).ToList();
            Assert.Equal(expected.Select(i => KeyPartitioner.PartitionFor(events[i].Key, 4)).Distinct(), [p]);
            await using var reader = log.OpenReader(p, StartPosition.Earliest);
            var records = await reader.ReadExactlyAsync(expected.Count);
            Assert.Equal(Enumerable.Range(0, expected.Count).Select(i => (long)i), records.Select(r => r.Offset));
            Assert.Equal(expected.Select(i => Value(i, 120)), records.Select(r => r.Text()));
            Assert.Equal(expected.Select(i => events[i].Headers[EventHeaders.TraceParent]), records.Select(r => r.Headers[EventHeaders.TraceParent]));
        }
    }

    [Fact]
    public async Task Large_values_default_headers_and_fsync_on_append_round_trip()
    {
        await using var log = Open(_root.NewFolder(), segmentBytes: 1 << 20, fsync: true);
        await using var producer = log.CreateProducer();
        var large = RandomBytes(3 * 1024 * 1024);

        await producer.AppendAsync([new OutgoingEvent("big", large, EventHeaders.Empty), new OutgoingEvent("default-headers", new byte[] { 1 }, null!), Events.Make("small", "s")]);

        await using var reader = log.OpenReader(0, StartPosition.Earliest);
        var records = await reader.ReadExactlyAsync(3);
        Assert.Equal(large, records[0].Value.ToArray());
        Assert.Empty(records[1].Headers);
        Assert.Equal("s", records[2].Text());
    }

    [Fact]
    public async Task A_disposed_log_refuses_work_and_a_clean_close_releases_the_locks()
    {
        var folder = _root.NewFolder();
        var log = Open(folder);
        var producer = log.CreateProducer();
        await log.DisposeAsync();

        Assert.Throws<ObjectDisposedException>(() => log.CreateProducer());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => producer.AppendAsync([Events.Make("k", "v")]));
        await using var again = Open(folder);
        await using var next = again.CreateProducer();
        Assert.Contains($"pid {Environment.ProcessId}", File.ReadAllText(Path.Combine(folder, "partition-0000", "writer.pid")), StringComparison.Ordinal);
    }

    internal static string Value(int i, int size) => "v" + i.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(size - 1, '.');

    private static string SegmentPath(string folder, int partition, long baseOffset) =>
        Path.Combine(folder, $"partition-{partition:D4}", $"{baseOffset:D20}.log");

    private static void Truncate(string path, int by)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        stream.SetLength(stream.Length - by);
    }

    private static void FlipByte(string path, long position)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = position;
        var value = stream.ReadByte();
        stream.Position = position;
        stream.WriteByte((byte)(value ^ 0x5A));
    }

    private static byte[] FlipLastByte(byte[] frame)
    {
        frame[^1] ^= 0xFF;
        return frame;
    }

    private static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        new Random(count).NextBytes(bytes);
        return bytes;
    }

    private EmbeddedEventLog Open(
        string folder, int partitions = 1, long segmentBytes = 1 << 20, TimeSpan? retention = null, int indexIntervalBytes = 4096, bool fsync = false) =>
        EmbeddedEventLog.Open(new EmbeddedEventLogOptions
        {
            Directory = folder,
            Partitions = partitions,
            SegmentBytes = segmentBytes,
            Retention = retention ?? TimeSpan.FromDays(7),
            IndexIntervalBytes = indexIntervalBytes,
            FsyncOnAppend = fsync,
            TimeProvider = _clock,
            PollInterval = TimeSpan.FromMilliseconds(20),
        });

    private async Task AppendBatches(
        string folder, int batches, int perBatch, long segmentBytes = 1 << 20, int valueSize = 20, int indexIntervalBytes = 4096, TimeSpan? tick = null)
    {
        await using var log = Open(folder, segmentBytes: segmentBytes, indexIntervalBytes: indexIntervalBytes);
        await using var producer = log.CreateProducer();
        for (var batch = 0; batch < batches; batch++)
        {
            await producer.AppendAsync([.. Enumerable.Range(0, perBatch).Select(i => Events.Make("k", Value((batch * perBatch) + i, valueSize)))]);
            _clock.Advance(tick ?? TimeSpan.Zero);
        }
    }
}

/// <summary>Starts the CrashWriter child with the same dotnet host that runs the tests.</summary>
internal static class CrashWriterProcess
{
    public static Process Start(string folder, int run, int partitions, string mode) =>
        ChildDotnet.Start("BaloyiBank.EventLog.CrashWriter", [folder, run.ToString(System.Globalization.CultureInfo.InvariantCulture), partitions.ToString(System.Globalization.CultureInfo.InvariantCulture), mode]);
}
