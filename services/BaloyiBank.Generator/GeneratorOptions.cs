using BaloyiBank.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Generator;

/// <summary>
/// The generator's settings (configuration section <c>Generator</c>). Seed, Start, the pace, the
/// bootstrap population and the defect shares shape the stream (and its fingerprint); the rest
/// only paces or bounds a run and never changes a payload.
/// </summary>
public sealed class GeneratorOptions
{
    public const string SectionName = "Generator";

    public static readonly DateTimeOffset DefaultStart = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The seed of the deterministic stream.</summary>
    public long Seed { get; set; } = 42;

    /// <summary>The simulated instant the stream starts at (UTC).</summary>
    public DateTimeOffset Start { get; set; } = DefaultStart;

    /// <summary>Target events per wall-clock second; 0 means as fast as possible.</summary>
    public double Rate { get; set; }

    /// <summary>Token-bucket size: how many events may go out at once above the rate; 0 means one second's worth.</summary>
    public int Burst { get; set; }

    /// <summary>How many new events this run generates (counted from the resume point); 0 means no limit.</summary>
    public long MaxEvents { get; set; }

    /// <summary>Wall-clock time this run may last; null means no limit.</summary>
    public TimeSpan? Duration { get; set; }

    /// <summary>The stream ends before this sequence number (so it holds exactly this many events), whatever the restarts.</summary>
    public long? StopAtSequence { get; set; }

    /// <summary>Events per append.</summary>
    public int BatchSize { get; set; } = 2_000;

    /// <summary>How long a rate-limited batch may wait to fill before it is appended anyway.</summary>
    public TimeSpan Linger { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Customers registered (with accounts and some loans) at the start of a fresh stream.</summary>
    public int InitialCustomers { get; set; } = 10_000;

    /// <summary>Average events per simulated day: the speed of the simulated clock.</summary>
    public int EventsPerSimulatedDay { get; set; } = 200_000;

    /// <summary>Stop the host once a limit is reached and the last append is acknowledged.</summary>
    public bool StopApplicationWhenDone { get; set; } = true;

    /// <summary>
    /// Give each event its own <c>create</c> span and traceparent while the generator's ActivitySource
    /// has listeners. Costs roughly a third of the throughput; benchmarks may turn it off (batch
    /// <c>send</c> spans remain).
    /// </summary>
    public bool TraceEachEvent { get; set; } = true;

    /// <summary>The share of <c>transaction.posted</c> records of each non-clean kind.</summary>
    public DefectShares Defects { get; set; } = new();
}

/// <summary>
/// Share of <c>transaction.posted</c> records that are of each kind (the rest are clean). Only
/// transactions are made dirty; reference events stay clean.
/// </summary>
public sealed class DefectShares
{
    public double Late { get; set; } = 0.01;
    public double Duplicate { get; set; } = 0.005;
    public double MalformedJson { get; set; } = 0.002;
    public double MissingField { get; set; } = 0.003;
    public double UnknownCurrency { get; set; } = 0.002;
    public double NonPositiveAmount { get; set; } = 0.002;
    public double UnknownAccount { get; set; } = 0.002;
    public double FutureTimestamp { get; set; } = 0.002;

    /// <summary>The share of a kind; for <see cref="EventKind.Clean"/>, what is left.</summary>
    public double ShareOf(EventKind kind) => kind switch
    {
        EventKind.Clean => 1.0 - Total,
        EventKind.Late => Late,
        EventKind.Duplicate => Duplicate,
        EventKind.MalformedJson => MalformedJson,
        EventKind.MissingField => MissingField,
        EventKind.UnknownCurrency => UnknownCurrency,
        EventKind.NonPositiveAmount => NonPositiveAmount,
        EventKind.UnknownAccount => UnknownAccount,
        EventKind.FutureTimestamp => FutureTimestamp,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>All non-clean shares together.</summary>
    public double Total => Late + Duplicate + MalformedJson + MissingField + UnknownCurrency + NonPositiveAmount + UnknownAccount + FutureTimestamp;
}

/// <summary>Checks <see cref="GeneratorOptions"/> at start-up; each message names the option, the problem and the fix.</summary>
public sealed class GeneratorOptionsValidator : IValidateOptions<GeneratorOptions>
{
    public const double MaxDefectTotal = 0.5;

