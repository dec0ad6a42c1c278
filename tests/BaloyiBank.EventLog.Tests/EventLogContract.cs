using System.Text;
using Xunit;

namespace BaloyiBank.EventLog.Tests;

/// <summary>
/// The behaviour every <see cref="IEventLog"/> backend must show. A backend's test class derives
/// from this, says how to create a fresh log, and overrides the clock and retention hooks where it
/// can control them. Offsets are only assumed to grow, not to be dense.
/// </summary>
public abstract class EventLogContract
{
    /// <summary>A new, empty log with <paramref name="partitions"/> partitions (a fresh folder, stream set or hub).</summary>
    protected abstract Task<IEventLog> CreateLogAsync(int partitions);

    /// <summary>Opens the same stored log again after <paramref name="disposed"/> was disposed: a process restart.</summary>
    protected abstract Task<IEventLog> ReopenAsync(IEventLog disposed);

    /// <summary>Now, on the clock the log stamps enqueue times with.</summary>
    protected virtual DateTimeOffset Now(IEventLog log) => DateTimeOffset.UtcNow;

    /// <summary>Lets time pass on the log's clock; brokers really wait.</summary>
    protected virtual Task LetTimePassAsync(IEventLog log, TimeSpan elapsed) => Task.Delay(elapsed);

    /// <summary>How far a broker's enqueue times may be from <see cref="Now"/> (clock skew).</summary>
    protected virtual TimeSpan ClockTolerance => TimeSpan.FromSeconds(2);

    /// <summary>How long a read must stay empty to count as "nothing more" (brokers need longer).</summary>
    protected virtual TimeSpan Quiet => TimeSpan.FromMilliseconds(300);

    /// <summary>The retention configured on logs from <see cref="CreateLogAsync"/>; null when it cannot be tested quickly.</summary>
    protected virtual TimeSpan? Retention => null;

    /// <summary>Lets <paramref name="elapsed"/> pass on the log's clock and applies retention now.</summary>
    protected virtual Task ApplyRetentionAsync(IEventLog log, TimeSpan elapsed) =>
        throw new NotSupportedException("Override ApplyRetentionAsync together with Retention.");

    /// <summary>Events appended before aging them in the retention test: enough to fill several segments.</summary>
    protected virtual int RetentionEventCount => 2_000;

    /// <summary>The one-partition log of the retention test (a backend may need short retention settings for it).</summary>
    protected virtual Task<IEventLog> CreateRetentionLogAsync() => CreateLogAsync(1);

    /// <summary>
    /// The same stored log opened a second time beside <paramref name="log"/>, as another process would (a describe or
    /// reader there knows nothing of the writer's state); null where a backend allows one instance per log.
    /// </summary>
    protected virtual Task<IEventLog?> OpenBesideAsync(IEventLog log) => Task.FromResult<IEventLog?>(null);

