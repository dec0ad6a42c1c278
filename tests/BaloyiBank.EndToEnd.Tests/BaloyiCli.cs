using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace BaloyiBank.EndToEnd.Tests;

/// <summary>Runs the real CLI (<c>dotnet baloyi.dll …</c>) as a child process.</summary>
internal sealed class BaloyiCli
{
    private static readonly string CliDll = Path.Combine(AppContext.BaseDirectory, "baloyi.dll");

    public sealed record Outcome(int ExitCode, string StdOut, string StdErr)
    {
        public string All => StdOut + StdErr;
    }

    public static ProcessStartInfo StartInfo(IEnumerable<string> args, IDictionary<string, string>? environment = null)
    {
        Assert.True(File.Exists(CliDll), $"The CLI was not built next to the tests: {CliDll}");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(CliDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // Deterministic, plain output for parsing; no OTLP export from tests.
        info.Environment["NO_COLOR"] = "1";
        info.Environment.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        return info;
    }

    public static async Task<Outcome> RunAsync(IEnumerable<string> args, IDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        using var process = Process.Start(StartInfo(args, environment))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"baloyi {string.Join(' ', args)} did not finish in time. Output so far:\n{await stdout}\n{await stderr}");
        }

        return new Outcome(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs the CLI and expects success, with the summary it wrote as JSON.</summary>
    public static async Task<(Outcome Outcome, JsonElement Summary)> RunWithSummaryAsync(string data, params string[] args)
    {
        var summaryPath = Path.Combine(data, $"summary-{Guid.NewGuid():N}.json");
        var outcome = await RunAsync(["run", "--data", data, "--summary-json", summaryPath, .. args]);
        Assert.True(outcome.ExitCode == 0, $"baloyi run failed with {outcome.ExitCode}:\n{outcome.All}");
        using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(summaryPath, Encoding.UTF8));
        return (outcome, doc.RootElement.Clone());
    }
}
