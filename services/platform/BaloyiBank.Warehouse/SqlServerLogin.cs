using Azure.Core;
using Azure.Identity;
using Microsoft.Data.SqlClient;

namespace BaloyiBank.Warehouse;

/// <summary>
/// How <see cref="SqlServerWarehouse"/> logs in: a SQL login from the connection string, or a Microsoft Entra token
/// from an Azure.Identity <see cref="TokenCredential"/> handed to each connection as its
/// <see cref="SqlConnection.AccessTokenCallback"/>. Microsoft.Data.SqlClient 7 no longer carries the Entra providers
/// behind <c>Authentication=Active Directory …</c> (they moved to a separate package), so the two keywords a service
/// needs are translated here instead: <c>Active Directory Managed Identity</c> (or <c>MSI</c>; <c>User Id</c> = a
/// user-assigned identity's client id) becomes a <see cref="ManagedIdentityCredential"/>, <c>Active Directory
/// Default</c> a <see cref="DefaultAzureCredential"/>, <c>Active Directory Workload Identity</c> a
/// <see cref="WorkloadIdentityCredential"/>. The keyword is removed from the string the driver sees (it refuses a
/// callback beside it). The token is asked for the resource the server names (Azure SQL, Synapse), and Azure.Identity
/// caches and refreshes it.
/// </summary>
/// <param name="ConnectionString">What <see cref="SqlConnection"/> gets: no <c>Authentication</c> keyword when <paramref name="Credential"/> is set.</param>
/// <param name="Credential">The Entra token source, or null for a SQL login.</param>
public sealed record SqlServerLogin(string ConnectionString, TokenCredential? Credential)
{
    /// <summary>The fix every refused Entra setting points to.</summary>
    internal const string EntraFix =
        "use Authentication=Active Directory Managed Identity (with User Id=<client id> for a user-assigned identity) or Authentication=Active Directory Default in Warehouse__ConnectionString, without a password, or set Warehouse__UseManagedIdentity=true";

    /// <summary>
    /// Resolves the login of <paramref name="connectionString"/>. A <paramref name="credential"/> given by the host
    /// (e.g. <c>Warehouse:UseManagedIdentity</c>, or a <see cref="TokenCredential"/> registered in DI) wins over the
    /// one the <c>Authentication</c> keyword names. Throws <see cref="ArgumentException"/> with the fix (never the
    /// string itself) for a string the driver cannot parse, an Entra method other than the three above, or a token
    /// beside a password or integrated security.
    /// </summary>
    public static SqlServerLogin Resolve(string connectionString, TokenCredential? credential = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var (login, problem, fix) = TryResolve(connectionString, credential is not null, credential);
        return login ?? throw new ArgumentException($"Warehouse:ConnectionString {problem}. Fix: {fix}.", nameof(connectionString));
    }

    /// <summary>
    /// The login, or what is wrong and the fix (for <see cref="WarehouseOptionsValidator"/>). With
    /// <paramref name="hostCredential"/> and no <paramref name="credential"/> (validation), no credential is built.
    /// </summary>
    internal static (SqlServerLogin? Login, string? Problem, string? Fix) TryResolve(string connectionString, bool hostCredential, TokenCredential? credential)
    {
        SqlConnectionStringBuilder builder;
        try
        {
            builder = new SqlConnectionStringBuilder(connectionString);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            // The driver's parse errors name a keyword or a position, not a value.
            return (null, $"is not a SQL Server connection string ({ex.Message.Split(" (Parameter", 2)[0]})",
                "set Warehouse__ConnectionString to e.g. Server=tcp:<server>.database.windows.net,1433;Database=<db>;Encrypt=True;Authentication=Active Directory Default");
        }

        var method = builder.Authentication;
        if (method is not (SqlAuthenticationMethod.NotSpecified or SqlAuthenticationMethod.SqlPassword or SqlAuthenticationMethod.ActiveDirectoryManagedIdentity
            or SqlAuthenticationMethod.ActiveDirectoryMSI or SqlAuthenticationMethod.ActiveDirectoryDefault or SqlAuthenticationMethod.ActiveDirectoryWorkloadIdentity))
        {
            return (null, $"asks for Authentication={method}, which this build does not support (it gets Microsoft Entra tokens through Azure.Identity only)", EntraFix);
        }

        var userId = string.IsNullOrWhiteSpace(builder.UserID) ? null : builder.UserID;
        Func<TokenCredential>? named = method switch
        {
            SqlAuthenticationMethod.NotSpecified or SqlAuthenticationMethod.SqlPassword => null,
            SqlAuthenticationMethod.ActiveDirectoryManagedIdentity or SqlAuthenticationMethod.ActiveDirectoryMSI => () => new ManagedIdentityCredential(
                userId is null ? ManagedIdentityId.SystemAssigned : ManagedIdentityId.FromUserAssignedClientId(userId)),
            SqlAuthenticationMethod.ActiveDirectoryDefault => () => new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = userId }),
            _ => () => new WorkloadIdentityCredential(new WorkloadIdentityCredentialOptions { ClientId = userId }),
        };

        if (!hostCredential && named is null)
        {
            return (new SqlServerLogin(connectionString, null), null, null);
        }

        if (!string.IsNullOrEmpty(builder.Password) || builder.IntegratedSecurity)
        {
            return (null, "has a password or Integrated Security beside a Microsoft Entra login",
                $"remove Password and Integrated Security from Warehouse__ConnectionString, or drop the Entra login (Authentication, Warehouse__UseManagedIdentity) to log in with the password");
        }

        // The driver refuses a token beside Authentication or a user name; User Id named the identity, now in the credential.
        builder.Remove("Authentication");
        builder.Remove("User ID");

        var chosen = credential ?? (hostCredential ? null : named!());
        return (new SqlServerLogin(builder.ConnectionString, chosen), null, null);
    }

    /// <summary>Whether the string's <c>Authentication</c> keyword asks for a Microsoft Entra login.</summary>
    internal static bool NamesEntra(string? connectionString)
    {
        try
        {
            return !string.IsNullOrWhiteSpace(connectionString)
                && new SqlConnectionStringBuilder(connectionString).Authentication is not (SqlAuthenticationMethod.NotSpecified or SqlAuthenticationMethod.SqlPassword);
        }
        catch (ArgumentException)
        {
            // Not a SQL Server string (PostgreSQL, DuckDB) or a bad one, which the validator reports.
            return false;
        }
    }

    /// <summary>The per-connection token source: a token for the resource the server asks for (Azure SQL, Synapse).</summary>
    internal Func<SqlAuthenticationParameters, CancellationToken, Task<SqlAuthenticationToken>>? TokenCallback() =>
        Credential is not { } credential
            ? null
            : async (parameters, cancellationToken) =>
            {
                var token = await credential.GetTokenAsync(new TokenRequestContext([Scope(parameters.Resource)]), cancellationToken).ConfigureAwait(false);
                return new SqlAuthenticationToken(token.Token, token.ExpiresOn);
            };

    /// <summary><c>https://database.windows.net/</c> → <c>https://database.windows.net/.default</c>.</summary>
    internal static string Scope(string resource) =>
        resource.EndsWith("/.default", StringComparison.Ordinal) ? resource : resource.TrimEnd('/') + "/.default";

    /// <summary>The connection string is a secret: never printed.</summary>
    public override string ToString() => $"SqlServerLogin {{ Entra = {Credential?.GetType().Name ?? "none"} }}";
}
