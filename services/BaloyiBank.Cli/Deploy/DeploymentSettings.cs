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
        var settings = deployment.EnvironmentOf(deployment.CleansingProcesses[0], warehouseConnectionString: null)
            .Where(e => e.Key.StartsWith("EventLog__", StringComparison.Ordinal))
            .ToDictionary(e => e.Key.Replace("__", ":", StringComparison.Ordinal), e => (string?)e.Value, StringComparer.Ordinal);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddEventLog(configuration).AddRabbitMqEventLog(configuration);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    }

    /// <summary>
    /// The log's partitions now (first and next offsets). RabbitMQ finds a stream's tail by probing it, which a loaded
    /// machine can make report an older tail; so the answer is the one two describes in a row agree on.
    /// </summary>
    public static async Task<IReadOnlyList<PartitionInfo>> DescribeAsync(Deployment deployment, CancellationToken ct)
    {
        await using var services = Services(deployment);
        var log = services.GetRequiredService<IEventLog>();
        var previous = await log.DescribeAsync(ct);
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var current = await log.DescribeAsync(ct);
            if (current.Select(p => (p.Partition, p.FirstOffset, p.NextOffset)).SequenceEqual(previous.Select(p => (p.Partition, p.FirstOffset, p.NextOffset))))
            {
                return current;
            }

            previous = current;
        }

        return previous;
    }
}
