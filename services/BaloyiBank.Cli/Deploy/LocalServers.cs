using System.Diagnostics;
using System.Globalization;

namespace BaloyiBank.Cli.Deploy;

/// <summary>
/// RabbitMQ, Azurite and PostgreSQL through the repository's <c>deploy/local/*.sh</c> scripts (they install what is
/// missing, start a plain local process on 127.0.0.1 with its data in the given folder, wait until it answers, and stop
/// exactly what they started).
/// </summary>
internal sealed class LocalServers(Deployment deployment)
{
    public static IReadOnlyList<string> Names { get; } = ["rabbitmq", "azurite", "postgres"];

    /// <summary>The folder holding <c>deploy/local</c>: <c>BALOYI_HOME</c> (set by <c>./baloyi</c>), else found upwards.</summary>
    public static string ScriptsFolder()
    {
        IEnumerable<string?> starts = [Environment.GetEnvironmentVariable("BALOYI_HOME"), AppContext.BaseDirectory, Environment.CurrentDirectory];
        foreach (var start in starts.OfType<string>())
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var scripts = Path.Combine(dir.FullName, "deploy", "local");
                if (File.Exists(Path.Combine(scripts, "rabbitmq.sh")))
                {
                    return scripts;
                }
            }
        }

        throw new InvalidOperationException(
            "The deploy/local scripts were not found. Fix: run baloyi from the repository (./baloyi), or set BALOYI_HOME to the repository's folder.");
    }

    public Task<ScriptResult> StartAsync(string server, CancellationToken ct) => RunAsync(server, "start", ct);

    public Task<ScriptResult> StopAsync(string server, CancellationToken ct) => RunAsync(server, "stop", ct);

    public async Task<bool> IsRunningAsync(string server, CancellationToken ct) => (await RunAsync(server, "status", ct)).ExitCode == 0;

    /// <summary>The PostgreSQL connection string (with the password the script generated), for the sink's environment only.</summary>
    public async Task<string> PostgresConnectionStringAsync(CancellationToken ct)
    {
        var result = await RunAsync("postgres", "connection-string", ct);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"deploy/local/postgres.sh connection-string failed: {result.Output.Trim()}");
        }

        return result.Output.Trim();
    }

    private async Task<ScriptResult> RunAsync(string server, string action, CancellationToken ct)
    {
        var info = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(ScriptsFolder(), server + ".sh"));
        info.ArgumentList.Add(action);
        info.ArgumentList.Add(deployment.ServersFolder(server));
        info.Environment["BALOYI_RABBITMQ_PORT"] = deployment.RabbitMqPort.ToString(CultureInfo.InvariantCulture);
        info.Environment["AZURITE_BLOB_PORT"] = deployment.AzuritePort.ToString(CultureInfo.InvariantCulture);
        info.Environment["BALOYI_POSTGRES_PORT"] = deployment.PostgresPort.ToString(CultureInfo.InvariantCulture);
        info.Environment["BALOYI_POSTGRES_DB"] = Deployment.PostgresDatabase;
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not run {server}.sh.");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        return new ScriptResult(process.ExitCode, await stdout + await stderr);
    }
}

internal sealed record ScriptResult(int ExitCode, string Output)
{
    /// <summary>The script's lines for a person, without the machine-readable ones (BALOYI_TEST_…=).</summary>
    public IEnumerable<string> Lines => Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Where(l => !l.StartsWith("BALOYI_TEST_", StringComparison.Ordinal));
}
