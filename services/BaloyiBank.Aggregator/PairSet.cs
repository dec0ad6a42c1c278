namespace BaloyiBank.Aggregator;

/// <summary>
/// A set of non-negative longs (the fold's (bucket, account) pairs) with open addressing and linear probing in one
/// array: one cache miss per lookup instead of HashSet's bucket-then-entry two, no per-call comparer dispatch, 8
/// bytes a slot. Slots hold the bitwise complement of a value, so 0 means empty.
/// </summary>
internal sealed class PairSet
{
    private const double MaxLoad = 0.7;
    private long[] _slots = new long[1024];
    private int _shift = 64 - 10;
    private int _growAt = (int)(1024 * MaxLoad);

    public int Count { get; private set; }

    /// <summary>Adds <paramref name="value"/> (≥ 0); false when it was already there.</summary>
    public bool Add(long value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        if (Count >= _growAt)
        {
            Resize(_slots.Length * 2);
        }

        return Insert(_slots, _shift, ~value);
    }

    public bool Contains(long value)
    {
        if (value < 0)
        {
            return false;
        }

        var slots = _slots;
        var mask = slots.Length - 1;
        var stored = ~value;
        for (var i = Home(value, _shift); ; i = (i + 1) & mask)
        {
            var s = slots[i];
            if (s == stored)
            {
                return true;
            }

            if (s == 0)
            {
                return false;
            }
        }
    }

    /// <summary>Calls <paramref name="action"/> with every value, in no particular order.</summary>
    public void ForEach(Action<long> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        foreach (var s in _slots)
        {
            if (s != 0)
            {
                action(~s);
            }
        }
    }

    /// <summary>Removes every value <paramref name="remove"/> accepts (one pass that rebuilds the table); returns how many.</summary>
    public int RemoveWhere(Func<long, bool> remove)
    {
        ArgumentNullException.ThrowIfNull(remove);
        var old = _slots;
        var slots = new long[old.Length];
        var before = Count;
        Count = 0;
        foreach (var s in old)
        {
            if (s != 0 && !remove(~s))
            {
                Insert(slots, _shift, s);
            }
        }

        _slots = slots;
        return before - Count;
    }

    /// <summary>Grows once so that <paramref name="count"/> values fit without further resizing.</summary>
    public void EnsureCapacity(int count)
    {
        var needed = (long)Math.Ceiling(count / MaxLoad) + 1;
        if (needed > _slots.Length)
        {
            Resize((int)Math.Min(1L << 30, (long)System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)needed)));
        }
    }

    private bool Insert(long[] slots, int shift, long stored)
    {
        var mask = slots.Length - 1;
        for (var i = Home(~stored, shift); ; i = (i + 1) & mask)
        {
            var s = slots[i];
            if (s == stored)
            {
                return false;
            }

            if (s == 0)
            {
                slots[i] = stored;
                Count++;
                return true;
            }
        }
    }

    private void Resize(int length)
    {
        if (length > 1 << 30)
        {
            throw new InvalidOperationException("The daily-account memory is full (2^30 slots).");
        }

        var old = _slots;
        var slots = new long[length];
        var shift = 64 - System.Numerics.BitOperations.Log2((uint)length);
        Count = 0;
        foreach (var s in old)
        {
            if (s != 0)
            {
                Insert(slots, shift, s);
            }
        }

        _slots = slots;
        _shift = shift;
        _growAt = (int)(length * MaxLoad);
    }

    // Fibonacci hashing: the multiply spreads (bucket << 32 | account) over the top bits.
    private static int Home(long value, int shift) => (int)((ulong)(value * unchecked((long)0x9E3779B97F4A7C15)) >> shift);
}
