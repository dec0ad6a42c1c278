using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using BaloyiBank.Contracts;
using BaloyiBank.EventLog;
using BaloyiBank.EventLog.Embedded;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;
using Xunit;

namespace BaloyiBank.Generator.Tests;

/// <summary>The worker on the real embedded log: resume, partial writes, pacing, limits, telemetry.</summary>
public sealed class WorkerTests : IDisposable
{
    private const int N = 5_000;

    private static readonly Dictionary<string, string> Stream = new()
    {
        ["Seed"] = "11",
        ["InitialCustomers"] = "300",
        ["BatchSize"] = "700",
    };

    private readonly TempFolder _temp = new();

    private static Dictionary<string, string> With(params (string Key, string Value)[] settings)
    {
        var merged = new Dictionary<string, string>(Stream);
        foreach (var (key, value) in settings)
        {
            merged[key] = value;
        }

        return merged;
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public async Task Two_runs_of_N_equal_one_uninterrupted_run_of_2N()
    {
        var whole = _temp.Sub("whole");
        var once = await GeneratorHost.RunAsync(whole, With(("MaxEvents", Text(2 * N))));
        Assert.True(once.ReachedLimit);
        Assert.Equal(2 * N, once.Appended);

        var split = _temp.Sub("split");
        var first = await GeneratorHost.RunAsync(split, With(("MaxEvents", Text(N))));
        var second = await GeneratorHost.RunAsync(split, With(("MaxEvents", Text(N))));
        Assert.Equal(0, first.ResumedAtSequence);
        Assert.Equal(N, second.ResumedAtSequence);
        Assert.Equal(N, second.Appended);
        Assert.Equal(0, second.CatchUp);
        Assert.Equal(2 * N, second.NextSequence);

        var expected = GeneratorHost.Comparable(await GeneratorHost.ReadAllAsync(whole));
        var actual = GeneratorHost.Comparable(await GeneratorHost.ReadAllAsync(split));
        for (var p = 0; p < GeneratorHost.Partitions; p++)
        {
            Assert.Equal(expected[p], actual[p]);
        }

        // The log holds exactly the stream: every sequence number once, and the payloads GeneratedEvents gives.
        var records = (await GeneratorHost.ReadAllAsync(split)).SelectMany(p => p).OrderBy(GeneratorHost.Sequence).ToList();
        Assert.Equal(Enumerable.Range(0, 2 * N).Select(i => (long)i), records.Select(GeneratorHost.Sequence));
        var reference = GeneratedEvents.Records(Options()).Take(2 * N).ToList();
        Assert.All(records, r => Assert.Equal(reference[(int)GeneratorHost.Sequence(r)].Payload, r.Value.ToArray()));
        Assert.All(records, r => Assert.Equal(BankEventSerializer.ContentType, r.Headers[EventHeaders.ContentType]));
        Assert.All(records, r => Assert.Equal(StreamSettings.From(Options()).Fingerprint(), r.Headers[GeneratorHeaders.Fingerprint]));
        Assert.Equal(StreamSettings.From(Options()).Canonical(), records[0].Headers[GeneratorHeaders.Settings]);
    }

    [Fact]
    public async Task A_partial_write_of_the_last_batch_resumes_with_no_loss_and_no_duplicate()
    {
        var whole = _temp.Sub("whole");
        await GeneratorHost.RunAsync(whole, With(("StopAtSequence", Text(2 * N))));

        // A crash mid-append: the next batch reached partitions 0 and 2 only.
        var crashed = _temp.Sub("crashed");
        await GeneratorHost.RunAsync(crashed, With(("MaxEvents", Text(N))));
        var settings = StreamSettings.From(Options());
        var torn = GeneratedEvents.Records(Options()).Skip(N).Take(700)
            .Where(r => KeyPartitioner.PartitionFor(r.Key, GeneratorHost.Partitions) is 0 or 2)
            .ToList();
        await using (var log = EmbeddedEventLog.Open(new EmbeddedEventLogOptions { Directory = crashed, Partitions = GeneratorHost.Partitions }))
        {
            await using var producer = log.CreateProducer();
            await producer.AppendAsync([.. torn.Select(r => new OutgoingEvent(r.Key, r.Payload, new EventHeaders(
                new(EventHeaders.ContentType, BankEventSerializer.ContentType),
                new(GeneratorHeaders.Sequence, Text(r.Sequence)),
                new(GeneratorHeaders.Fingerprint, settings.Fingerprint()))))]);
        }

        var resumed = await GeneratorHost.RunAsync(crashed, With(("StopAtSequence", Text(2 * N))));
        var lostBelowResumePoint = N + 700 - N - torn.Count - (N + 700 - 1 - torn[^1].Sequence);
        Assert.Equal(torn[^1].Sequence + 1, resumed.ResumedAtSequence);
        Assert.Equal(lostBelowResumePoint, resumed.CatchUp);
        Assert.True(resumed.CatchUp > 0);

        var expected = GeneratorHost.Comparable(await GeneratorHost.ReadAllAsync(whole));
        var actual = GeneratorHost.Comparable(await GeneratorHost.ReadAllAsync(crashed));
        for (var p = 0; p < GeneratorHost.Partitions; p++)
        {
            Assert.Equal(expected[p], actual[p]);
        }
    }

    [Fact]
    public async Task Stopping_mid_stream_leaves_a_log_the_next_run_continues_without_gap_or_duplicate()
    {
        var folder = _temp.Sub("log");
        var stopped = await GeneratorHost.RunAsync(folder, With(("Rate", "20000"), ("Burst", "200"), ("BatchSize", "200")), stopAfterAppended: 2_000);
        Assert.True(stopped.IsFinished);
        Assert.False(stopped.ReachedLimit);
        Assert.Null(stopped.Failure);
        Assert.Equal(stopped.Appended, (await GeneratorHost.ReadAllAsync(folder)).Sum(p => p.Count));

        var total = stopped.Appended + 1_000;
        var finished = await GeneratorHost.RunAsync(folder, With(("StopAtSequence", Text(total))));
        Assert.Equal(stopped.Appended, finished.ResumedAtSequence);
        var sequences = (await GeneratorHost.ReadAllAsync(folder)).SelectMany(p => p).Select(GeneratorHost.Sequence).Order();
        Assert.Equal(Enumerable.Range(0, (int)total).Select(i => (long)i), sequences);
    }

    [Fact]
    public async Task A_log_written_with_other_settings_is_refused_with_the_setting_and_the_fix()
    {
        var folder = _temp.Sub("log");
        await GeneratorHost.RunAsync(folder, With(("MaxEvents", "1000")));
        var refused = await GeneratorHost.RunAsync(folder, With(("MaxEvents", "1000"), ("Seed", "12"), ("Defects:Late", "0.02")));
        Assert.True(refused.IsFinished);
        Assert.False(refused.ReachedLimit);
        Assert.Equal(0, refused.Appended);
        Assert.NotNull(refused.Failure);
        Assert.Contains("Seed (log: 11, now: 12)", refused.Failure, StringComparison.Ordinal);
        Assert.Contains("Defects:Late (log: 0.01, now: 0.02)", refused.Failure, StringComparison.Ordinal);
        Assert.Contains("Fix: ", refused.Failure, StringComparison.Ordinal);
        Assert.Contains("--seed", refused.Failure, StringComparison.Ordinal);
        Assert.Contains("--data", refused.Failure, StringComparison.Ordinal);
        Assert.Equal(1000, (await GeneratorHost.ReadAllAsync(folder)).Sum(p => p.Count));
    }

    [Fact]
    public async Task Pacing_changes_when_records_are_appended_never_what_they_are()
    {
        var unlimited = _temp.Sub("unlimited");
        await GeneratorHost.RunAsync(unlimited, With(("StopAtSequence", "3000")));

        var paced = _temp.Sub("paced");
        var watch = Stopwatch.StartNew();
        var progress = await GeneratorHost.RunAsync(paced, With(("StopAtSequence", "3000"), ("Rate", "15000"), ("Burst", "300"), ("BatchSize", "250")));
        watch.Stop();
        Assert.Equal(3000, progress.Appended);
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(0.15), $"3000 events at 15000/s after a burst of 300 took only {watch.Elapsed}");

        var expected = GeneratorHost.Comparable(await GeneratorHost.ReadAllAsync(unlimited));
        var actual = GeneratorHost.Comparable(await GeneratorHost.ReadAllAsync(paced));
        for (var p = 0; p < GeneratorHost.Partitions; p++)
        {
            Assert.Equal(expected[p], actual[p]);
        }
    }

