using System.CommandLine;
using BaloyiBank.Cli.Deploy;

namespace BaloyiBank.Cli.Commands;

/// <summary>
/// <c>baloyi down --data D</c>: stops a supervising <c>up</c> first (so it restarts nothing), then the services (SIGTERM,
/// then SIGKILL after a grace period) and the local servers <c>up</c> started.
/// </summary>
internal static class DownCommand
{
    public static Command Create()
    {
        // It deletes the services' pid files there.
        var data = CommonOptions.ExistingData(DataAccess.WriteIfExists);
        var keepServers = new Option<bool>("--keep-servers") { Description = "Stop only the services; leave RabbitMQ, Azurite and PostgreSQL running." };
        var command = new Command("down", "Stop the services and local servers that baloyi up started in --data.") { data, keepServers };
        command.SetAction(async (parse, ct) =>
        {
            var root = parse.GetValue(data)!.FullName;
            if (!Deployment.Exists(root))
            {
                await Console.Error.WriteLineAsync($"No deployment in {root} ({Deployment.FileName} is missing). Fix: pass the --data folder given to baloyi up.");
                return 2;
            }

            var deployment = Deployment.Load(root);
            return await StopAsync(deployment, parse.GetValue(keepServers), ct);
        });
        return command;
    }

    /// <summary>Stops the services (upstream first) and, unless <paramref name="keepServers"/>, the local servers; 0 when all stopped.</summary>
    public static async Task<int> StopAsync(Deployment deployment, bool keepServers, CancellationToken ct)
    {
        // A supervising up first: it would restart every service stopped below.
        await Supervision.StopSupervisorAsync(deployment, TimeSpan.FromSeconds(60), ct);
        try
        {
            return await StopServicesAndServersAsync(deployment, keepServers, ct);
        }
        finally
        {
            Supervision.ClearStop(deployment);
        }
    }

    private static async Task<int> StopServicesAndServersAsync(Deployment deployment, bool keepServers, CancellationToken ct)
    {
        // The generator first, the sink last: upstream stops before downstream, each finishing its current batch.
        foreach (var service in deployment.Processes.Reverse())
        {
            if (ServiceProcesses.RunningPid(deployment, service) is not { } pid)
            {
                Console.WriteLine($"{service}: not running");
                continue;
            }

            var graceful = await ServiceProcesses.StopAsync(pid, service, TimeSpan.FromSeconds(60), ct);
            Console.WriteLine(graceful ? $"{service}: stopped (pid {pid})" : $"{service}: did not stop within 60 s of SIGTERM; killed (pid {pid})");
            File.Delete(deployment.PidFile(service));
        }

        if (keepServers)
        {
            return 0;
        }

        var servers = new LocalServers(deployment);
        var failed = false;
        foreach (var name in LocalServers.Names)
        {
            var result = await servers.StopAsync(name, ct);
            foreach (var line in result.Lines)
            {
                Console.WriteLine($"{name}: {line}");
            }

            failed |= result.ExitCode != 0;
        }

        return failed ? 1 : 0;
    }
}
