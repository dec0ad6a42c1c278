using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization;
using BaloyiBank.Lake;
using BaloyiBank.Lake.Blob;
using BaloyiBank.Warehouse;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace BaloyiBank.Cli.Deploy;

/// <summary>The four services, in the order <c>up</c> starts them.</summary>
internal static class Services
{
    public const string Generator = "generator";
    public const string Cleansing = "cleansing";
    public const string Aggregator = "aggregator";
    public const string Sink = "sink";

    public static IReadOnlyList<string> All { get; } = [Sink, Aggregator, Cleansing, Generator];

    /// <summary>The service a process runs: <c>cleansing-2</c> → <c>cleansing</c>; a service's own name → itself.</summary>
    public static string ServiceOf(string process) => process.Split('-')[0];

    /// <summary>The service's own executable, next to the CLI (<c>BaloyiBank.Cleansing.dll</c>, …), for a process of it.</summary>
    public static string AssemblyOf(string process)
    {
        var service = ServiceOf(process);
        return Path.Combine(AppContext.BaseDirectory, "BaloyiBank." + char.ToUpperInvariant(service[0]) + service[1..] + ".dll");
    }
}

/// <summary>
/// A multi-process deployment on this machine, as <c>baloyi up --data D</c> laid it out: RabbitMQ, Azurite and
/// PostgreSQL as local processes under <c>D/servers</c>, the four services as processes of their own (pid files in
/// <c>D/run</c>, logs in <c>D/logs</c>, working folders in <c>D/work</c>), and this file, <c>D/deployment.json</c>,
/// with the ports. No secret is stored here: the PostgreSQL password stays in its server folder and reaches the sink
/// through its environment.
/// </summary>
internal sealed class Deployment
{
    public const string FileName = "deployment.json";
    public const string HubName = "bank-events";
    public const string Container = "lake";
    public const string PostgresDatabase = "baloyi";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public int Version { get; set; } = 1;
    public int Partitions { get; set; } = 8;
    public int RabbitMqPort { get; set; } = 5672;
    public int AzuritePort { get; set; } = 10000;
    public int PostgresPort { get; set; } = 55432;
    /// <summary>The control bus: MassTransit on the deployment's RabbitMQ (durable queues), so control events cross processes.</summary>
    public string Bus { get; set; } = "rabbitmq";

    /// <summary>The stream's total events when <c>up --events N</c> bounded it; null for an endless stream.</summary>
    public long? Events { get; set; }

    /// <summary>Generator pace, events/s; 0 = as fast as it can.</summary>
    public double Rate { get; set; }

    public TimeSpan SinkInterval { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Cleansing processes (<c>up --cleansing-instances N</c>, fixed at creation); above 1 they share the partitions (<c>Cleansing:ScaleOut</c>).</summary>
    public int CleansingInstances { get; set; } = 1;

    /// <summary>Every service process in start order: with several cleansing instances <c>cleansing-1</c> … <c>cleansing-N</c> instead of <c>cleansing</c>.</summary>
    [JsonIgnore]
    public IReadOnlyList<string> Processes =>
        [.. Services.All.SelectMany(s => s == Services.Cleansing ? CleansingProcesses : [s])];

    /// <summary>The cleansing processes: <c>cleansing</c>, or <c>cleansing-1</c> … <c>cleansing-N</c> when scaled out.</summary>
    [JsonIgnore]
    public IReadOnlyList<string> CleansingProcesses =>
        CleansingInstances <= 1 ? [Services.Cleansing] : [.. Enumerable.Range(1, CleansingInstances).Select(i => string.Create(CultureInfo.InvariantCulture, $"{Services.Cleansing}-{i}"))];
    public Dictionary<string, int> HealthPorts { get; set; } = new(StringComparer.Ordinal);

    [JsonIgnore]
    public string Root { get; private set; } = "";

    public string ServersFolder(string server) => Path.Combine(Root, "servers", server);
    public string PidFile(string service) => Path.Combine(Root, "run", service + ".pid");
    public string LogFile(string service) => Path.Combine(Root, "logs", service + ".log");
    public string WorkFolder(string service) => Path.Combine(Root, "work", service);

    public string RabbitMqUri => string.Create(CultureInfo.InvariantCulture, $"amqp://guest:guest@127.0.0.1:{RabbitMqPort}/");
    public string AzuriteUri => string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{AzuritePort}/{BlobLakeOptions.AzuriteAccountName}");

    public static bool Exists(string root) => File.Exists(Path.Combine(root, FileName));

    public static Deployment Load(string root)
    {
        var path = Path.Combine(root, FileName);
        var deployment = JsonSerializer.Deserialize<Deployment>(File.ReadAllText(path), Json)
            ?? throw new InvalidOperationException($"{path} is empty. Fix: run `baloyi down --data {root}` and `baloyi up` again.");
        deployment.Root = Path.GetFullPath(root);
        return deployment;
    }

    public static Deployment Create(string root)
    {
        var deployment = new Deployment { Root = Path.GetFullPath(root) };
        return deployment;
    }

    public void Save()
    {
        Directory.CreateDirectory(Root);
        foreach (var service in Processes)
        {
            if (!HealthPorts.ContainsKey(service))
            {
                // The kernel may hand the same free port out twice once the probe listener is closed: two services
                // on one health port means one of them can never start.
                int port;
                do
                {
                    port = FreePort();
                }
                while (HealthPorts.ContainsValue(port));

                HealthPorts[service] = port;
            }
        }

        var path = Path.Combine(Root, FileName);
        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(this, Json));
        File.Move(path + ".tmp", path, overwrite: true);
    }