    [Fact]
    public async Task A_duration_limit_stops_the_run_and_the_progress_adds_up()
    {
        var folder = _temp.Sub("log");
        var progress = await GeneratorHost.RunAsync(folder, With(("Duration", "00:00:00.400"), ("Rate", "5000"), ("Burst", "500")));
        Assert.True(progress.ReachedLimit);
        Assert.True(progress.IsFinished);
        Assert.Null(progress.Failure);
        // About the burst plus 0.4 s at the rate; a cold start or a busy machine gives fewer.
        Assert.InRange(progress.Appended, 200, 4_500);
        Assert.Equal(progress.Generated, progress.Appended);
        Assert.Equal(progress.Appended, progress.GeneratedByKind.Values.Sum());
        Assert.Equal(progress.Appended, progress.GeneratedByType.Values.Sum());
        Assert.NotNull(progress.SimulatedClock);

        var log = await GeneratorHost.ReadAllAsync(folder);
        Assert.Equal(progress.Appended, log.Sum(p => p.Count));
        for (var p = 0; p < GeneratorHost.Partitions; p++)
        {
            Assert.Equal(log[p].Count == 0 ? -1 : log[p][^1].Offset, progress.LastAcknowledgedOffsets[p]);
        }

        // The per-kind counts are what the payloads say.
        var audit = new StreamAudit(GeneratorHost.Partitions);
        foreach (var record in log.SelectMany(p => p).OrderBy(GeneratorHost.Sequence))
        {
            audit.Classify(GeneratorHost.Sequence(record), record.Key, record.Value.Span);
        }

        foreach (var kind in EventKinds.All)
        {
            Assert.Equal(progress.GeneratedByKind[kind], audit.Count(kind));
        }
    }

