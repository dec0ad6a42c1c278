using System.Numerics;

namespace BaloyiBank.Generator;

/// <summary>
/// xoshiro256** seeded through SplitMix64. The algorithm is fixed here, not borrowed from the
/// runtime (System.Random's may change between releases), so a seed gives the same stream forever.
/// </summary>
internal sealed class StreamRandom
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    public StreamRandom(ulong seed)
    {
        var state = seed;
        _s0 = SplitMix64(ref state);
        _s1 = SplitMix64(ref state);
        _s2 = SplitMix64(ref state);
        _s3 = SplitMix64(ref state);
    }

    public static ulong SplitMix64(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        var z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        var result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, <paramref name="maxExclusive"/>) by multiply-shift (bias below 2^-32, irrelevant here).</summary>
    public int NextInt(int maxExclusive) => (int)(((NextUInt64() >> 32) * (ulong)maxExclusive) >> 32);

    public int NextInt(int minInclusive, int maxExclusive) => minInclusive + NextInt(maxExclusive - minInclusive);

    public bool Chance(double probability) => NextDouble() < probability;

    public double Uniform(double min, double max) => min + ((max - min) * NextDouble());

    /// <summary>Exponential with mean 1.</summary>
    public double NextExponential() => -ReproducibleMath.Log(1.0 - NextDouble());

    /// <summary>Standard normal by Marsaglia's polar method (log and sqrt only, both reproducible).</summary>
    public double NextNormal()
    {
        while (true)
        {
            var u = (2.0 * NextDouble()) - 1.0;
            var v = (2.0 * NextDouble()) - 1.0;
            var s = (u * u) + (v * v);
            if (s is > 0.0 and < 1.0)
            {
                return u * Math.Sqrt(-2.0 * ReproducibleMath.Log(s) / s);
            }
        }
    }

    /// <summary>Log-normal with the given median and log-space spread.</summary>
    public double LogNormal(double median, double sigma) => median * ReproducibleMath.Exp(sigma * NextNormal());

    /// <summary>Log-uniform between two positive bounds: as many minutes as hours as days.</summary>
    public double LogUniform(double min, double max) =>
        min * ReproducibleMath.Exp(NextDouble() * ReproducibleMath.Log(max / min));

    public T Pick<T>(T[] items) => items[NextInt(items.Length)];

    public T Pick<T>(List<T> items) => items[NextInt(items.Count)];
}
