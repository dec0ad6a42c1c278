using System.Globalization;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using BaloyiBank.Delta;

namespace BaloyiBank.Aggregator;

/// <summary>
/// One batch of silver transactions into a <see cref="GoldFold"/>: Parquet row groups decoded on one thread while the
/// previous one is folded on another; each row's account id and daily key mapped to the fold's slots by their characters
/// (per-batch caches of the short strings, the fold's own index for accounts: no string per row), then folded through the
/// hot loop as <see cref="EncodedTransaction"/>s.
/// </summary>
/// <remarks>
/// distinct_accounts: a date whose (bucket, account) pairs the fold holds (<see cref="DailyPairs.Known"/>), and with
/// <c>keepPairs</c> (a live round) also a date new to the fold, gets the batch's pairs through the fold's set. Without
/// <c>keepPairs</c> (a rebuild, a long catch-up) a date new to the fold gets its buckets' distinct accounts counted through
/// a set per date (dropped when the date's files are done; silver transactions are partitioned by event_date, so a date's
/// files are read together), and the fold keeps no pairs of it (<see cref="DailyPairs.Counted"/>: restored from silver
/// if its transactions are ever folded with pairs). A Counted date must have been restored by the caller
/// (<see cref="SilverSource.RestoreDailyAccountsAsync"/>) before.
/// </remarks>
internal sealed class SilverTransactionReader(GoldFold fold, bool keepPairs)
{
    private static readonly string[] FoldColumns =
        ["account_id", "transaction_type", "direction", "amount", "currency", "merchant_category", "city", "country", "occurred_at", "event_date", "source_partition", "source_offset", "latitude", "longitude"];

    private static readonly string[] PairColumns = ["account_id", "transaction_type", "merchant_category", "country", "city", "currency", "event_date"];

    // Rows handed to the hot loop at once: the encoded batch stays in the CPU's cache.
    private const int BatchRows = 4096;

    private readonly SpanStrings _currencies = new();
    private readonly SpanStrings _categories = new();
    private readonly SpanStrings _countries = new();
    private readonly SpanStrings _cities = new();
    private readonly SpanStrings _directions = new();
    private readonly Dictionary<BucketIds, int> _buckets = [];

    // Per event date (day number) met in this batch: true when its distinct accounts are counted here, not kept as pairs.
    private readonly Dictionary<int, bool> _countedDays = [];
    private readonly Dictionary<int, PairSet> _counting = [];
    private readonly List<int> _countedBuckets = [];
    private long[] _counts = [];

    // Per account slot: 1 + the batch currency id that set the currency of an account without an opening, else 0.
    private int[] _provisional = [];

    private readonly EncodedTransaction[] _paired = new EncodedTransaction[BatchRows];
    private readonly EncodedTransaction[] _counted = new EncodedTransaction[BatchRows];

    public async Task<long> FoldAsync(DeltaReadSet readSet, CancellationToken cancellationToken)
    {
        long rows = 0;
        var group = -1;
        await foreach (var (chunk, g) in ReadAheadAsync(DateGroups(readSet), FoldColumns, cancellationToken).ConfigureAwait(false))
        {
            if (g != group)
            {
                FinishCounting();
                group = g;
            }

            Fold(chunk);
            rows += chunk.RowCount;
        }

        FinishCounting();
        return rows;
    }