    [Fact]
    public async Task Describe_returns_promptly_while_a_producer_appends_without_pause()
    {
        await using var log = await CreateLogAsync(1);
        await using var beside = await OpenBesideAsync(log);
        var describer = beside ?? log;
        await using var producer = log.CreateProducer();
        var first = (await producer.AppendAsync([Events.Make("k", "first")])).Positions[0].Offset;
        long acknowledged = first;
        using var stop = new CancellationTokenSource();
        // Never pauses: a log whose tail is found by waiting for a quiet moment never finds it (issue 21). Several
        // appenders keep appends in flight while one waits for its acknowledgement.
        var producing = Task.WhenAll(Enumerable.Range(0, 4).Select(appender => Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var result = await producer.AppendAsync([.. Enumerable.Range(0, 10).Select(i => Events.Make("k", $"{appender}/{n}/{i}"))]);
                var offset = result.Positions[^1].Offset;
                for (var seen = Volatile.Read(ref acknowledged); seen < offset; seen = Volatile.Read(ref acknowledged))
                {
                    Interlocked.CompareExchange(ref acknowledged, offset, seen);
                }
            }
        })));

        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (Volatile.Read(ref acknowledged) < first + 20)
            {
                Assert.True(DateTime.UtcNow < deadline && !producing.IsCompleted, "The producer did not get 20 appends through.");
                await Task.Delay(10);
            }

            for (var round = 0; round < 3; round++)
            {
                var floor = Volatile.Read(ref acknowledged);
                // A generous guard against a describe that waits for the producer to stop, not a speed limit.
                var info = (await describer.DescribeAsync().WaitAsync(TimeSpan.FromSeconds(60)))[0];
                Assert.True(info.FirstOffset <= first, $"first offset {info.FirstOffset} is past the first append's {first}");
                Assert.True(info.NextOffset > floor, $"next offset {info.NextOffset} misses offset {floor}, acknowledged before the describe began");

                // A reader started at an offset finds it the same way, and starts exactly there.
                await using var reader = describer.OpenReader(0, StartPosition.AtOffset(floor));
                var records = await reader.ReadExactlyAsync(1, TimeSpan.FromSeconds(60));
                Assert.Equal(floor, records[0].Position.Offset);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await producing;
        }
    }

    [Fact]
    public async Task Append_returns_positions_in_input_order_growing_per_partition()
    {
        await using var log = await CreateLogAsync(4);
        await using var producer = log.CreateProducer();
        var events = Enumerable.Range(0, 200).Select(i => Events.Make($"account-{i % 37}", $"v{i}")).ToArray();

        var result = await producer.AppendAsync(events);

        Assert.Equal(events.Length, result.Count);
        foreach (var perPartition in result.Positions.GroupBy(p => p.Partition))
        {
            var offsets = perPartition.Select(p => p.Offset).ToList();
            Assert.True(offsets.Zip(offsets.Skip(1)).All(pair => pair.Second > pair.First), $"offsets of partition {perPartition.Key} grow in input order");
        }
    }

    [Fact]
    public async Task Keys_land_on_the_KeyPartitioner_partition()
    {
        await using var log = await CreateLogAsync(5);
        await using var producer = log.CreateProducer();
        var keys = Enumerable.Range(0, 300).Select(i => $"customer-{i}-é").ToArray();

        var result = await producer.AppendAsync([.. keys.Select(k => Events.Make(k, k))]);

        for (var i = 0; i < keys.Length; i++)
        {
            Assert.Equal(KeyPartitioner.PartitionFor(keys[i], 5), result.Positions[i].Partition);
        }

        for (var p = 0; p < 5; p++)
        {
            await using var reader = log.OpenReader(p, StartPosition.Earliest);
            var expected = keys.Where(k => KeyPartitioner.PartitionFor(k, 5) == p).ToList();
            var records = await reader.ReadExactlyAsync(expected.Count);
            Assert.Equal(expected, records.Select(r => r.Key));
            Assert.All(records, r => Assert.Equal(p, r.Partition));
        }
    }

    [Fact]
    public async Task Order_per_partition_holds_across_batches_and_concurrent_producers()
    {
        const int partitions = 3;
        await using var log = await CreateLogAsync(partitions);
        var appended = new List<(int Producer, AppendResult Result, OutgoingEvent[] Events)>[3];
        await Task.WhenAll(Enumerable.Range(0, 3).Select(producerId => Task.Run(async () =>
        {
            appended[producerId] = [];
            await using var producer = log.CreateProducer();
            var random = new Random(producerId);
            var sequence = 0;
            for (var batch = 0; batch < 25; batch++)
            {
                var events = Enumerable.Range(0, random.Next(1, 120))
                    .Select(_ => Events.Make($"p{producerId}-k{random.Next(50)}", $"{producerId}:{sequence++}"))
                    .ToArray();
                appended[producerId].Add((producerId, await producer.AppendAsync(events), events));
            }
        })));

        for (var p = 0; p < partitions; p++)
        {
            var expected = appended.SelectMany(list => list)
                .SelectMany(a => a.Result.Positions.Select((position, i) => (position, a.Events[i])))
                .Where(x => x.position.Partition == p)
                .OrderBy(x => x.position.Offset)
                .ToList();
            await using var reader = log.OpenReader(p, StartPosition.Earliest);
            var records = await reader.ReadExactlyAsync(expected.Count);

            Assert.Equal(expected.Select(x => x.position.Offset), records.Select(r => r.Offset));
            Assert.Equal(expected.Select(x => Encoding.UTF8.GetString(x.Item2.Value.Span)), records.Select(r => r.Text()));

            // Each producer's events keep their relative order inside the partition.
            foreach (var byProducer in records.GroupBy(r => r.Text().Split(':')[0]))
            {
                var sequences = byProducer.Select(r => int.Parse(r.Text().Split(':')[1], System.Globalization.CultureInfo.InvariantCulture)).ToList();
                Assert.Equal(sequences.Order(), sequences);
            }
        }
    }

    [Fact]
    public async Task Earliest_reads_every_record_with_its_position()
    {
        await using var log = await CreateLogAsync(2);
        await using var producer = log.CreateProducer();
        var keys = Events.KeysFor(1, 2, 50);
        var result = await producer.AppendAsync([.. keys.Select((k, i) => Events.Make(k, $"value-{i}"))]);

        await using var reader = log.OpenReader(1, StartPosition.Earliest);
        var records = await reader.ReadExactlyAsync(50);

        Assert.Equal(result.Positions, records.Select(r => r.Position));
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"value-{i}"), records.Select(r => r.Text()));
        Assert.Equal(keys, records.Select(r => r.Key));
        Assert.Empty(await reader.ReadAsync(10, Quiet));
    }

    [Fact]
    public async Task Latest_reads_only_records_appended_after_the_reader_opened()
    {
        await using var log = await CreateLogAsync(1);
        await using var producer = log.CreateProducer();
        await producer.AppendAsync([.. Enumerable.Range(0, 20).Select(i => Events.Make("k", $"old-{i}"))]);

        await using var reader = log.OpenReader(0, StartPosition.Latest);
        Assert.Empty(await reader.ReadAsync(10, Quiet));
        var result = await producer.AppendAsync([.. Enumerable.Range(0, 5).Select(i => Events.Make("k", $"new-{i}"))]);
        var records = await reader.ReadExactlyAsync(5);

        Assert.Equal(result.Positions, records.Select(r => r.Position));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"new-{i}"), records.Select(r => r.Text()));
    }

    [Fact]
    public async Task AtOffset_in_the_middle_starts_at_that_record()
    {
        await using var log = await CreateLogAsync(1);
        await using var producer = log.CreateProducer();
        var positions = new List<LogPosition>();
        for (var batch = 0; batch < 10; batch++)
        {
            positions.AddRange((await producer.AppendAsync([.. Enumerable.Range(0, 30).Select(i => Events.Make("k", $"{batch}-{i}"))])).Positions);
        }

        foreach (var index in new[] { 0, 1, 29, 30, 31, 150, 299 })
        {
            await using var reader = log.OpenReader(0, StartPosition.AtOffset(positions[index].Offset));
            var records = await reader.ReadExactlyAsync(positions.Count - index);
            Assert.Equal(positions.Skip(index), records.Select(r => r.Position));
        }
    }

    [Fact]
    public async Task AtOffset_past_the_end_returns_only_later_records_at_or_after_it()
    {
        await using var log = await CreateLogAsync(1);
        await using var producer = log.CreateProducer();
        await producer.AppendAsync([.. Enumerable.Range(0, 10).Select(i => Events.Make("k", $"a{i}"))]);
        var next = (await log.DescribeAsync())[0].NextOffset;
        var target = next + 3;

        await using var reader = log.OpenReader(0, StartPosition.AtOffset(target));
        Assert.Empty(await reader.ReadAsync(10, Quiet));
        var result = await producer.AppendAsync([.. Enumerable.Range(0, 10).Select(i => Events.Make("k", $"b{i}"))]);
        var expected = result.Positions.Where(p => p.Offset >= target).ToList();
        var records = await reader.ReadExactlyAsync(expected.Count);

        Assert.Equal(expected, records.Select(r => r.Position));
    }

    [Fact]
    public async Task AtTime_starts_at_the_first_record_enqueued_at_or_after_the_instant()
    {
        await using var log = await CreateLogAsync(1);
        await using var producer = log.CreateProducer();
        var beforeAll = Now(log) - TimeSpan.FromMinutes(1) - ClockTolerance;
        var first = await producer.AppendAsync([.. Enumerable.Range(0, 5).Select(i => Events.Make("k", $"first-{i}"))]);
        await LetTimePassAsync(log, TimeSpan.FromSeconds(1) + ClockTolerance);
        var between = Now(log);
        await LetTimePassAsync(log, TimeSpan.FromSeconds(1) + ClockTolerance);
        var second = await producer.AppendAsync([.. Enumerable.Range(0, 5).Select(i => Events.Make("k", $"second-{i}"))]);

        await using (var fromStart = log.OpenReader(0, StartPosition.AtTime(beforeAll)))
        {
            Assert.Equal(first.Positions.Concat(second.Positions), (await fromStart.ReadExactlyAsync(10)).Select(r => r.Position));
        }

        await using (var fromBetween = log.OpenReader(0, StartPosition.AtTime(between)))
        {
            var records = await fromBetween.ReadExactlyAsync(5);
            Assert.Equal(second.Positions, records.Select(r => r.Position));
            Assert.All(records, r => Assert.True(r.EnqueuedAt >= between - ClockTolerance));
        }

        await LetTimePassAsync(log, TimeSpan.FromSeconds(1) + ClockTolerance);
        var afterAll = Now(log);
        await using var fromAfter = log.OpenReader(0, StartPosition.AtTime(afterAll));
        Assert.Empty(await fromAfter.ReadAsync(10, Quiet));
        await LetTimePassAsync(log, ClockTolerance);
        var third = await producer.AppendAsync([Events.Make("k", "third")]);
        Assert.Equal(third.Positions, (await fromAfter.ReadExactlyAsync(1)).Select(r => r.Position));
    }

    [Fact]
    public async Task Describe_reports_first_and_next_offsets_and_the_newest_enqueue_time()
    {
        await using var log = await CreateLogAsync(3);
        var empty = await log.DescribeAsync();
        Assert.Equal([0, 1, 2], empty.Select(i => i.Partition));
        Assert.All(empty, info => Assert.True(info.IsEmpty));
        Assert.All(empty, info => Assert.Null(info.LastEnqueuedAt));

        await using var producer = log.CreateProducer();
        var before = Now(log);
        var result = await producer.AppendAsync([.. Events.KeysFor(2, 3, 12).Select(k => Events.Make(k, "x"))]);
        var after = Now(log);
        var infos = await log.DescribeAsync();

        var info = infos[2];
        Assert.False(info.IsEmpty);
        Assert.True(info.FirstOffset <= result.Positions[0].Offset);
        Assert.True(info.NextOffset > result.Positions[^1].Offset);
        Assert.NotNull(info.LastEnqueuedAt);
        Assert.InRange(info.LastEnqueuedAt!.Value, before - ClockTolerance, after + ClockTolerance);
        Assert.True(infos[0].IsEmpty);
        Assert.True(infos[1].IsEmpty);
    }

    [Fact]
    public async Task Headers_value_key_and_enqueue_time_round_trip()
    {
        await using var log = await CreateLogAsync(1);
        await using var producer = log.CreateProducer();
        var headers = new EventHeaders(
            new(EventHeaders.TraceParent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            new(EventHeaders.TraceState, "congo=t61rcWkgMzE"),
            new(EventHeaders.ContentType, "application/json; charset=utf-8"),
            new("x-producer", "generator-7"),
            new("x-note", "Zoë · 𝄞 · ü"),
            new("x-empty", string.Empty));
        byte[] binary = [0, 1, 2, 255, 254, 0];
        OutgoingEvent[] events =
        [
            new("konto-Ω-𝄞", binary, headers),
            new("no-headers", Encoding.UTF8.GetBytes("{\"amount\":12.5}"), EventHeaders.Empty),
            new("empty-value", ReadOnlyMemory<byte>.Empty, new EventHeaders(new KeyValuePair<string, string>(EventHeaders.ContentType, "text/plain"))),
            new(string.Empty, Encoding.UTF8.GetBytes("empty key"), EventHeaders.Empty),
        ];
        var before = Now(log);
        await producer.AppendAsync(events);
        var after = Now(log);

        await using var reader = log.OpenReader(0, StartPosition.Earliest);
        var records = await reader.ReadExactlyAsync(events.Length);

        for (var i = 0; i < events.Length; i++)
        {
            Assert.Equal(events[i].Key, records[i].Key);
            Assert.Equal(events[i].Value.ToArray(), records[i].Value.ToArray());
            Assert.Equal(events[i].Headers.ToList(), records[i].Headers.ToList());
            Assert.Equal(TimeSpan.Zero, records[i].EnqueuedAt.Offset);
            Assert.InRange(records[i].EnqueuedAt, before - ClockTolerance, after + ClockTolerance);
        }

        Assert.Equal("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", records[0].Headers[EventHeaders.TraceParent]);
        Assert.Equal("application/json; charset=utf-8", records[0].Headers["Content-Type"]);
        Assert.True(records.Zip(records.Skip(1)).All(pair => pair.First.EnqueuedAt <= pair.Second.EnqueuedAt));
    }

    [Fact]
    public async Task A_tailing_reader_sees_every_record_exactly_once_in_order_while_a_producer_appends()
    {
        const int partitions = 3;
        await using var log = await CreateLogAsync(partitions);
        var readers = Enumerable.Range(0, partitions).Select(p => log.OpenReader(p, StartPosition.Latest)).ToArray();
        var results = new List<(AppendResult Result, OutgoingEvent[] Events)>();
        var producing = Task.Run(async () =>
        {
            await using var producer = log.CreateProducer();
            for (var batch = 0; batch < 40; batch++)
            {
                var events = Enumerable.Range(0, 25).Select(i => Events.Make($"k{(batch * 25) + i}", $"{batch}/{i}")).ToArray();
                results.Add((await producer.AppendAsync(events), events));
                if (batch % 8 == 0)
                {
                    await Task.Delay(5);
                }
            }
        });

        // Read concurrently with the appends, not after them.
        var seen = new List<LogRecord>[partitions];
        var total = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        for (var p = 0; p < partitions; p++)
        {
            seen[p] = [];
        }

        while (total < 1000 && DateTime.UtcNow < deadline)
        {
            for (var p = 0; p < partitions; p++)
            {
                var batch = await readers[p].ReadAsync(100, TimeSpan.FromMilliseconds(20));
                seen[p].AddRange(batch);
                total += batch.Count;
            }
        }

        await producing;
        for (var p = 0; p < partitions; p++)
        {
            seen[p].AddRange(await readers[p].ReadToEndAsync(Quiet));
            var expected = results.SelectMany(r => r.Result.Positions.Select((position, i) => (position, r.Events[i]))).Where(x => x.position.Partition == p).ToList();
            Assert.Equal(expected.Select(x => x.position), seen[p].Select(r => r.Position));
            Assert.Equal(expected.Select(x => Encoding.UTF8.GetString(x.Item2.Value.Span)), seen[p].Select(r => r.Text()));
            await readers[p].DisposeAsync();
        }
    }

    [Fact]
    public async Task Retention_drops_old_records_and_a_start_before_the_first_retained_begins_there()
    {
        if (Retention is not { } retention)
        {
            return;
        }

        await using var log = await CreateRetentionLogAsync();
        await using var producer = log.CreateProducer();
        var old = new List<LogPosition>();
        for (var appended = 0; appended < RetentionEventCount; appended += 50)
        {
            old.AddRange((await producer.AppendAsync([.. Enumerable.Range(0, 50).Select(i => Events.Make("k", new string('o', 200) + (appended + i)))])).Positions);
        }

        Assert.Equal(old[0].Offset, (await log.DescribeAsync())[0].FirstOffset);

        await ApplyRetentionAsync(log, retention + TimeSpan.FromHours(1));
        var fresh = await producer.AppendAsync([.. Enumerable.Range(0, 10).Select(i => Events.Make("k", $"fresh-{i}"))]);
        var info = (await log.DescribeAsync())[0];

        Assert.True(info.FirstOffset > old[0].Offset, "old segments were deleted");
        Assert.True(info.NextOffset > fresh.Positions[^1].Offset);
        var retainedOld = old.Count(p => p.Offset >= info.FirstOffset);
        foreach (var start in new[] { StartPosition.Earliest, StartPosition.AtOffset(old[0].Offset), StartPosition.AtOffset(0) })
        {
            await using var reader = log.OpenReader(0, start);
            var records = await reader.ReadExactlyAsync(retainedOld + fresh.Count);
            Assert.Equal(info.FirstOffset, records[0].Offset);
            Assert.Equal(old.Where(p => p.Offset >= info.FirstOffset).Concat(fresh.Positions), records.Select(r => r.Position));
        }
    }

    [Fact]
    public async Task Reopening_keeps_the_records_and_continues_the_offsets()
    {
        var log = await CreateLogAsync(2);
        AppendResult first;
        await using (log)
        {
            await using var producer = log.CreateProducer();
            first = await producer.AppendAsync([.. Enumerable.Range(0, 40).Select(i => Events.Make($"k{i}", $"first-{i}"))]);
        }

        await using var reopened = await ReopenAsync(log);
        var described = await reopened.DescribeAsync();
        foreach (var info in described)
        {
            Assert.True(info.NextOffset > first.Positions.Where(p => p.Partition == info.Partition).Select(p => p.Offset).DefaultIfEmpty(-1).Max());
        }

        await using var again = reopened.CreateProducer();
        var second = await again.AppendAsync([.. Enumerable.Range(0, 40).Select(i => Events.Make($"k{i}", $"second-{i}"))]);
        foreach (var position in second.Positions)
        {
            Assert.True(position.Offset >= described[position.Partition].NextOffset, $"{position} continues after the reopen");
        }

        for (var p = 0; p < 2; p++)
        {
            await using var reader = reopened.OpenReader(p, StartPosition.Earliest);
            var expected = first.Positions.Concat(second.Positions).Where(x => x.Partition == p).ToList();
            var records = await reader.ReadExactlyAsync(expected.Count);
            Assert.Equal(expected, records.Select(r => r.Position));
            Assert.Equal(expected.Count, records.Select(r => r.Text()).Distinct().Count());
        }
    }

    [Fact]
    public async Task ReadAsync_returns_at_most_maxRecords_and_an_empty_list_after_maxWait()
    {
        await using var log = await CreateLogAsync(1);
        await using var producer = log.CreateProducer();
        await producer.AppendAsync([.. Enumerable.Range(0, 25).Select(i => Events.Make("k", $"{i}"))]);
        await using var reader = log.OpenReader(0, StartPosition.Earliest);

        var sizes = new List<int>();
        var total = 0;
        while (total < 25)
        {
            var batch = await reader.ReadAsync(7, TimeSpan.FromSeconds(5));
            Assert.InRange(batch.Count, 1, 7);
            sizes.Add(batch.Count);
            total += batch.Count;
        }

        var started = System.Diagnostics.Stopwatch.StartNew();
        Assert.Empty(await reader.ReadAsync(7, TimeSpan.FromMilliseconds(150)));
        Assert.True(started.Elapsed >= TimeSpan.FromMilliseconds(140), $"waited {started.Elapsed}");
        Assert.Equal(25, sizes.Sum());
    }

    [Fact]
    public async Task ReadAsync_stops_waiting_when_cancelled()
    {
        await using var log = await CreateLogAsync(1);
        await using var reader = log.OpenReader(0, StartPosition.Latest);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reader.ReadAsync(10, TimeSpan.FromSeconds(30), cancel.Token));
    }

    [Fact]
    public async Task An_empty_append_returns_no_positions_and_OpenReader_rejects_unknown_partitions()
    {
        await using var log = await CreateLogAsync(2);
        await using var producer = log.CreateProducer();

        Assert.Equal(0, (await producer.AppendAsync([])).Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => log.OpenReader(2, StartPosition.Earliest));
        Assert.Throws<ArgumentOutOfRangeException>(() => log.OpenReader(-1, StartPosition.Earliest));
        Assert.Equal(2, log.PartitionCount);
        Assert.False(string.IsNullOrEmpty(log.Name));
    }
}
