using BaloyiBank.EventLog;
using BaloyiBank.EventLog.RabbitMq;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace BaloyiBank.Cli.Deploy;

/// <summary>The deployment's event log, opened the way the generator and cleansing open it, for the operator commands.</summary>
internal static class DeploymentLog
{
    public static ServiceProvider Services(Deployment deployment)
    {
        var settings = deployment.EnvironmentOf(Deploy.Services.Cleansing, warehouseConnectionString: null)
            .Where(e => e.Key.StartsWith("EventLog__", StringComparison.Ordinal))
            .ToDictionary(e => e.Key.Replace("__", ":", StringComparison.Ordinal), e => (string?)e.Value, StringComparer.Ordinal);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddEventLog(configuration).AddRabbitMqEventLog(configuration);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    }

    /// <summary>The log's partitions now (first and next offsets).</summary>
    public static async Task<IReadOnlyList<PartitionInfo>> DescribeAsync(Deployment deployment, CancellationToken ct)
    {
        await using var services = Services(deployment);
        var log = services.GetRequiredService<IEventLog>();
        return await log.DescribeAsync(ct);
    }
}
