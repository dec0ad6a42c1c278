using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using BaloyiBank.Aggregator;
using BaloyiBank.Cli.Deploy;
using BaloyiBank.Lake;
using Microsoft.Extensions.DependencyInjection;

namespace BaloyiBank.Cli.Commands;

/// <summary>
/// <c>baloyi up --data D [--events N]</c>: RabbitMQ, Azurite and PostgreSQL as local processes, then the four services
/// as processes of their own against them. Idempotent: what already runs is left alone, what is missing is started.
/// With <c>--events N</c> it waits until the warehouse holds the stream's N events (restarting any service that dies
/// meanwhile, as a supervisor would) and prints the end-to-end rate. While it supervises it holds <c>D/run/up.pid</c>, and
/// gives up as soon as <c>baloyi down</c> asks (see <see cref="Supervision"/>).
/// </summary>
internal static class UpCommand
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    public static Command Create()
    {
        var data = CommonOptions.Data();
        var partitions = CommonOptions.Partitions();
        var events = CommonOptions.Number<long>("--events", "The stream's total events: the generator stops there and up returns once the warehouse caught up.",
            1, long.MaxValue, "a whole number of at least 1", "pass e.g. --events 1000000, or leave it out for an endless stream");
        var rate = CommonOptions.Number<double>("--rate", "Generator events per second; 0 = as fast as it can (default).",
            0, double.MaxValue, "0 (unlimited) or a positive number", "pass e.g. --rate 5000");
        // RabbitMQ also takes the port - 120 (streams) and + 20000 (Erlang distribution).
        var rabbitPort = CommonOptions.Port("--rabbitmq-port", "RabbitMQ's AMQP port (default 5672; streams on port - 120).", 5672, 45000);
        var azuritePort = CommonOptions.Port("--azurite-port", "Azurite's blob port (default 10000).", 10000);
        var postgresPort = CommonOptions.Port("--postgres-port", "PostgreSQL's port (default 55432).", 55432);
        var cleansingInstances = CommonOptions.Number<int>("--cleansing-instances",
            "Cleansing processes sharing the log's partitions through ownership records in the lake (default 1); fixed when the deployment is created.",
            1, 64, "a whole number from 1 to 64", "pass e.g. --cleansing-instances 3");
        var timeout = CommonOptions.Duration("--timeout", "How long --events may take before up gives up: 90s, 30m.", "30m", TimeSpan.FromMinutes(30));
        var command = new Command("up", "Start RabbitMQ, Azurite, PostgreSQL and the four services as separate processes; with --events N, wait until the warehouse holds them.")
        {
            data, events, rate, partitions, rabbitPort, azuritePort, postgresPort, cleansingInstances, timeout,
        };
        command.SetAction(async (parse, ct) =>
        {
            var root = parse.GetValue(data)!.FullName;
            Deployment deployment;
            if (Deployment.Exists(root))
            {
                deployment = Deployment.Load(root);
                if (parse.GetValue(rabbitPort) is not null || parse.GetValue(azuritePort) is not null || parse.GetValue(postgresPort) is not null || parse.GetValue(partitions) is not null
                    || parse.GetValue(cleansingInstances) is not null)
                {
                    // Also the cleansing instances: a running unscaled cleansing beside scaled-out ones would commit unfenced.
                    Console.WriteLine($"{root} already holds a deployment: its ports, partitions and cleansing instances stay as they are (see {Deployment.FileName}).");
                }
            }
            else
            {
                deployment = Deployment.Create(root);
                deployment.RabbitMqPort = parse.GetValue(rabbitPort) ?? deployment.RabbitMqPort;
                deployment.AzuritePort = parse.GetValue(azuritePort) ?? deployment.AzuritePort;
                deployment.PostgresPort = parse.GetValue(postgresPort) ?? deployment.PostgresPort;
                deployment.Partitions = parse.GetValue(partitions) ?? deployment.Partitions;
                deployment.CleansingInstances = parse.GetValue(cleansingInstances) ?? deployment.CleansingInstances;
            }

            var generatorChanged = false;
            if (parse.GetValue(events) is { } n && n != deployment.Events)
            {
                deployment.Events = n;
                generatorChanged = true;
            }

            if (parse.GetValue(rate) is { } r && Math.Abs(r - deployment.Rate) > double.Epsilon)
            {
                deployment.Rate = r;
                generatorChanged = true;
            }

            deployment.Save();
            return await UpAsync(deployment, generatorChanged, parse.GetValue(timeout), null, ct);
        });
        return command;
    }

    /// <summary>Servers and services up; with <see cref="Deployment.Events"/>, waits for the warehouse (its time in <paramref name="endToEnd"/>).</summary>
    public static async Task<int> UpAsync(Deployment deployment, bool generatorChanged, TimeSpan limit, StrongBox<TimeSpan>? endToEnd, CancellationToken ct)
    {
        using var supervising = Supervision.Claim(deployment);
        try
        {
            return await SuperviseAsync(deployment, generatorChanged, limit, endToEnd, ct);
        }
        catch (DeploymentStoppingException stopping)
        {
            await Console.Error.WriteLineAsync(stopping.Message);
            return 1;
        }
    }

    private static async Task<int> SuperviseAsync(Deployment deployment, bool generatorChanged, TimeSpan limit, StrongBox<TimeSpan>? endToEnd, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var servers = new LocalServers(deployment);
        Console.WriteLine($"Deployment in {deployment.Root}: RabbitMQ :{deployment.RabbitMqPort}, Azurite :{deployment.AzuritePort}, PostgreSQL :{deployment.PostgresPort}, {deployment.Partitions} partitions, {deployment.CleansingInstances} cleansing instance(s), bus {deployment.Bus}.");
        var starts = LocalServers.Names.Select(async name => (name, result: await servers.StartAsync(name, ct))).ToList();
        foreach (var (name, result) in await Task.WhenAll(starts))
        {
            foreach (var line in result.Lines)
            {
                Console.WriteLine($"  {line}");
            }

            if (result.ExitCode != 0)
            {
                await Console.Error.WriteLineAsync($"{name} did not start (exit {result.ExitCode}); see its output above. Fix the cause, then run baloyi up again.");
                return 1;
            }
        }

        var connectionString = await servers.PostgresConnectionStringAsync(ct);
        Supervision.ThrowIfStopRequested(deployment);
        if (generatorChanged && ServiceProcesses.RunningPid(deployment, Services.Generator) is { } old)
        {
            Console.WriteLine($"The stream's settings changed: restarting the generator (pid {old}).");
            await ServiceProcesses.StopAsync(old, Services.Generator, TimeSpan.FromSeconds(30), ct);
        }

        var supervisor = new Supervisor(deployment, connectionString);
        await supervisor.StartMissingAsync(ct);
        using var probe = new HealthProbe();
        if (!await WaitHealthyAsync(deployment, probe, TimeSpan.FromSeconds(90), ct))
        {
            await ShowStatusAsync(deployment, probe, ct);
            await Console.Error.WriteLineAsync($"Not every service answered its health check within 90 s; see the logs in {Path.Combine(deployment.Root, "logs")}.");
            return 1;
        }

        await ShowStatusAsync(deployment, probe, ct);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Up in {clock.Elapsed.TotalSeconds:F1} s. Stop everything with: baloyi down --data {deployment.Root}"));
        if (deployment.Events is not { } total)
        {
            return 0;
        }

        return await WaitForWarehouseAsync(deployment, supervisor, probe, total, limit, endToEnd, ct);
    }

    /// <summary>Waits, stage by stage, until the warehouse holds the whole stream; restarts services that die meanwhile.</summary>
    private static async Task<int> WaitForWarehouseAsync(Deployment deployment, Supervisor supervisor, HealthProbe probe, long total, TimeSpan limit, StrongBox<TimeSpan>? endToEnd, CancellationToken ct)
    {
        // The CPU each part spends in the same window as the clock (services started, with their start-up, before).
        var cpuAtStart = ProcessCpu.Take(deployment);
        var clock = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        var stage = Stage.Generating;
        IReadOnlyList<EventLog.PartitionInfo>? log = null;
        long goldRound = -1;
        while (true)
        {
            if (clock.Elapsed > limit)
            {
                await Console.Error.WriteLineAsync($"Timed out after {limit} at stage '{stage}'. The services keep running; see {Path.Combine(deployment.Root, "logs")}.");
                await ShowStatusAsync(deployment, probe, ct);
                return 1;
            }

            await supervisor.RestartDeadAsync(ct);
            try
            {
                if (await AdvanceAsync() is { } done)
                {
                    return done;
                }
            }
            catch (Exception failure) when (!ct.IsCancellationRequested && failure is not OutOfMemoryException)
            {
                // A server restarting (RabbitMQ, Azurite) fails a probe for a moment: the services retry, and so does up.
                Console.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F1} s] could not read progress ({failure.GetType().Name}: {failure.Message}); trying again");
            }

            await Task.Delay(Tick, ct);
        }

        async Task<int?> AdvanceAsync()
        {
            var generator = await probe.GetAsync(deployment.HealthPorts[Services.Generator], Services.Generator, ct);
            var cleansing = await CleansingHealthAsync(deployment, probe, ct);
            var aggregator = await probe.GetAsync(deployment.HealthPorts[Services.Aggregator], Services.Aggregator, ct);
            var sink = await probe.GetAsync(deployment.HealthPorts[Services.Sink], Services.Sink, ct);
            switch (stage)
            {
                case Stage.Generating when generator.Bool("finished") && generator.Long("nextSequence") >= total:
                    // The stream is complete: its end per partition is final from here on.
                    log = await DeploymentLog.DescribeAsync(deployment, ct);
                    if (log.Sum(p => p.NextOffset - p.FirstOffset) < total)
                    {
                        // The log's tail as probed lags the generator's acknowledged appends: look again.
                        log = null;
                        break;
                    }

                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"[{clock.Elapsed.TotalSeconds,6:F1} s] generator finished: {total:N0} events in the log ({log.Sum(p => p.NextOffset - p.FirstOffset):N0} records over {log.Count} partitions)"));
                    stage = Stage.Cleansing;
                    break;
                case Stage.Cleansing when log is not null && log.All(p => cleansing.Long($"p{p.Partition}.committed") == p.NextOffset - 1):
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{clock.Elapsed.TotalSeconds,6:F1} s] cleansing committed every partition to the log's end"));
                    stage = Stage.Gold;
                    break;
                case Stage.Gold when aggregator.Answered && await SilverAppliedAsync(deployment, aggregator, ct):
                    goldRound = aggregator.Long("round");
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{clock.Elapsed.TotalSeconds,6:F1} s] gold applied every silver commit (round {goldRound:N0})"));
                    stage = Stage.Warehouse;
                    break;
                case Stage.Warehouse when sink.Long("watermark") >= goldRound:
                    var seconds = clock.Elapsed.TotalSeconds;
                    endToEnd?.Value = clock.Elapsed;
                    var cpu = ProcessCpu.Take(deployment).Describe(cpuAtStart, total);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{seconds,6:F1} s] the warehouse holds gold round {goldRound:N0}"));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"End to end: {total:N0} events generated to the warehouse in {seconds:F1} s = {total / seconds:N0} events/s; service restarts: {supervisor.Restarts}."));
                    Console.WriteLine(cpu);
                    Console.WriteLine($"Check it with: baloyi verify --data {deployment.Root}");
                    return 0;
            }

            if (clock.Elapsed - lastReport >= TimeSpan.FromSeconds(5))
            {
                lastReport = clock.Elapsed;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"[{clock.Elapsed.TotalSeconds,6:F1} s] generator {Figure(generator, "nextSequence")}/{total:N0} · cleansing consumed {Figure(cleansing, "consumed")} lag {Figure(cleansing, "lag")} · gold round {Figure(aggregator, "round")} · warehouse round {Figure(sink, "watermark")}"));
            }

            return null;
        }
    }

    /// <summary>
    /// The cleansing's figures over all its processes: consumed and lag summed, each partition's committed offset from the
    /// instance that owns it (the highest any reports, as a partition moving between instances shows in both for a moment).
    /// </summary>
    private static async Task<ServiceHealth> CleansingHealthAsync(Deployment deployment, HealthProbe probe, CancellationToken ct)
    {
        var answers = await Task.WhenAll(deployment.CleansingProcesses.Select(p => probe.GetAsync(deployment.HealthPorts[p], p, ct)));
        if (answers.Length == 1)
        {
            return answers[0];
        }

        var live = answers.Where(a => a.Answered).ToList();
        if (live.Count == 0)
        {
            return ServiceHealth.Unreachable;
        }

        var data = new Dictionary<string, System.Text.Json.JsonElement>(StringComparer.Ordinal)
        {
            ["consumed"] = System.Text.Json.JsonSerializer.SerializeToElement(live.Sum(a => Math.Max(0, a.Long("consumed")))),
            ["lag"] = System.Text.Json.JsonSerializer.SerializeToElement(live.Sum(a => Math.Max(0, a.Long("lag")))),
        };
        for (var partition = 0; partition < deployment.Partitions; partition++)
        {
            var key = string.Create(CultureInfo.InvariantCulture, $"p{partition}.committed");
            data[key] = System.Text.Json.JsonSerializer.SerializeToElement(live.Max(a => a.Long(key, long.MinValue)));
        }

        return new ServiceHealth(live[0].Status, string.Join(" | ", live.Select(a => a.Description)), data);
    }

    private static string Figure(ServiceHealth health, string key) =>
        health.Answered && health.Long(key, long.MinValue) is var v && v != long.MinValue ? v.ToString("N0", CultureInfo.InvariantCulture) : "?";

    /// <summary>True when the aggregator has applied the latest commit of every silver table it reads.</summary>
    private static async Task<bool> SilverAppliedAsync(Deployment deployment, ServiceHealth aggregator, CancellationToken ct)
    {
        await using var lakeServices = deployment.LakeServices();
        var lake = lakeServices.GetRequiredService<ILakeStore>();
        using var silver = new SilverSource(lake, new AggregatorOptions().SilverRoot);
        var latest = await silver.LatestVersionsAsync(ct);
        return latest.All(l => aggregator.Long("applied:" + l.Key, long.MinValue) >= l.Value);
    }

    /// <summary>Waits until every service answers /health (any status), restarting any that died on the way.</summary>
    private static async Task<bool> WaitHealthyAsync(Deployment deployment, HealthProbe probe, TimeSpan limit, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            Supervision.ThrowIfStopRequested(deployment);
            var answers = await Task.WhenAll(deployment.Processes.Select(s => probe.GetAsync(deployment.HealthPorts[s], s, ct)));
            if (answers.All(a => a.Answered))
            {
                return true;
            }

            await Task.Delay(Tick, ct);
        }

        return false;
    }

    public static async Task ShowStatusAsync(Deployment deployment, HealthProbe probe, CancellationToken ct)
    {
        Console.WriteLine($"{"service",-11} {"pid",-8} {"health",-11} what it says");
        foreach (var service in deployment.Processes)
        {
            var pid = ServiceProcesses.RunningPid(deployment, service);
            var health = pid is null ? ServiceHealth.Unreachable : await probe.GetAsync(deployment.HealthPorts[service], service, ct);
            Console.WriteLine($"{service,-11} {pid?.ToString(CultureInfo.InvariantCulture) ?? "-",-8} {(pid is null ? "stopped" : health.Status),-11} {health.Description}  (http://127.0.0.1:{deployment.HealthPorts[service]}/health, log {deployment.LogFile(service)})");
        }
    }

    private enum Stage
    {
        Generating,
        Cleansing,
        Gold,
        Warehouse,
    }
}