    [Fact]
    public async Task With_a_listener_each_event_carries_the_trace_context_of_its_create_span()
    {
        Sdk.SetDefaultTextMapPropagator(new CompositeTextMapPropagator([new TraceContextPropagator(), new BaggagePropagator()]));
        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == GeneratorTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);

        var folder = _temp.Sub("log");
        await GeneratorHost.RunAsync(folder, With(("MaxEvents", "1500"), ("BatchSize", "500")));
        var records = (await GeneratorHost.ReadAllAsync(folder)).SelectMany(p => p).ToList();

        var creates = spans.Where(s => s.OperationName == "create bank-events").ToDictionary(s => s.TraceId.ToString());
        Assert.All(records, r =>
        {
            var traceParent = r.Headers[EventHeaders.TraceParent];
            Assert.NotNull(traceParent);
            Assert.Contains(traceParent.Split('-')[1], creates.Keys);
        });
        var sends = spans.Where(s => s.OperationName == "send bank-events").ToList();
        Assert.Equal(3, sends.Count);
        Assert.All(sends, s =>
        {
            Assert.Equal(ActivityKind.Producer, s.Kind);
            Assert.Equal("send", s.GetTagItem("messaging.operation.type"));
            Assert.Equal("bank-events", s.GetTagItem("messaging.destination.name"));
            Assert.Equal(500, s.GetTagItem("messaging.batch.message_count"));
            Assert.NotEmpty(s.Links);
        });
    }

    private static GeneratorOptions Options() => new() { Seed = 11, InitialCustomers = 300 };

    public void Dispose() => _temp.Dispose();
}
