using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace BaloyiBank.Warehouse.Tests;

/// <summary>
/// The real PostgreSQL the tests run against. <c>BALOYI_TEST_POSTGRES</c> (an Npgsql connection string) names a
/// server the test command started; without it, this fixture starts one through
/// <c>deploy/local/postgres.sh</c> on a free port in a temporary run folder and stops it afterwards.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    public const string Variable = "BALOYI_TEST_POSTGRES";

    private string? runFolder;
    private string port = "0";

    public string ConnectionString { get; private set; } = string.Empty;

    /// <summary>Uses the server the test command started, unless <paramref name="own"/> asks for a private one.</summary>
    public Task InitializeAsync() => InitializeAsync(own: false);

    public async Task InitializeAsync(bool own)
    {
        var given = Environment.GetEnvironmentVariable(Variable);
        if (!own && !string.IsNullOrWhiteSpace(given))
        {
            ConnectionString = given;
            return;
        }

        runFolder = Path.Combine(Path.GetTempPath(), "baloyi-pg-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(runFolder);
        port = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        await ScriptAsync("start", port);
        ConnectionString = (await ScriptAsync("connection-string", port)).Trim();
    }

    /// <summary>Stops a server this fixture started (fast shutdown: open transactions roll back).</summary>
    public Task StopAsync() => ScriptAsync("stop", port);

    /// <summary>Starts it again on the same port and data.</summary>
    public Task StartAsync() => ScriptAsync("start", port);

    public async Task DisposeAsync()
    {
        if (runFolder is null)
        {
            return;
        }

        await ScriptAsync("stop", port);
        try
        {
            Directory.Delete(runFolder, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "BaloyiBank.Streaming.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (BaloyiBank.Streaming.sln) was not found above " + AppContext.BaseDirectory);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task<string> ScriptAsync(string command, string portNumber)
    {
        var start = new ProcessStartInfo("bash")
        {
            ArgumentList = { Path.Combine(RepoRoot(), "deploy", "local", "postgres.sh"), command, runFolder! },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["BALOYI_POSTGRES_PORT"] = portNumber;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"deploy/local/postgres.sh {command} failed ({process.ExitCode}): {await error}");
        }

        if (command != "connection-string")
        {
            Console.Error.WriteLine((await output).TrimEnd());
        }

        return await output;
    }
}
