using BaloyiBank.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Aggregator;

/// <summary>The aggregator's settings (configuration section <c>Aggregator</c>).</summary>
public sealed class AggregatorOptions
{
    public const string SectionName = "Aggregator";

    /// <summary>Lake folder of the silver tables it folds (as <c>Cleansing:SilverRoot</c>).</summary>
    public string SilverRoot { get; set; } = "silver";

    /// <summary>Lake folder of the gold tables (each a Delta table below it).</summary>
    public string GoldRoot { get; set; } = "gold";

    /// <summary>The txn appId of gold rounds; progress is recorded as <c>{AppId}:{silver table}</c>.</summary>
    public string AppId { get; set; } = "aggregator";

    /// <summary>How often to look at silver without a wake-up (control events are only wake-ups; a lost one costs this long).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The shortest time between two rounds, so a burst of wake-ups folds into one commit.</summary>
    public TimeSpan MinRoundInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// How fresh the current-state gold tables (one row per key) are kept: zero refreshes them after every round; a
    /// longer interval (at most a minute) batches the changes of several rounds into one rewrite of their buckets,
    /// which costs less when rounds are frequent and tables large. The change tables the sink loads are unaffected.
    /// </summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.Zero;

    /// <summary>A gold change table is compacted to its current rows once it holds this many data files.</summary>
    public int CompactionFileThreshold { get; set; } = 64;

    /// <summary>
    /// How often the worker vacuums the gold tables (change and current-state): files removed longer than
    /// <c>Lake:VacuumRetention</c> ago, by compaction or by a refresh replacing a bucket's file, are deleted.
    /// </summary>
    public TimeSpan VacuumInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The (bucket, account) pairs behind daily distinct_accounts stay in memory for event dates up to this many days
    /// before the newest one folded; older dates' pairs are dropped after each round, so memory does not grow with the
    /// stream's history. A late transaction for such a date has its date's pairs read back from silver first (about a
    /// second per date of 300k pairs).
    /// </summary>
    public int PairsKeptDays { get; set; } = 7;

    /// <summary>A copy with other silver and gold roots (a gold generation's aggregator).</summary>
    public AggregatorOptions WithRoots(string silverRoot, string goldRoot)
    {
        var copy = (AggregatorOptions)MemberwiseClone();
        copy.SilverRoot = silverRoot;
        copy.GoldRoot = goldRoot;
        return copy;
    }
}

/// <summary>Checks <see cref="AggregatorOptions"/> at start-up; every message names the option, the problem and the fix.</summary>
public sealed class AggregatorOptionsValidator : IValidateOptions<AggregatorOptions>
{
    public ValidateOptionsResult Validate(string? name, AggregatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new OptionProblems(AggregatorOptions.SectionName)
            .Require(IsLakeFolder(options.SilverRoot), nameof(options.SilverRoot),
                $"must be a relative lake folder (got '{options.SilverRoot}')", "set Aggregator__SilverRoot to the cleansing service's silver folder, e.g. silver")
            .Require(IsLakeFolder(options.GoldRoot), nameof(options.GoldRoot),
                $"must be a relative lake folder (got '{options.GoldRoot}')", "set Aggregator__GoldRoot to a lake folder such as gold")
            .Require(options.GoldRoot.Trim('/') != options.SilverRoot.Trim('/'), nameof(options.GoldRoot),
                $"must differ from Aggregator:SilverRoot (both '{options.GoldRoot}')", "set Aggregator__GoldRoot to its own folder, e.g. gold")
            .Require(!string.IsNullOrWhiteSpace(options.AppId) && options.AppId.Length <= 64
                    && options.AppId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'), nameof(options.AppId),
                $"must be 1-64 letters, digits, '-', '_' or '.' (got '{options.AppId}')", "set Aggregator__AppId to a name such as aggregator")
            .Require(options.PollInterval >= TimeSpan.FromMilliseconds(10) && options.PollInterval <= TimeSpan.FromHours(1), nameof(options.PollInterval),
                $"must be between 00:00:00.010 and 01:00:00 (got {options.PollInterval})", "set Aggregator__PollInterval to e.g. 00:00:05")
            .Require(options.MinRoundInterval >= TimeSpan.Zero && options.MinRoundInterval <= TimeSpan.FromMinutes(10), nameof(options.MinRoundInterval),
                $"must be between 00:00:00 and 00:10:00 (got {options.MinRoundInterval})", "set Aggregator__MinRoundInterval to e.g. 00:00:00.500")
            .Require(options.RefreshInterval >= TimeSpan.Zero && options.RefreshInterval <= TimeSpan.FromMinutes(1), nameof(options.RefreshInterval),
                $"must be between 00:00:00 and 00:01:00 (got {options.RefreshInterval})", "set Aggregator__RefreshInterval to 00:00:00 (every round) or e.g. 00:00:30")
            .Require(options.CompactionFileThreshold is >= 2 and <= 100_000, nameof(options.CompactionFileThreshold),
                $"must be between 2 and 100000 (got {options.CompactionFileThreshold})", "set Aggregator__CompactionFileThreshold to e.g. 64")
            .Require(options.VacuumInterval >= TimeSpan.FromSeconds(1) && options.VacuumInterval <= TimeSpan.FromDays(1), nameof(options.VacuumInterval),
                $"must be between 00:00:01 and 1.00:00:00 (got {options.VacuumInterval})", "set Aggregator__VacuumInterval to e.g. 00:01:00")
            .Require(options.PairsKeptDays is >= 0 and <= 3_660, nameof(options.PairsKeptDays),
                $"must be between 0 and 3660 days (got {options.PairsKeptDays})", "set Aggregator__PairsKeptDays to how many days late transactions usually arrive, e.g. 7")
            .ToResult();
    }

    private static bool IsLakeFolder(string? folder) =>
        !string.IsNullOrWhiteSpace(folder) && !folder.Contains("..", StringComparison.Ordinal) && !folder.StartsWith('/') && !folder.Contains('\\', StringComparison.Ordinal);
}
