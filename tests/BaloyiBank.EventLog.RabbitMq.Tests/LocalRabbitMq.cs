using System.Diagnostics;
using System.Globalization;
using BaloyiBank.EventLog.RabbitMq;
using Xunit;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace BaloyiBank.EventLog.RabbitMq.Tests;

/// <summary>A broker run by deploy/local/rabbitmq.sh on one port with its state in one run folder.</summary>
public sealed class LocalRabbitMq(int port, string runFolder)
{
    public int Port { get; } = port;

    public string RunFolder { get; } = runFolder;

    public string Uri => string.Create(CultureInfo.InvariantCulture, $"amqp://guest:guest@127.0.0.1:{Port}/");

    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "BaloyiBank.Streaming.sln")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException($"No BaloyiBank.Streaming.sln above {AppContext.BaseDirectory}.");
        }
    }

    public async Task<bool> IsRunningAsync() => (await RunAsync("status", throwOnFailure: false)).ExitCode == 0;

    public Task StartAsync() => RunAsync("start", throwOnFailure: true);

    public Task StopAsync() => RunAsync("stop", throwOnFailure: true);

    private async Task<(int ExitCode, string Output)> RunAsync(string action, bool throwOnFailure)
    {
        var script = Path.Combine(RepoRoot, "deploy", "local", "rabbitmq.sh");
        var start = new ProcessStartInfo("bash", [script, action, RunFolder])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["BALOYI_RABBITMQ_PORT"] = Port.ToString(CultureInfo.InvariantCulture);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        await process.WaitForExitAsync(timeout.Token);
        var output = (await stdout) + (await stderr);
        if (throwOnFailure && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"deploy/local/rabbitmq.sh {action} {RunFolder} failed ({process.ExitCode}):\n{output}");
        }

        return (process.ExitCode, output);
    }
}

/// <summary>
/// The broker the tests share: <c>BALOYI_TEST_RABBITMQ</c> (an AMQP URI, set by ./test.sh) when
/// given, otherwise one started here through deploy/local/rabbitmq.sh (port
/// <c>BALOYI_RABBITMQ_PORT</c>, default 5672) and stopped afterwards if this fixture started it.
/// </summary>
public sealed class RabbitMqBroker : IAsyncLifetime
{
    public const string Variable = "BALOYI_TEST_RABBITMQ";

    private LocalRabbitMq? _startedHere;

    public string Uri { get; private set; } = string.Empty;

    public RabbitMqEventLogOptions Options(Action<RabbitMqEventLogOptions>? tune = null)
    {
        var options = new RabbitMqEventLogOptions { Uri = Uri, RetryAttempts = 6, RetryMaxDelay = TimeSpan.FromSeconds(2) };
        tune?.Invoke(options);
        return options;
    }

    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } given)
        {
            Uri = given;
            return;
        }

        var port = int.TryParse(Environment.GetEnvironmentVariable("BALOYI_RABBITMQ_PORT"), CultureInfo.InvariantCulture, out var p) ? p : 5672;
        var local = new LocalRabbitMq(port, Path.Combine(Path.GetTempPath(), string.Create(CultureInfo.InvariantCulture, $"baloyi-rabbitmq-tests-{port}")));
        if (!await local.IsRunningAsync())
        {
            await local.StartAsync();
            _startedHere = local;
        }

        Uri = local.Uri;
    }

    public async Task DisposeAsync()
    {
        if (_startedHere is not null)
        {
            await _startedHere.StopAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class SharedBrokerGroup : ICollectionFixture<RabbitMqBroker>
{
    public const string Name = "rabbitmq";
}