    public ValidateOptionsResult Validate(string? name, GeneratorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new OptionProblems(GeneratorOptions.SectionName);
        problems
            .Require(options.Start.Offset == TimeSpan.Zero, nameof(options.Start),
                $"must be a UTC instant (got {options.Start:O})",
                "set Generator__Start or --start to an instant ending in Z, e.g. 2026-01-01T00:00:00Z")
            .Require(options.Start.Year is >= 1970 and <= 2999, nameof(options.Start),
                $"must lie between the years 1970 and 2999 (got {options.Start:O})",
                "set Generator__Start or --start to a date in that range, e.g. 2026-01-01T00:00:00Z")
            .Require(double.IsFinite(options.Rate) && options.Rate >= 0, nameof(options.Rate),
                $"must be ≥ 0 (got {options.Rate})",
                "set Generator__Rate or --rate to events per second, or 0 for as fast as possible")
            .Require(options.Burst >= 0, nameof(options.Burst),
                $"must be ≥ 0 (got {options.Burst})",
                "set Generator__Burst or --burst to the events allowed at once, or 0 for one second's worth")
            .Require(options.MaxEvents >= 0, nameof(options.MaxEvents),
                $"must be ≥ 0 (got {options.MaxEvents})",
                "set Generator__MaxEvents or --events to the number of events to generate, or 0 for no limit")
            .Require(options.Duration is null || options.Duration > TimeSpan.Zero, nameof(options.Duration),
                $"must be positive when set (got {options.Duration})",
                "set Generator__Duration or --duration to a time span such as 00:05:00, or leave it unset")
            .Require(options.StopAtSequence is null || options.StopAtSequence >= 1, nameof(options.StopAtSequence),
                $"must be ≥ 1 when set (got {options.StopAtSequence})",
                "set Generator__StopAtSequence to the total number of events the stream should hold, or leave it unset")
            .Require(options.BatchSize is >= 1 and <= 100_000, nameof(options.BatchSize),
                $"must be between 1 and 100000 (got {options.BatchSize})",
                "set Generator__BatchSize to the events per append, e.g. 2000")
            .Require(options.Linger >= TimeSpan.Zero && options.Linger <= TimeSpan.FromSeconds(10), nameof(options.Linger),
                $"must be between 0 and 10 seconds (got {options.Linger})",
                "set Generator__Linger to a short time span such as 00:00:00.020")
            .Require(options.InitialCustomers is >= 1 and <= 10_000_000, nameof(options.InitialCustomers),
                $"must be between 1 and 10000000 (got {options.InitialCustomers})",
                "set Generator__InitialCustomers to the size of the bootstrap population, e.g. 10000")
            .Require(options.EventsPerSimulatedDay is >= 1_000 and <= 1_000_000_000, nameof(options.EventsPerSimulatedDay),
                $"must be between 1000 and 1000000000 (got {options.EventsPerSimulatedDay})",
                "set Generator__EventsPerSimulatedDay to the average events per simulated day, e.g. 200000");

        var defects = options.Defects;
        if (defects is null)
        {
            problems.Require(false, nameof(options.Defects), "must not be null", "remove the empty Generator:Defects setting or give its shares");
            return problems.ToResult();
        }

        foreach (var kind in EventKinds.All)
        {
            if (kind == EventKind.Clean)
            {
                continue;
            }

            var share = defects.ShareOf(kind);
            problems.Require(double.IsFinite(share) && share is >= 0 and <= 1, $"Defects:{kind}",
                $"must be a share between 0 and 1 (got {share})",
                $"set Generator__Defects__{kind} to a fraction of transactions such as 0.002, or 0 for none");
        }

        problems.Require(!(defects.Total >= MaxDefectTotal), nameof(options.Defects),
            $"shares must sum to less than {MaxDefectTotal} (got {defects.Total})",
            "lower some Generator__Defects__* shares: most transactions must stay clean");
        return problems.ToResult();
    }
}
