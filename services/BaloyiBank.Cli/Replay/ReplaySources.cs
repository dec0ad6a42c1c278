using BaloyiBank.Cli.Commands;
using BaloyiBank.Cli.Deploy;
using BaloyiBank.EventLog;
using BaloyiBank.EventLog.Embedded;
using BaloyiBank.Lake;
using Microsoft.Extensions.DependencyInjection;

namespace BaloyiBank.Cli.Replay;

/// <summary>The lake and the event log of a data folder, as a replay reads and writes them: a <c>baloyi run</c> folder or a <c>baloyi up</c> deployment.</summary>
internal sealed class ReplaySources : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];

    private ReplaySources(ILakeStore lake, IEventLog log, string description)
    {
        Lake = lake;
        Log = log;
        Description = description;
    }

    public ILakeStore Lake { get; }

    public IEventLog Log { get; }

    public string Description { get; }

    /// <summary>Null with <paramref name="problem"/> (one line ending in the fix) when the folder holds no run or deployment.</summary>
    public static ReplaySources? Open(string root, EventLogChoice? given, out string problem)
    {
        problem = "";
        if (Deployment.Exists(root))
        {
            var deployment = Deployment.Load(root);
            var lakeServices = deployment.LakeServices();
            var logServices = DeploymentLog.Services(deployment);
            var sources = new ReplaySources(lakeServices.GetRequiredService<ILakeStore>(), logServices.GetRequiredService<IEventLog>(),
                $"the deployment in {root} (lake on Azurite, log on RabbitMQ :{deployment.RabbitMqPort})");
            sources._owned.Add(logServices);
            sources._owned.Add(lakeServices);
            return sources;
        }

        var lakeRoot = Path.Combine(root, "lake");
        if (!Directory.Exists(lakeRoot))
        {
            problem = $"No lake at {lakeRoot} and no deployment in {root}: nothing to replay. Fix: pass --data with the folder `baloyi run --data` or `baloyi up --data` used.";
            return null;
        }

        if (EventLogChoice.ReadRecord(root) is { } record)
        {
            var logServices = EventLogChoice.OpenRecorded(record, given, out problem);
            if (logServices is null)
            {
                return null;
            }

            var sources = new ReplaySources(new FolderLakeStore(lakeRoot), logServices.GetRequiredService<IEventLog>(), $"the run in {root} (log {record.Location})");
            sources._owned.Add(logServices);
            return sources;
        }

        var logFolder = Path.Combine(root, "log");
        if (!Directory.Exists(logFolder))
        {
            problem = $"No event log at {logFolder}. Fix: pass --data with the folder `baloyi run --data` used.";
            return null;
        }

        var log = EmbeddedEventLog.OpenExisting(logFolder);
        var embedded = new ReplaySources(new FolderLakeStore(lakeRoot), log, $"the run in {root}");
        embedded._owned.Add(log);
        return embedded;
    }

    /// <summary>Only the lake of a run folder or deployment (a replay of gold reads no event log); null with <paramref name="problem"/> when there is none.</summary>
    public static LakeOnly? OpenLake(string root, out string description, out string problem)
    {
        problem = "";
        if (Deployment.Exists(root))
        {
            var lakeServices = Deployment.Load(root).LakeServices();
            description = $"the deployment in {root} (lake on Azurite)";
            return new LakeOnly(lakeServices.GetRequiredService<ILakeStore>(), lakeServices);
        }

        var lakeRoot = Path.Combine(root, "lake");
        description = $"the run in {root}";
        if (!Directory.Exists(lakeRoot))
        {
            problem = $"No lake at {lakeRoot} and no deployment in {root}: nothing to replay. Fix: pass --data with the folder `baloyi run --data` or `baloyi up --data` used.";
            return null;
        }

        return new LakeOnly(new FolderLakeStore(lakeRoot), null);
    }

    /// <summary>A lake and what owns it.</summary>
    internal sealed class LakeOnly(ILakeStore lake, IAsyncDisposable? owner) : IAsyncDisposable
    {
        public ILakeStore Lake { get; } = lake;

        public ValueTask DisposeAsync() => owner?.DisposeAsync() ?? ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var owned in _owned)
        {
            await owned.DisposeAsync();
        }
    }
}
