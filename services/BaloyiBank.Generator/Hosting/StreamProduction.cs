using System.Diagnostics;
using System.Globalization;
using BaloyiBank.Contracts;
using BaloyiBank.EventLog;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;

namespace BaloyiBank.Generator;

/// <summary>
/// One run of the generator from the resume point to a limit or cancellation. It regenerates the
/// deterministic stream from sequence 0, skips (without serializing) every record a partition
/// already holds, and appends the rest in batches. One append is in flight at a time, which keeps
/// every partition a gap-free prefix of its share of the stream; the next batch is built while
/// the previous one is appended.
/// </summary>
internal sealed class StreamProduction : IDisposable
{
    private const int MaxLinksPerSend = 128;
    private static readonly TimeSpan RateWindow = TimeSpan.FromSeconds(1);

    private readonly IEventLog _log;
    private readonly GeneratorOptions _options;
    private readonly GeneratorProgress _progress;
    private readonly GeneratorTelemetry _telemetry;
    private readonly TimeProvider _time;
    private readonly BankSimulation _simulation;
    private readonly PayloadEncoder _encoder = new();
    private readonly ResumePoint _resume;
    private readonly int _partitions;
    private readonly long _end;
    private readonly string _fingerprint;
    private readonly string _settingsLine;
    private readonly string _createName;
    private readonly string _sendName;
    private readonly TokenBucket? _bucket;
    private readonly PayloadArena _arena = new();
    private readonly long _startedAt;
    private long _rateSampleAt;
    private long _rateSampleAppended;

    public StreamProduction(
        IEventLog log, GeneratorOptions options, StreamSettings settings, ResumePoint resume,
        GeneratorProgress progress, GeneratorTelemetry telemetry, TimeProvider time)
    {
        _log = log;
        _options = options;
        _progress = progress;
        _telemetry = telemetry;
        _time = time;
        _simulation = new BankSimulation(settings);
        _resume = resume;
        _partitions = _log.PartitionCount;
        _fingerprint = settings.Fingerprint();
        _settingsLine = settings.Canonical();
        _createName = "create " + _log.Name;
        _sendName = "send " + _log.Name;
        var end = options.MaxEvents > 0 ? resume.NextSequence + options.MaxEvents : long.MaxValue;
        _end = Math.Min(end, options.StopAtSequence ?? long.MaxValue);
        _bucket = options.Rate > 0 ? new TokenBucket(options.Rate, options.Burst, _time) : null;
        _startedAt = _time.GetTimestamp();
        _rateSampleAt = _startedAt;
        _progress.Begin(_partitions, resume.NextSequence);
    }

    /// <summary>Produces until a limit (true) or cancellation (false); the in-flight append always completes.</summary>
    public async Task<bool> ProduceAsync(CancellationToken stoppingToken)
    {
        using var durationLimit = _options.Duration is { } duration
            ? new CancellationTokenSource(duration, _time)
            : new CancellationTokenSource();
        await using var producer = _log.CreateProducer();
        Task? inFlight = null;
        try
        {
            while (true)
            {
                if (stoppingToken.IsCancellationRequested)
                {
                    return false;
                }

                if (_simulation.NextSequence >= _end || durationLimit.IsCancellationRequested)
                {
                    return true;
                }

                var batch = await BuildAsync(stoppingToken, durationLimit.Token);
                if (batch is null)
                {
                    return false;
                }

                if (inFlight is not null)
                {
                    await inFlight;
                }

                inFlight = batch.Count > 0 ? AppendAsync(producer, batch) : null;
            }
        }
        finally
        {
            // Whatever ends the run, the append in flight completes before the producer goes.
            if (inFlight is not null)
            {
                await inFlight;
            }

            if (_rateSampleAt == _startedAt)
            {
                // A run shorter than the sampling window still reports its rate.
                _progress.RecordRate(_progress.Appended / Math.Max(1e-3, _time.GetElapsedTime(_startedAt).TotalSeconds));
            }
        }
    }