    /// <summary>Environment variables every service process gets (configuration by environment, as in production).</summary>
    public Dictionary<string, string> EnvironmentOf(string process, string? warehouseConnectionString)
    {
        var service = Services.ServiceOf(process);
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["Health__Port"] = HealthPorts[process].ToString(CultureInfo.InvariantCulture),
            ["Bus__Kind"] = Bus,
        };
        if (Bus != "inmemory")
        {
            env["Bus__RabbitMq__Uri"] = RabbitMqUri;
        }

        if (service is Services.Generator or Services.Cleansing)
        {
            env["EventLog__Kind"] = "rabbitmq";
            env["EventLog__Name"] = HubName;
            env["EventLog__Partitions"] = Partitions.ToString(CultureInfo.InvariantCulture);
            env["EventLog__RabbitMq__Uri"] = RabbitMqUri;
        }

        if (service is not Services.Generator)
        {
            foreach (var (key, value) in LakeSettings())
            {
                env[key.Replace(":", "__", StringComparison.Ordinal)] = value!;
            }
        }

        switch (service)
        {
            case Services.Generator:
                // The generator stays up once the stream is complete (health says "finished"), so that a supervisor
                // never mistakes "done" for "crashed"; StopAtSequence keeps the total exact across restarts.
                env["Generator__StopApplicationWhenDone"] = "false";
                env["Generator__Rate"] = Rate.ToString(CultureInfo.InvariantCulture);
                if (Events is { } events)
                {
                    env["Generator__StopAtSequence"] = events.ToString(CultureInfo.InvariantCulture);
                }

                break;
            case Services.Cleansing when CleansingInstances > 1:
                // Partition ownership in the lake; a killed instance's partitions move after 10 s rather than the default 30 s. The
                // instance id stays the default <machine>-<pid>: a restarted process is a new owner, and the survivors take over.
                env["Cleansing__ScaleOut"] = "true";
                env["Cleansing__OwnershipExpiry"] = "00:00:10";
                env["Cleansing__OwnershipRenewInterval"] = "00:00:03";
                break;
            case Services.Aggregator:
                env["Aggregator__PollInterval"] = "00:00:02";
                break;
            case Services.Sink:
                env["Sink__Interval"] = SinkInterval.ToString("c", CultureInfo.InvariantCulture);
                env["Sink__ScratchFolder"] = Path.Combine(WorkFolder(service), "scratch");
                env["Warehouse__Kind"] = "postgres";
                env["Warehouse__ConnectionString"] = warehouseConnectionString
                    ?? throw new InvalidOperationException("The sink needs the warehouse's connection string.");
                break;
        }

        return env;
    }

    /// <summary>The lake as the services see it: Azurite's blob endpoint (its well-known development key is public).</summary>
    public Dictionary<string, string?> LakeSettings() => new(StringComparer.Ordinal)
    {
        ["Lake:Kind"] = "blob",
        ["Lake:Blob:ServiceUri"] = AzuriteUri,
        ["Lake:Blob:Container"] = Container,
        ["Lake:Blob:AccountName"] = BlobLakeOptions.AzuriteAccountName,
        ["Lake:Blob:AccountKey"] = BlobLakeOptions.AzuriteAccountKey,
    };

    /// <summary>The deployment's lake, for the operator commands (verify, status).</summary>
    public ServiceProvider LakeServices()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(LakeSettings()).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddLake(configuration).AddBlobLake(configuration);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    }

    public static WarehouseOptions WarehouseOptions(string connectionString) => new() { Kind = "postgres", ConnectionString = connectionString };

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