    /// <summary>Adds every (bucket, account) pair of <paramref name="days"/> in <paramref name="readSet"/> to the fold's memory (buckets and accounts must exist).</summary>
    public async Task RestorePairsAsync(DeltaReadSet readSet, HashSet<int> days, CancellationToken cancellationToken)
    {
        await foreach (var (c, _) in ReadAheadAsync([readSet], PairColumns, cancellationToken).ConfigureAwait(false))
        {
            var account = c.Chars("account_id");
            var type = c.Chars("transaction_type");
            var merchant = c.Chars("merchant_category");
            var country = c.Chars("country");
            var city = c.Chars("city");
            var currency = c.Chars("currency");
            var date = SilverColumns.Values<DateOnly>(c, "event_date");
            var lastDay = int.MinValue;
            var wanted = false;
            for (var i = 0; i < c.RowCount; i++)
            {
                var day = date[i].DayNumber;
                if (day != lastDay)
                {
                    lastDay = day;
                    wanted = days.Contains(day);
                }

                if (!wanted)
                {
                    continue;
                }

                var category = merchant[i] is { } m ? _categories.Id(m.Span) : _categories.Id(SilverColumns.Required(type, i, "transaction_type"));
                var bucket = Bucket(new BucketIds(day, category, _countries.Id(SilverColumns.Required(country, i, "country")), _cities.Id(SilverColumns.Required(city, i, "city")),
                    _currencies.Id(SilverColumns.Required(currency, i, "currency"))), create: false, counted: false);
                fold.RestoreDailyAccount(bucket, fold.AccountSlotOf(SilverColumns.Required(account, i, "account_id")));
            }
        }
    }

    private void Fold(ColumnChunk c)
    {
        var account = c.Chars("account_id");
        var type = c.Chars("transaction_type");
        var direction = c.Chars("direction");
        var currency = c.Chars("currency");
        var merchant = c.Chars("merchant_category");
        var city = c.Chars("city");
        var country = c.Chars("country");
        var amount = SilverColumns.Values<decimal>(c, "amount");
        var at = SilverColumns.Values<DateTime>(c, "occurred_at");
        var date = SilverColumns.Values<DateOnly>(c, "event_date");
        var partition = SilverColumns.Values<int>(c, "source_partition");
        var offset = SilverColumns.Values<long>(c, "source_offset");
        var latitude = SilverColumns.Values<double>(c, "latitude");
        var longitude = SilverColumns.Values<double>(c, "longitude");

        int paired = 0, counted = 0;
        var credit = _directions.Id("credit".AsMemory());
        var lastDay = int.MinValue;
        PairSet? set = null;
        for (var i = 0; i < c.RowCount; i++)
        {
            var day = date[i].DayNumber;
            if (day != lastDay)
            {
                lastDay = day;
                set = IsCounted(day) ? CountingSet(day) : null;
            }

            var cur = _currencies.Id(SilverColumns.Present(currency, i, "currency"));
            var category = merchant[i] is { } m ? _categories.Id(m) : _categories.Id(SilverColumns.Present(type, i, "transaction_type"));
            var bucket = Bucket(new BucketIds(day, category, _countries.Id(SilverColumns.Present(country, i, "country")), _cities.Id(SilverColumns.Present(city, i, "city")), cur),
                create: true, counted: set is not null);
            var slot = Account(SilverColumns.Required(account, i, "account_id"), cur);
            var t = new EncodedTransaction(slot, bucket, Units.Cents(amount[i]), _directions.Id(SilverColumns.Present(direction, i, "direction")) == credit,
                SilverColumns.Micros(at[i]), partition[i], offset[i], Units.MicroDegrees(latitude[i]), Units.MicroDegrees(longitude[i]));
            if (set is null)
            {
                _paired[paired++] = t;
                if (paired == BatchRows)
                {
                    fold.Fold(_paired);
                    paired = 0;
                }
            }
            else
            {
                if (set.Add(((long)bucket << 32) | (uint)slot))
                {
                    _counts[bucket]++;
                }

                _counted[counted++] = t;
                if (counted == BatchRows)
                {
                    fold.FoldCounted(_counted);
                    counted = 0;
                }
            }
        }

        fold.Fold(_paired.AsSpan(0, paired));
        fold.FoldCounted(_counted.AsSpan(0, counted));
    }