    /// <summary>Fills one batch, waiting for tokens when rate-limited; null when cancelled (the partial batch is dropped).</summary>
    private async Task<OutgoingBatch?> BuildAsync(CancellationToken stoppingToken, CancellationToken durationToken)
    {
        var batch = new OutgoingBatch(_options.BatchSize);
        var tracing = _options.TraceEachEvent && GeneratorTelemetry.Source.HasListeners();
        long lingerUntil = 0;
        while (batch.Count < _options.BatchSize && _simulation.NextSequence < _end)
        {
            var allowance = _options.BatchSize - batch.Count;
            if (_bucket is not null)
            {
                allowance = _bucket.TryTake(allowance);
                if (allowance == 0)
                {
                    var now = _time.GetTimestamp();
                    if (batch.Count > 0 && lingerUntil == 0)
                    {
                        lingerUntil = now + (long)(_options.Linger.TotalSeconds * _time.TimestampFrequency);
                    }

                    if (batch.Count > 0 && now >= lingerUntil)
                    {
                        break;
                    }

                    var wait = _bucket.UntilNextToken();
                    if (batch.Count > 0)
                    {
                        wait = TimeSpan.FromTicks(Math.Min(wait.Ticks, _time.GetElapsedTime(now, lingerUntil).Ticks));
                    }

                    using var either = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, durationToken);
                    try
                    {
                        await Task.Delay(wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait, _time, either.Token);
                    }
                    catch (OperationCanceledException) when (durationToken.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
                    {
                        break;
                    }
                    catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                    {
                        return null;
                    }

                    continue;
                }
            }

            Fill(batch, allowance, tracing, stoppingToken);
            if (stoppingToken.IsCancellationRequested)
            {
                return null;
            }

            if (durationToken.IsCancellationRequested)
            {
                break;
            }
        }

        batch.ClockTicks = _simulation.ClockTicks;
        _progress.RecordGenerated(batch.ByKind, batch.ByType, batch.Count, batch.CatchUp, _simulation.NextSequence);
        return batch;
    }

    /// <summary>The hot loop: generate, skip what the log holds, serialize the rest.</summary>
    private void Fill(OutgoingBatch batch, int allowance, bool tracing, CancellationToken stoppingToken)
    {
        var resumeAt = _resume.NextSequence;
        var added = 0;
        while (added < allowance && _simulation.NextSequence < _end)
        {
            var record = _simulation.Next();
            if (record.Sequence < resumeAt)
            {
                if (_resume.Holds(record.Sequence, KeyPartitioner.PartitionFor(record.Key, _partitions)))
                {
                    // A long catch-up still answers Ctrl-C.
                    if ((record.Sequence & 0xFFFF) == 0 && stoppingToken.IsCancellationRequested)
                    {
                        return;
                    }

                    continue;
                }

                batch.CatchUp++;
            }

            Add(batch, record, tracing);
            added++;
        }
    }

    private void Add(OutgoingBatch batch, in GeneratedEvent record, bool tracing)
    {
        var payload = _arena.Copy(_encoder.Encode(record));
        var sequence = record.Sequence.ToString(CultureInfo.InvariantCulture);
        EventHeaders headers = record.Sequence == 0
            ? new(Header(EventHeaders.ContentType, BankEventSerializer.ContentType), Header(GeneratorHeaders.Sequence, sequence),
                Header(GeneratorHeaders.Fingerprint, _fingerprint), Header(GeneratorHeaders.Settings, _settingsLine))
            : new(Header(EventHeaders.ContentType, BankEventSerializer.ContentType), Header(GeneratorHeaders.Sequence, sequence),
                Header(GeneratorHeaders.Fingerprint, _fingerprint));
        if (tracing)
        {
            headers = WithTraceContext(batch, record, headers);
        }

        batch.Events.Add(new OutgoingEvent(record.Key, payload, headers));
        batch.ByKind[(int)record.Kind]++;
        batch.ByType[record.TypeIndex]++;
        batch.ByKindAndType[((int)record.Kind * EventTypeIndex.Count) + record.TypeIndex]++;
    }

    private static KeyValuePair<string, string> Header(string name, string value) => new(name, value);

    /// <summary>A <c>create</c> span for the event, its context injected into the headers (W3C traceparent/tracestate).</summary>
    private EventHeaders WithTraceContext(OutgoingBatch batch, in GeneratedEvent record, EventHeaders headers)
    {
        using var create = GeneratorTelemetry.Source.StartActivity(_createName, ActivityKind.Producer);
        if (create is null)
        {
            return headers;
        }

        if (create.IsAllDataRequested)
        {
            create.SetTag("messaging.system", GeneratorTelemetry.MessagingSystem);
            create.SetTag("messaging.operation.type", "create");
            create.SetTag("messaging.destination.name", _log.Name);
            create.SetTag("messaging.message.id", record.Event.EventId);
        }

        var carrier = new TraceCarrier(headers);
        Propagators.DefaultTextMapPropagator.Inject(
            new PropagationContext(create.Context, Baggage.Current), carrier, static (c, name, value) => c.Add(name, value));
        if (batch.Links.Count < MaxLinksPerSend)
        {
            batch.Links.Add(new ActivityLink(create.Context));
        }

        return carrier.ToHeaders();
    }

