using Azure.Core;
using Azure.Identity;
using BaloyiBank.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Warehouse;

/// <summary>Builds the configured engine behind <see cref="ResilientWarehouse"/>.</summary>
public static class WarehouseFactory
{
    /// <param name="credential">
    /// SQL Server / Synapse: the Microsoft Entra token source to log in with instead of the one
    /// <see cref="WarehouseOptions.UseManagedIdentity"/> (a ManagedIdentityCredential) or the connection string's
    /// <c>Authentication</c> keyword would build (see <see cref="SqlServerLogin"/>). Ignored for a password login.
    /// </param>
    public static IWarehouse Create(WarehouseOptions options, ILoggerFactory? loggerFactory = null,
        TokenCredential? credential = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new WarehouseOptionsValidator().Validate(null, options);
        if (problems.Failed)
        {
            throw new OptionsValidationException(WarehouseOptions.SectionName, typeof(WarehouseOptions), problems.Failures);
        }

        // A given credential serves an Entra login only: a password login stays one even with a TokenCredential in DI.
        if (!options.UseManagedIdentity && !SqlServerLogin.NamesEntra(options.ConnectionString))
        {
            credential = null;
        }
        else if (options.UseManagedIdentity)
        {
            credential ??= new ManagedIdentityCredential(string.IsNullOrWhiteSpace(options.ManagedIdentityClientId)
                ? ManagedIdentityId.SystemAssigned
                : ManagedIdentityId.FromUserAssignedClientId(options.ManagedIdentityClientId));
        }

        IWarehouse engine = options.Engine switch
        {
            WarehouseEngine.DuckDb => new DuckDbWarehouse(options.DuckDbPath, options.Schema, DuckDbSettings(options), timeProvider),
            WarehouseEngine.PostgreSql => new PostgresWarehouse(options.ConnectionString!, options.Schema, timeProvider),
            var engineKind => new SqlServerWarehouse(options.ConnectionString!, options.Schema, engineKind == WarehouseEngine.Synapse,
                credential, timeProvider),
        };
        return new ResilientWarehouse(engine, options.Resilience,
            (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<ResilientWarehouse>(), timeProvider);
    }

    private static Dictionary<string, string>? DuckDbSettings(WarehouseOptions options) =>
        string.IsNullOrWhiteSpace(options.DuckDbMemoryLimit) ? null : new() { ["memory_limit"] = options.DuckDbMemoryLimit.Trim() };

    /// <summary>
    /// Registers <see cref="WarehouseOptions"/> (section <c>Warehouse</c>, validated at start-up) and the resilient
    /// <see cref="IWarehouse"/> singleton. SQL Server / Synapse log in with <paramref name="credential"/>, else a
    /// <see cref="TokenCredential"/> registered in DI, when either is there (see <see cref="Create"/>).
    /// </summary>
    public static IServiceCollection AddBaloyiWarehouse(this IServiceCollection services, IConfiguration configuration,
        TokenCredential? credential = null)
    {
        services.AddValidatedOptions<WarehouseOptions, WarehouseOptionsValidator>(configuration, WarehouseOptions.SectionName);
        services.AddSingleton(sp => Create(sp.GetRequiredService<IOptions<WarehouseOptions>>().Value, sp.GetService<ILoggerFactory>(),
            credential ?? sp.GetService<TokenCredential>()));
        return services;
    }
}
