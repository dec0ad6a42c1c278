namespace BaloyiBank.Generator;

/// <summary>One record of the generated stream with its payload bytes, as the worker would append it.</summary>
public sealed record GeneratedRecord(long Sequence, EventKind Kind, string EventType, string Key, byte[] Payload);

/// <summary>How many records of each kind and event type a stream prefix holds.</summary>
public sealed record StreamTally(long Total, IReadOnlyDictionary<EventKind, long> ByKind, IReadOnlyDictionary<string, long> ByType);

/// <summary>
/// The generated stream without a log: for tests of later services (what should the pipeline
/// have seen?) and for benchmarks. Same settings, same records as the worker appends.
/// </summary>
public static class GeneratedEvents
{
    /// <summary>The stream from sequence 0, endlessly; take what you need.</summary>
    public static IEnumerable<GeneratedRecord> Records(GeneratorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var simulation = new BankSimulation(StreamSettings.From(options));
        using var encoder = new PayloadEncoder();
        while (true)
        {
            var record = simulation.Next();
            yield return new GeneratedRecord(
                record.Sequence, record.Kind, EventTypeIndex.Name(record.TypeIndex), record.Key, encoder.Encode(record).ToArray());
        }
    }

    /// <summary>
    /// Counts the first <paramref name="count"/> records by kind and type without serializing them:
    /// the totals a stream of that length holds whatever crashes and restarts produced it.
    /// </summary>
    public static StreamTally Tally(GeneratorOptions options, long count)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var simulation = new BankSimulation(StreamSettings.From(options));
        var byKind = new long[EventKinds.All.Count];
        var byType = new long[EventTypeIndex.Count];
        for (var i = 0L; i < count; i++)
        {
            var record = simulation.Next();
            byKind[(int)record.Kind]++;
            byType[record.TypeIndex]++;
        }

        var kinds = new Dictionary<EventKind, long>();
        foreach (var kind in EventKinds.All)
        {
            kinds[kind] = byKind[(int)kind];
        }

        var types = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var i = 0; i < EventTypeIndex.Count; i++)
        {
            types[EventTypeIndex.Name(i)] = byType[i];
        }

        return new StreamTally(count, kinds, types);
    }
}
