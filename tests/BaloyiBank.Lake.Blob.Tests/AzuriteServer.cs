using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit.Abstractions;

namespace BaloyiBank.Lake.Blob.Tests;

/// <summary>
/// The Azurite Blob service the tests run against: the one named by <see cref="Variable"/> (test.sh starts it), or
/// else one this fixture starts itself with deploy/local/azurite.sh on a free port and stops afterwards.
/// </summary>
public sealed class AzuriteServer : IAsyncLifetime
{
    /// <summary>The service URI of a running Azurite, e.g. http://127.0.0.1:10000/devstoreaccount1.</summary>
    public const string Variable = "BALOYI_TEST_AZURITE";

    private string? _runFolder;

    public string ServiceUri { get; private set; } = "";

    /// <summary>What the fixture did, for test output.</summary>
    public string Origin { get; private set; } = "";

    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } given)
        {
            ServiceUri = given.TrimEnd('/');
            Origin = $"{Variable}={ServiceUri}";
            return;
        }

        var port = FreePort();
        _runFolder = Directory.CreateTempSubdirectory("baloyi-azurite-").FullName;
        var output = await RunScriptAsync("start", port);
        ServiceUri = $"http://127.0.0.1:{port}/devstoreaccount1";
        Origin = $"started by the fixture: {output.Trim()}";
    }

    public async Task DisposeAsync()
    {
        if (_runFolder is null)
        {
            return;
        }

        await RunScriptAsync("stop", 0);
        try
        {
            Directory.Delete(_runFolder, recursive: true);
        }
        catch (IOException)
        {
            // Temp is cleaned eventually.
        }
    }

    /// <summary>A unique container name for one test's store.</summary>
    public static string NewContainerName(string purpose) => $"{purpose}-{Guid.NewGuid():N}";

    public BlobLakeOptions Options(string container, string prefix = "") => BlobLakeOptions.ForAzurite(ServiceUri, container, prefix);

    public BlobLakeStore Store(string container, string prefix = "", Action<BlobLakeOptions>? configure = null, ITestOutputHelper? output = null)
    {
        var options = Options(container, prefix);
        configure?.Invoke(options);
        return new BlobLakeStore(options, credential: null, transport: null, output is null ? null : new TestOutputLogger(output));
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "BaloyiBank.Streaming.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No BaloyiBank.Streaming.sln above {AppContext.BaseDirectory}.");
    }

    private async Task<string> RunScriptAsync(string command, int port)
    {
        var script = Path.Combine(RepositoryRoot(), "deploy", "local", "azurite.sh");
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(command);
        start.ArgumentList.Add(_runFolder!);
        if (port > 0)
        {
            start.Environment["AZURITE_BLOB_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not run bash");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        // The first start on a fresh machine installs azurite from npm.
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(10));
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} {command} failed ({process.ExitCode}):\n{await stdout}\n{await stderr}");
        }

        return await stdout;
    }
}

[CollectionDefinition(Name)]
public sealed class AzuriteGroup : ICollectionFixture<AzuriteServer>
{
    public const string Name = "azurite";
}

/// <summary>Log lines of the code under test, kept for assertions and shown in the test output.</summary>
public sealed class TestOutputLogger(ITestOutputHelper? output = null) : Microsoft.Extensions.Logging.ILogger
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

    public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception,
        Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        var line = new StringBuilder().Append(logLevel).Append(": ").Append(formatter(state, exception)).ToString();
        lock (_lines)
        {
            _lines.Add(line);
        }

        try
        {
            output?.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // The test already finished.
        }
    }
}