/// <summary>Starts the services that are not running; while <c>up</c> waits, restarts any that died.</summary>
internal sealed class Supervisor(Deployment deployment, string warehouseConnectionString)
{
    private const int MaxRestarts = 20;
    private readonly Dictionary<string, int> _restarts = new(StringComparer.Ordinal);

    public int Restarts => _restarts.Values.Sum();

    public async Task StartMissingAsync(CancellationToken ct)
    {
        foreach (var service in deployment.Processes)
        {
            Supervision.ThrowIfStopRequested(deployment);
            if (ServiceProcesses.RunningPid(deployment, service) is { } pid)
            {
                Console.WriteLine($"  {service} already running (pid {pid})");
                continue;
            }

            var started = await ServiceProcesses.StartAsync(deployment, service, deployment.EnvironmentOf(service, warehouseConnectionString), ct);
            Console.WriteLine($"  {service} started (pid {started}), log {deployment.LogFile(service)}");
        }
    }

    /// <summary>Restarts the services that died; throws <see cref="DeploymentStoppingException"/> once <c>down</c> is stopping the deployment.</summary>
    public async Task RestartDeadAsync(CancellationToken ct)
    {
        foreach (var service in deployment.Processes)
        {
            // Checked before each start: a service down has just stopped is not dead, it is stopped.
            Supervision.ThrowIfStopRequested(deployment);
            if (ServiceProcesses.RunningPid(deployment, service) is not null)
            {
                continue;
            }

            var count = _restarts[service] = _restarts.GetValueOrDefault(service) + 1;
            if (count > MaxRestarts)
            {
                throw new InvalidOperationException($"{service} died {MaxRestarts} times; see {deployment.LogFile(service)}.");
            }

            var pid = await ServiceProcesses.StartAsync(deployment, service, deployment.EnvironmentOf(service, warehouseConnectionString), ct);
            Console.WriteLine($"  {service} was not running: restarted (pid {pid}, restart {count})");
        }
    }
}
