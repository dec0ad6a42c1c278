using BaloyiBank.Lake;
using BaloyiBank.Lake.Blob;
using BaloyiBank.ServiceDefaults;
using BaloyiBank.Warehouse;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Sink;

/// <summary>The sink's settings (configuration section <c>Sink</c>); the warehouse itself is section <c>Warehouse</c>.</summary>
public sealed class SinkOptions
{
    public const string SectionName = "Sink";

    /// <summary>
    /// How often to load without a <c>GoldCommitted</c> wake-up (unset: 60 s, unless <see cref="Schedule"/> is set;
    /// setting both is an error).
    /// </summary>
    public TimeSpan? Interval { get; set; }

    /// <summary>
    /// Instead of <see cref="Interval"/>: a cron expression (Cronos; 5 fields, or 6 with seconds first, or a macro such as
    /// <c>@hourly</c>) for when to load without a wake-up, read in <see cref="ScheduleTimeZone"/>. See <see cref="SinkSchedule"/>.
    /// </summary>
    public string? Schedule { get; set; }

    /// <summary>The time zone <see cref="Schedule"/> is read in: an IANA id (default <c>UTC</c>).</summary>
    public string ScheduleTimeZone { get; set; } = "UTC";

    /// <summary>Lake folder of the gold tables (as <c>Aggregator:GoldRoot</c>).</summary>
    public string GoldRoot { get; set; } = "gold";

    /// <summary>The txn appId of gold rounds (as <c>Aggregator:AppId</c>): how a gold commit names its round.</summary>
    public string GoldAppId { get; set; } = "aggregator";

    /// <summary>The warehouse watermark's pipeline name (lower-case snake_case).</summary>
    public string Pipeline { get; set; } = "sink";

    /// <summary>Lake folder of the lease that lets one sink at a time load the warehouse; one folder per warehouse.</summary>
    public string LeaseFolder { get; set; } = "_leases/sink";

    /// <summary>How long a lease lasts unless renewed; a standby takes over this long after the holder stopped renewing.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Local folder for gold files downloaded from a remote lake; empty: a folder under the system temp folder.</summary>
    public string? ScratchFolder { get; set; }
}

/// <summary>Checks <see cref="SinkOptions"/> at start-up; every message names the option, the problem and the fix.</summary>
public sealed class SinkOptionsValidator : IValidateOptions<SinkOptions>
{
    public ValidateOptionsResult Validate(string? name, SinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (_, scheduleProblem) = SinkSchedule.TryFrom(options);
        var problems = new OptionProblems(SinkOptions.SectionName)
            .Require(IsLakeFolder(options.GoldRoot), nameof(options.GoldRoot),
                $"must be a relative lake folder (got '{options.GoldRoot}')", "set Sink__GoldRoot to the aggregator's gold folder, e.g. gold")
            .Require(!string.IsNullOrWhiteSpace(options.GoldAppId), nameof(options.GoldAppId),
                "is empty", "set Sink__GoldAppId to the aggregator's Aggregator:AppId, e.g. aggregator")
            .Require(IsIdentifier(options.Pipeline), nameof(options.Pipeline),
                $"must be lower-case snake_case, 1-63 characters, starting with a letter (got '{options.Pipeline}')", "set Sink__Pipeline to e.g. sink")
            .Require(IsLakeFolder(options.LeaseFolder) && options.LeaseFolder.Trim('/') != options.GoldRoot.Trim('/'), nameof(options.LeaseFolder),
                $"must be a relative lake folder outside the gold tables (got '{options.LeaseFolder}')", "set Sink__LeaseFolder to e.g. _leases/sink")
            .Require(options.LeaseDuration >= TimeSpan.FromSeconds(1) && options.LeaseDuration <= TimeSpan.FromHours(1), nameof(options.LeaseDuration),
                $"must be between 00:00:01 and 01:00:00 (got {options.LeaseDuration})", "set Sink__LeaseDuration to e.g. 00:02:00");
        // The schedule's message is a whole line already (it names Interval, Schedule or ScheduleTimeZone itself).
        return scheduleProblem is null && problems.Failures.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(scheduleProblem is null ? problems.Failures : [scheduleProblem, .. problems.Failures]);
    }

    private static bool IsLakeFolder(string? folder) =>
        !string.IsNullOrWhiteSpace(folder) && !folder.Contains("..", StringComparison.Ordinal) && !folder.StartsWith('/') && !folder.Contains('\\', StringComparison.Ordinal);

    private static bool IsIdentifier(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= 63 && char.IsAsciiLetterLower(name[0]) && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_');
}

/// <summary>
/// Checks at start-up that the warehouse can read the files the sink hands it. Synapse stages gold with <c>COPY INTO</c>
/// from the Parquet files' https URLs in Azure Storage (the pool's managed identity), so <c>Warehouse:Kind=synapse</c>
/// needs <c>Lake:Kind=blob</c> at an https <c>Lake:Blob:ServiceUri</c>; the other engines read local or downloaded files.
/// </summary>
public sealed class SinkLakeValidator(IOptions<WarehouseOptions> warehouse, IOptions<LakeOptions> lake, IOptions<BlobLakeOptions> blob) : IValidateOptions<SinkOptions>
{
    public ValidateOptionsResult Validate(string? name, SinkOptions options)
    {
        if (!string.Equals(warehouse.Value.Kind?.Trim(), "synapse", StringComparison.OrdinalIgnoreCase))
        {
            return ValidateOptionsResult.Success;
        }

        var lakeKind = lake.Value.Kind?.Trim() ?? string.Empty;
        if (!string.Equals(lakeKind, LakeOptions.BlobKind, StringComparison.OrdinalIgnoreCase))
        {
            return ValidateOptionsResult.Fail(SynapseNeedsHttpsBlobLake($"Lake:Kind is '{lakeKind}'"));
        }

        // With a connection string the endpoint comes from it.
        var serviceUri = blob.Value.ResolveServiceUri();
        return Uri.TryCreate(serviceUri, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(SynapseNeedsHttpsBlobLake($"Lake:Blob:ServiceUri is '{(serviceUri.Contains('?', StringComparison.Ordinal) ? serviceUri[..serviceUri.IndexOf('?', StringComparison.Ordinal)] : serviceUri)}', not https"));
    }

    /// <summary>The operator message: what is wrong (<paramref name="found"/>) and the two ways out.</summary>
    internal static string SynapseNeedsHttpsBlobLake(string found) =>
        $"{WarehouseOptions.SectionName}:Kind is synapse but {found}: Synapse stages gold with COPY INTO from the Parquet files' https URLs in Azure Storage and cannot read a local folder or a plain-http endpoint. "
        + "Fix: set Lake__Kind=blob and Lake__Blob__ServiceUri=https://<account>.blob.core.windows.net (the ADLS Gen2 account that holds gold; the pool's managed identity needs Storage Blob Data Reader on it), "
        + "or set Warehouse__Kind to sqlserver, postgres or duckdb to load from a folder lake.";
}