    /// <summary>The record's headers plus what the propagator injects, in one array.</summary>
    private sealed class TraceCarrier(EventHeaders headers)
    {
        private KeyValuePair<string, string>[] _pairs = CopyWithRoom(headers);
        private int _count = headers.Count;

        public void Add(string name, string value)
        {
            if (_count == _pairs.Length)
            {
                Array.Resize(ref _pairs, _count + 2);
            }

            _pairs[_count++] = new(name, value);
        }

        public EventHeaders ToHeaders() => new(_count == _pairs.Length ? _pairs : _pairs[.._count]);

        private static KeyValuePair<string, string>[] CopyWithRoom(EventHeaders headers)
        {
            var pairs = new KeyValuePair<string, string>[headers.Count + 2];
            for (var i = 0; i < headers.Count; i++)
            {
                pairs[i] = headers[i];
            }

            return pairs;
        }
    }

    private async Task AppendAsync(IEventLogProducer producer, OutgoingBatch batch)
    {
        using var send = GeneratorTelemetry.Source.StartActivity(ActivityKind.Producer, links: batch.Links, name: _sendName);
        send?.SetTag("messaging.system", GeneratorTelemetry.MessagingSystem);
        send?.SetTag("messaging.operation.type", "send");
        send?.SetTag("messaging.operation.name", "send");
        send?.SetTag("messaging.destination.name", _log.Name);
        send?.SetTag("messaging.batch.message_count", batch.Count);
        var started = _time.GetTimestamp();
        AppendResult result;
        try
        {
            // Not cancellable: a stop request lets the in-flight append finish cleanly.
            result = await producer.AppendAsync(batch.Events, CancellationToken.None);
        }
        catch (Exception exception)
        {
            send?.SetStatus(ActivityStatusCode.Error, exception.Message);
            send?.AddException(exception);
            throw;
        }
        finally
        {
            _telemetry.AppendDuration.Record(
                _time.GetElapsedTime(started).TotalSeconds,
                new KeyValuePair<string, object?>("messaging.destination.name", _log.Name));
        }

        _progress.RecordAppended(result.Positions, batch.ClockTicks);
        RecordMetrics(batch);
        SampleRate();
    }

    private void RecordMetrics(OutgoingBatch batch)
    {
        for (var kind = 0; kind < EventKinds.All.Count; kind++)
        {
            for (var type = 0; type < EventTypeIndex.Count; type++)
            {
                var count = batch.ByKindAndType[(kind * EventTypeIndex.Count) + type];
                if (count > 0)
                {
                    _telemetry.Events.Add(count,
                        new KeyValuePair<string, object?>("bb.event.kind", EventKinds.Name((EventKind)kind)),
                        new KeyValuePair<string, object?>("bb.event.type", EventTypeIndex.Name(type)));
                }
            }
        }

        if (batch.CatchUp > 0)
        {
            _telemetry.CatchUpEvents.Add(batch.CatchUp);
        }
    }

    private void SampleRate()
    {
        var now = _time.GetTimestamp();
        var elapsed = _time.GetElapsedTime(_rateSampleAt, now);
        if (elapsed >= RateWindow)
        {
            var appended = _progress.Appended;
            _progress.RecordRate((appended - _rateSampleAppended) / elapsed.TotalSeconds);
            _rateSampleAt = now;
            _rateSampleAppended = appended;
        }
    }

    public void Dispose() => _encoder.Dispose();
}

/// <summary>The records of one append and what they are, for progress and metrics after the acknowledgement.</summary>
internal sealed class OutgoingBatch(int capacity)
{
    public List<OutgoingEvent> Events { get; } = new(capacity);
    public List<ActivityLink> Links { get; } = [];
    public int[] ByKind { get; } = new int[EventKinds.All.Count];
    public int[] ByType { get; } = new int[EventTypeIndex.Count];
    public int[] ByKindAndType { get; } = new int[EventKinds.All.Count * EventTypeIndex.Count];
    public int CatchUp { get; set; }
    public long ClockTicks { get; set; }
    public int Count => Events.Count;
}
