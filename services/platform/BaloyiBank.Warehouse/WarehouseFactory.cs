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
    /// <param name="accessToken">
    /// SQL Server / Synapse with <see cref="WarehouseOptions.UseManagedIdentity"/>: a Microsoft Entra token source
    /// for <c>https://database.windows.net/.default</c> (e.g. Azure.Identity's ManagedIdentityCredential).
    /// </param>
    public static IWarehouse Create(WarehouseOptions options, ILoggerFactory? loggerFactory = null,
        Func<CancellationToken, ValueTask<string>>? accessToken = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new WarehouseOptionsValidator().Validate(null, options);
        if (problems.Failed)
        {
            throw new OptionsValidationException(WarehouseOptions.SectionName, typeof(WarehouseOptions), problems.Failures);
        }

        if (options.UseManagedIdentity && accessToken is null)
        {
            throw new InvalidOperationException("Warehouse:UseManagedIdentity is set but no token source was given. Fix: pass an Azure.Identity credential's token to WarehouseFactory.Create.");
        }

        IWarehouse engine = options.Engine switch
        {
            WarehouseEngine.DuckDb => new DuckDbWarehouse(options.DuckDbPath, options.Schema, timeProvider: timeProvider),
            WarehouseEngine.PostgreSql => new PostgresWarehouse(options.ConnectionString!, options.Schema, timeProvider),
            var engineKind => new SqlServerWarehouse(options.ConnectionString!, options.Schema, engineKind == WarehouseEngine.Synapse,
                options.UseManagedIdentity ? accessToken : null, timeProvider),
        };
        return new ResilientWarehouse(engine, options.Resilience,
            (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<ResilientWarehouse>(), timeProvider);
    }

    /// <summary>
    /// Registers <see cref="WarehouseOptions"/> (section <c>Warehouse</c>, validated at start-up) and the resilient
    /// <see cref="IWarehouse"/> singleton.
    /// </summary>
    public static IServiceCollection AddBaloyiWarehouse(this IServiceCollection services, IConfiguration configuration,
        Func<CancellationToken, ValueTask<string>>? accessToken = null)
    {
        services.AddValidatedOptions<WarehouseOptions, WarehouseOptionsValidator>(configuration, WarehouseOptions.SectionName);
        services.AddSingleton(sp => Create(sp.GetRequiredService<IOptions<WarehouseOptions>>().Value, sp.GetService<ILoggerFactory>(), accessToken));
        return services;
    }
}