    /// <summary>Whether a date's distinct accounts are counted by this batch (as the fold had the date before the batch).</summary>
    private bool IsCounted(int day)
    {
        ref var counted = ref CollectionsMarshal.GetValueRefOrAddDefault(_countedDays, day, out var seen);
        if (!seen)
        {
            var date = DateOnly.FromDayNumber(day);
            counted = fold.PairsOf(date) switch
            {
                null => !keepPairs,
                DailyPairs.Known => false,
                _ => throw new InvalidOperationException($"The (bucket, account) pairs of {date:yyyy-MM-dd} must be restored from silver before more of its transactions are folded."),
            };
        }

        return counted;
    }

    private PairSet CountingSet(int day)
    {
        ref var set = ref CollectionsMarshal.GetValueRefOrAddDefault(_counting, day, out _);
        return set ??= new PairSet();
    }

    /// <summary>Hands the counted dates' distinct accounts to the fold (their dates become Counted) and drops the sets.</summary>
    private void FinishCounting()
    {
        foreach (var bucket in _countedBuckets)
        {
            fold.CountDailyAccounts(bucket, _counts[bucket]);
            _counts[bucket] = 0;
        }

        _countedBuckets.Clear();
        _counting.Clear();
    }

    private int Bucket(in BucketIds ids, bool create, bool counted)
    {
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_buckets, ids, out var exists);
        if (!exists)
        {
            var key = new DailyKey(DateOnly.FromDayNumber(ids.Day), _categories[ids.Category], _countries[ids.Country], _cities[ids.City], _currencies[ids.Currency]);
            try
            {
                slot = create ? fold.EncodeBucket(key) : fold.BucketSlotOf(key);
            }
            catch
            {
                _buckets.Remove(ids);
                throw;
            }

            if (counted)
            {
                _countedBuckets.Add(slot);
                if (slot >= _counts.Length)
                {
                    Array.Resize(ref _counts, Math.Max(slot + 1, _counts.Length * 2));
                }
            }
        }

