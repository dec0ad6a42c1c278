using System.Text.RegularExpressions;
using BaloyiBank.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Warehouse;

/// <summary>The warehouse the sink loads (configuration section <c>Warehouse</c>).</summary>
public sealed class WarehouseOptions
{
    public const string SectionName = "Warehouse";

    /// <summary><c>duckdb</c> (embedded default), <c>postgres</c>, <c>sqlserver</c> or <c>synapse</c>.</summary>
    public string Kind { get; set; } = "duckdb";

    /// <summary>The schema every warehouse table, view and control table lives in.</summary>
    public string Schema { get; set; } = "baloyi";

    /// <summary>DuckDB: the database file (one process opens it read-write at a time).</summary>
    public string DuckDbPath { get; set; } = "./data/warehouse/warehouse.duckdb";

    /// <summary>
    /// DuckDB: the most memory its buffer manager may hold (DuckDB's <c>memory_limit</c>, e.g. <c>512MB</c>, <c>2GB</c>);
    /// larger operations spill to a temporary folder beside the file. Empty: DuckDB's own default, 80 % of the
    /// machine's RAM, which a long-running sink fills with cached blocks that are never given back.
    /// </summary>
    public string DuckDbMemoryLimit { get; set; } = "512MB";

    /// <summary>
    /// PostgreSQL (<c>Host=…;Port=…;Database=…;Username=…;Password=…</c> or <c>postgres://user:pass@host:port/db</c>),
    /// SQL Server or Synapse (<c>Server=tcp:….database.windows.net,1433;Database=…</c>). Give it through the
    /// environment (<c>Warehouse__ConnectionString</c>) or a secret store, never a committed file.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// SQL Server / Synapse: log in with a Microsoft Entra token of the host's managed identity (Azure.Identity's
    /// ManagedIdentityCredential) instead of a password. The same as <c>Authentication=Active Directory Managed
    /// Identity</c> in the connection string.
    /// </summary>
    public bool UseManagedIdentity { get; set; }

    /// <summary>With <see cref="UseManagedIdentity"/>: the client id of a user-assigned identity (empty: the system-assigned one).</summary>
    public string? ManagedIdentityClientId { get; set; }

    public WarehouseResilienceOptions Resilience { get; set; } = new();

    public WarehouseEngine Engine => Kind.ToLowerInvariant() switch
    {
        "duckdb" => WarehouseEngine.DuckDb,
        "postgres" or "postgresql" => WarehouseEngine.PostgreSql,
        "sqlserver" => WarehouseEngine.SqlServer,
        "synapse" => WarehouseEngine.Synapse,
        _ => throw new InvalidOperationException($"{SectionName}:Kind '{Kind}' is not a warehouse engine. Fix: set {SectionName}__Kind to duckdb, postgres, sqlserver or synapse."),
    };
}

/// <summary>Retries, circuit breaker and timeout around every warehouse operation.</summary>
public sealed class WarehouseResilienceOptions
{
    /// <summary>Retries after a transient failure (0 disables retrying).</summary>
    public int MaxRetries { get; set; } = 5;

    /// <summary>First retry delay; doubles per attempt, with jitter.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest one attempt of a load (or schema ensure) may run before it is cancelled and rolled back.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Share of transient failures in <see cref="BreakerSamplingDuration"/> that opens the circuit.</summary>
    public double BreakerFailureRatio { get; set; } = 0.5;

    public int BreakerMinimumThroughput { get; set; } = 4;

