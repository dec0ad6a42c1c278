using BaloyiBank.EventLog;
using BaloyiBank.EventLog.Embedded;
using BaloyiBank.Lake;
using BaloyiBank.Warehouse;
using Microsoft.Extensions.DependencyInjection;

namespace BaloyiBank.Cli.Deploy;

/// <summary>
/// What <c>baloyi verify --data D</c> checks: the folder lake, embedded log and warehouse of a <c>baloyi run</c>, or the
/// Azurite lake, RabbitMQ log and PostgreSQL warehouse of a <c>baloyi up</c> deployment (found by its deployment.json).
/// </summary>
internal sealed class VerifyTarget : IAsyncDisposable
{
    private readonly ServiceProvider? _services;
    private readonly Deployment? _deployment;

    private VerifyTarget(string root, ILakeStore lake, WarehouseOptions warehouse, string description, ServiceProvider? services, Deployment? deployment)
    {
        Root = root;
        Lake = lake;
        Warehouse = warehouse;
        Description = description;
        _services = services;
        _deployment = deployment;
    }

    public string Root { get; }
    public ILakeStore Lake { get; }
    public WarehouseOptions Warehouse { get; }
    public string Description { get; }

    /// <summary>Null when <paramref name="root"/> holds neither a lake nor a deployment.</summary>
    public static async Task<VerifyTarget?> OpenAsync(string root, string? warehouseFlag, CancellationToken ct, Commands.EventLogChoice? eventLog = null)
    {
        if (Deployment.Exists(root))
        {
            var deployment = Deployment.Load(root);
            var services = deployment.LakeServices();
            var connectionString = await new LocalServers(deployment).PostgresConnectionStringAsync(ct);
            return new VerifyTarget(root, services.GetRequiredService<ILakeStore>(), Deployment.WarehouseOptions(connectionString),
                $"the deployment in {root}: lake on Azurite {deployment.AzuriteUri}/{Deployment.Container}, log on RabbitMQ :{deployment.RabbitMqPort}, warehouse PostgreSQL :{deployment.PostgresPort}",
                services, deployment);
        }

        var lakeRoot = Path.Combine(root, "lake");
        if (!Directory.Exists(lakeRoot))
        {
            return null;
        }

        var warehouse = new WarehouseOptions { DuckDbPath = Path.Combine(root, "warehouse.duckdb") };
        if (warehouseFlag is { } url && url != "duckdb")
        {
            warehouse.Kind = "postgres";
            warehouse.ConnectionString = url;
        }

        if (Commands.EventLogChoice.ReadRecord(root) is { } record)
        {
            // A run on another log than the folder's embedded one: open it as the run did (the secret comes from --event-log).
            var logServices = Commands.EventLogChoice.OpenRecorded(record, eventLog, out var problem) ?? throw new EventLogConfigurationException(problem);
            return new VerifyTarget(root, new FolderLakeStore(lakeRoot), warehouse,
                $"the run in {root}: lake {lakeRoot}, log {record.Location} '{record.Name}', warehouse {warehouse.Kind}", logServices, null);
        }

        return new VerifyTarget(root, new FolderLakeStore(lakeRoot), warehouse, $"the run in {root}: lake {lakeRoot}, warehouse {warehouse.Kind}", null, null);
    }

    /// <summary>The event log's partitions, or null when there is no log to compare with.</summary>
    public async Task<IReadOnlyList<PartitionInfo>?> DescribeLogAsync(CancellationToken ct)
    {
        if (_deployment is not null)
        {
            return await DeploymentLog.DescribeAsync(_deployment, ct);
        }

        if (_services?.GetService<IEventLog>() is { } recorded)
        {
            return await recorded.DescribeAsync(ct);
        }

        var directory = Path.Combine(Root, "log");
        if (!Directory.Exists(directory))
        {
            return null;
        }

        await using var log = EmbeddedEventLog.OpenExisting(directory);
        return await log.DescribeAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }
    }
}