        return slot;
    }

    private int Account(ReadOnlySpan<char> accountId, int currency)
    {
        var slot = fold.EncodeAccount(accountId, _currencies[currency], out var provisional);
        if (slot >= _provisional.Length)
        {
            Array.Resize(ref _provisional, Math.Max(slot + 1, _provisional.Length * 2));
        }

        if (provisional)
        {
            _provisional[slot] = currency + 1;
        }
        else if (_provisional[slot] is var set && set != 0 && set != currency + 1)
        {
            // An account without an opening takes the smallest currency of the batch that first met it (a GROUP BY's min).
            fold.LowerProvisionalCurrency(slot, _currencies[currency]);
        }

        return slot;
    }

    /// <summary>
    /// Files grouped by their event_date partition value (a date's files together, dates in order); one group of all
    /// files when any file has none.
    /// </summary>
    private static List<DeltaReadSet> DateGroups(DeltaReadSet readSet)
    {
        if (readSet.Files.Any(f => SilverColumns.EventDate(f) is null))
        {
            return [readSet];
        }

        return [.. readSet.Files.GroupBy(f => SilverColumns.EventDate(f)!.Value).OrderBy(g => g.Key).Select(g => new DeltaReadSet(readSet.Schema, readSet.Version, [.. g]))];
    }

    /// <summary>
    /// The row groups of <paramref name="groups"/> in order, each with its group's index, decoded on the thread pool one row
    /// group ahead of the consumer (decoding and folding are each about half the work; the machine has two cores).
    /// </summary>
    private static async IAsyncEnumerable<(ColumnChunk Chunk, int Group)> ReadAheadAsync(
        List<DeltaReadSet> groups, string[] columns, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<(ColumnChunk, int)>(new BoundedChannelOptions(1) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var producer = Task.Run(async () =>
        {
            try
            {
                for (var g = 0; g < groups.Count; g++)
                {
                    await foreach (var chunk in ColumnChunk.ReadAsync(groups[g], columns, stop.Token).ConfigureAwait(false))
                    {
                        await channel.Writer.WriteAsync((chunk, g), stop.Token).ConfigureAwait(false);
                    }
                }

                channel.Writer.Complete();
            }
            catch (Exception e)
            {
                channel.Writer.Complete(e);
            }
        }, CancellationToken.None);
        try
        {
            await foreach (var item in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return item;
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await producer.ConfigureAwait(false);
        }
    }

    private readonly record struct BucketIds(int Day, int Category, int Country, int City, int Currency);
}

/// <summary>Short strings of one batch (currencies, categories, cities, loan ids) numbered by their characters: a string per distinct value, not per row.</summary>
internal sealed class SpanStrings
{
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly List<string> _values = [];

    public SpanStrings() => _lookup = _ids.GetAlternateLookup<ReadOnlySpan<char>>();

    // Parquet.Net decodes a dictionary-encoded column's values as one char[] per distinct value, shared by every row
    // that holds it: such a value is numbered by that array's identity, without hashing its characters.
    private readonly Dictionary<char[], int> _byArray = new(ReferenceEqualityComparer.Instance);
    private char[]? _lastArray;
    private int _lastId;

    public string this[int id] => _values[id];

    public int Id(ReadOnlyMemory<char> value)
    {
        if (!MemoryMarshal.TryGetArray(value, out var segment) || segment.Array is not { } array || segment.Offset != 0 || segment.Count != array.Length)
        {
            return Id(value.Span);
        }

        if (ReferenceEquals(array, _lastArray))
        {
            return _lastId;
        }

        if (!_byArray.TryGetValue(array, out var id))
        {
            id = Id(value.Span);
            // Arrays of values that are not dictionary-encoded (one per row) are not kept for long: the map would only grow.
            if (_byArray.Count >= 4096)
            {
                _byArray.Clear();
            }

            _byArray[array] = id;
        }

        _lastArray = array;
        _lastId = id;
        return id;
    }

    public int Id(ReadOnlySpan<char> value)
    {
        if (_lookup.TryGetValue(value, out var id))
        {
            return id;
        }

        var text = value.ToString();
        id = _values.Count;
        _values.Add(text);
        _ids.Add(text, id);
        return id;
    }
}

/// <summary>Typed access to the columns of silver row groups, whichever writer made the files (nullable or not).</summary>
internal static class SilverColumns
{
    private const long UnixEpochTicks = 621_355_968_000_000_000;

    /// <summary>A column of values that must all be present (a file written with every column nullable is accepted).</summary>
    public static T[] Values<T>(ColumnChunk chunk, string column)
        where T : struct => chunk.Column(column) switch
        {
            T[] values => values,
            T?[] nullable => Array.ConvertAll(nullable, v => v ?? throw new InvalidOperationException($"Silver column '{column}' holds a NULL; the table's schema does not allow one.")),
            var other => throw new InvalidOperationException($"Silver column '{column}' was read as {other.GetType().Name}, not {typeof(T).Name}."),
        };

    public static ReadOnlyMemory<char> Present(ReadOnlyMemory<char>?[] values, int row, string column) =>
        values[row] ?? throw new InvalidOperationException($"Silver column '{column}' holds a NULL; the table's schema does not allow one.");

    public static ReadOnlySpan<char> Required(ReadOnlyMemory<char>?[] values, int row, string column) =>
        values[row] is { } value ? value.Span : throw new InvalidOperationException($"Silver column '{column}' holds a NULL; the table's schema does not allow one.");

    public static string Required(string?[] values, int row, string column) =>
        values[row] ?? throw new InvalidOperationException($"Silver column '{column}' holds a NULL; the table's schema does not allow one.");

    public static long Micros(DateTime utc) => (utc.Ticks - UnixEpochTicks) / 10;

    public static DateTimeOffset Instant(DateTime utc) => new(utc.Ticks, TimeSpan.Zero);

    /// <summary>A file's event_date partition value, or null when it has none.</summary>
    public static DateOnly? EventDate(DeltaReadFile file) =>
        file.File.PartitionValues.TryGetValue("event_date", out var day) && day is not null
        && DateOnly.TryParseExact(day, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? date
            : null;
}