    public TimeSpan BreakerSamplingDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long an open circuit fails calls at once before a trial call.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>Checks <see cref="WarehouseOptions"/> at start-up; every message names the option, the problem and the fix (never the connection string).</summary>
public sealed partial class WarehouseOptionsValidator : IValidateOptions<WarehouseOptions>
{
    [GeneratedRegex(@"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex MemorySize();

    private static readonly string[] Kinds = ["duckdb", "postgres", "postgresql", "sqlserver", "synapse"];

    public ValidateOptionsResult Validate(string? name, WarehouseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var kind = options.Kind?.ToLowerInvariant() ?? string.Empty;
        var r = options.Resilience ?? new WarehouseResilienceOptions();
        var needsConnection = kind is "postgres" or "postgresql" or "sqlserver" or "synapse";
        var (_, loginProblem, loginFix) = kind is "sqlserver" or "synapse" && !string.IsNullOrWhiteSpace(options.ConnectionString)
            ? SqlServerLogin.TryResolve(options.ConnectionString, options.UseManagedIdentity, null)
            : default;
        return new OptionProblems(WarehouseOptions.SectionName)
            .Require(Kinds.Contains(kind), nameof(options.Kind),
                $"must be duckdb, postgres, sqlserver or synapse (got '{options.Kind}')",
                "set Warehouse__Kind to duckdb for the embedded warehouse")
            .Require(SqlIdentifier.IsValid(options.Schema), nameof(options.Schema),
                $"must be 1-63 lower-case letters, digits and '_', starting with a letter (got '{options.Schema}')",
                "set Warehouse__Schema to a name such as baloyi")
            .Require(kind != "duckdb" || !string.IsNullOrWhiteSpace(options.DuckDbPath), nameof(options.DuckDbPath),
                "is empty", "set Warehouse__DuckDbPath to the database file, e.g. ./data/warehouse/warehouse.duckdb")
            .Require(string.IsNullOrWhiteSpace(options.DuckDbMemoryLimit) || MemorySize().IsMatch(options.DuckDbMemoryLimit), nameof(options.DuckDbMemoryLimit),
                $"must be a size such as 512MB or 2GB (got '{options.DuckDbMemoryLimit}')", "set Warehouse__DuckDbMemoryLimit to e.g. 512MB, or empty for DuckDB's default (80 % of RAM)")
            .Require(!needsConnection || !string.IsNullOrWhiteSpace(options.ConnectionString), nameof(options.ConnectionString),
                $"is required for Kind '{options.Kind}'",
                "set the environment variable Warehouse__ConnectionString (never commit it), e.g. Host=127.0.0.1;Port=55432;Database=baloyi;Username=baloyi;Password=…")
            .Require(!options.UseManagedIdentity || kind is "sqlserver" or "synapse", nameof(options.UseManagedIdentity),
                "applies only to sqlserver and synapse", "remove Warehouse__UseManagedIdentity or set Warehouse__Kind to synapse")
            .Require(loginProblem is null, nameof(options.ConnectionString), loginProblem!, loginFix!)
            .Require(string.IsNullOrWhiteSpace(options.ManagedIdentityClientId) || (options.UseManagedIdentity && Guid.TryParse(options.ManagedIdentityClientId, out _)),
                nameof(options.ManagedIdentityClientId), "must be a client id (a GUID) and needs UseManagedIdentity=true",
                "set Warehouse__UseManagedIdentity=true and Warehouse__ManagedIdentityClientId to the user-assigned identity's client id, or remove it for the system-assigned one")
            .Require(r.MaxRetries is >= 0 and <= 20, "Resilience:MaxRetries",
                $"must be between 0 and 20 (got {r.MaxRetries})", "set Warehouse__Resilience__MaxRetries to e.g. 5")
            .Require(r.BaseDelay > TimeSpan.Zero && r.BaseDelay <= r.MaxDelay && r.MaxDelay <= TimeSpan.FromMinutes(10), "Resilience:BaseDelay",
                $"must be above 0 and at most MaxDelay, which is at most 00:10:00 (got {r.BaseDelay} and {r.MaxDelay})",
                "set Warehouse__Resilience__BaseDelay to e.g. 00:00:01 and Warehouse__Resilience__MaxDelay to e.g. 00:00:30")
            .Require(r.Timeout >= TimeSpan.FromSeconds(1) && r.Timeout <= TimeSpan.FromHours(24), "Resilience:Timeout",
                $"must be between 00:00:01 and 1.00:00:00 (got {r.Timeout})", "set Warehouse__Resilience__Timeout to the longest a load may take, e.g. 00:10:00")
            .Require(r.BreakerFailureRatio is > 0 and <= 1, "Resilience:BreakerFailureRatio",
                $"must be above 0 and at most 1 (got {r.BreakerFailureRatio})", "set Warehouse__Resilience__BreakerFailureRatio to e.g. 0.5")
            .Require(r.BreakerMinimumThroughput >= 2, "Resilience:BreakerMinimumThroughput",
                $"must be at least 2 (got {r.BreakerMinimumThroughput})", "set Warehouse__Resilience__BreakerMinimumThroughput to e.g. 4")
            .Require(r.BreakerSamplingDuration >= TimeSpan.FromMilliseconds(500) && r.BreakDuration >= TimeSpan.FromMilliseconds(500), "Resilience:BreakDuration",
                $"and BreakerSamplingDuration must be at least 00:00:00.5 (got {r.BreakDuration} and {r.BreakerSamplingDuration})",
                "set Warehouse__Resilience__BreakDuration to e.g. 00:00:30")
            .ToResult();
    }
}
