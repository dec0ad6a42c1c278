using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace BaloyiBank.Generator;

/// <summary>
/// Everything that shapes the generated stream, frozen. Two runs with equal settings produce
/// byte-identical payloads; pacing and limits are deliberately not part of it.
/// </summary>
public sealed record StreamSettings
{
    /// <summary>
    /// Version of the generation model. Bump it whenever a code change alters the payloads a seed
    /// produces, so an old stream is never silently resumed with a different model.
    /// </summary>
    public const int ModelVersion = 2;

    public required long Seed { get; init; }
    public required DateTimeOffset Start { get; init; }
    public required int EventsPerSimulatedDay { get; init; }
    public required int InitialCustomers { get; init; }

    /// <summary>Share of transaction records per kind, indexed by <see cref="EventKind"/>.</summary>
    public required IReadOnlyList<double> KindShares { get; init; }

    public static StreamSettings From(GeneratorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var shares = new double[EventKinds.All.Count];
        foreach (var kind in EventKinds.All)
        {
            shares[(int)kind] = options.Defects.ShareOf(kind);
        }

        return new StreamSettings
        {
            Seed = options.Seed,
            Start = options.Start,
            EventsPerSimulatedDay = options.EventsPerSimulatedDay,
            InitialCustomers = options.InitialCustomers,
            KindShares = shares,
        };
    }

    /// <summary>The settings as ordered <c>Name=value</c> pairs, named as the options are.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Describe()
    {
        var pairs = new List<KeyValuePair<string, string>>
        {
            new("Model", ModelVersion.ToString(CultureInfo.InvariantCulture)),
            new(nameof(Seed), Seed.ToString(CultureInfo.InvariantCulture)),
            new(nameof(Start), Start.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture)),
            new(nameof(EventsPerSimulatedDay), EventsPerSimulatedDay.ToString(CultureInfo.InvariantCulture)),
            new(nameof(InitialCustomers), InitialCustomers.ToString(CultureInfo.InvariantCulture)),
        };
        foreach (var kind in EventKinds.All)
        {
            if (kind != EventKind.Clean)
            {
                pairs.Add(new($"Defects:{kind}", KindShares[(int)kind].ToString("R", CultureInfo.InvariantCulture)));
            }
        }

        return pairs;
    }

    /// <summary>The settings in one line, e.g. <c>Model=2;Seed=42;Start=2026-01-01T00:00:00Z;…</c>.</summary>
    public string Canonical() => string.Join(';', Describe().Select(p => p.Key + "=" + p.Value));

    /// <summary>A short fingerprint of every stream-shaping setting: 16 hex digits of SHA-256 of <see cref="Canonical"/>.</summary>
    public string Fingerprint() => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Canonical())).AsSpan(0, 8));

    /// <summary>
    /// The settings that differ between a canonical line written into the log and these settings,
    /// as "Seed (log: 7, now: 42)" phrases.
    /// </summary>
    public IReadOnlyList<string> DifferencesFrom(string loggedCanonical)
    {
        ArgumentNullException.ThrowIfNull(loggedCanonical);
        var logged = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in loggedCanonical.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                logged[part[..equals]] = part[(equals + 1)..];
            }
        }

        var differences = new List<string>();
        foreach (var (key, value) in Describe())
        {
            logged.TryGetValue(key, out var old);
            if (old != value)
            {
                differences.Add($"{key} (log: {old ?? "absent"}, now: {value})");
            }
        }

        return differences;
    }
}
