using System.CommandLine;
using System.Diagnostics;
using System.Text;

namespace BaloyiBank.Cli.Tests;

/// <summary>What one invocation of the CLI printed and returned, and whether its command would have started.</summary>
internal sealed record Outcome(string Arguments, int ExitCode, string StdOut, string StdErr, bool ReachedCommand)
{
    public string[] ErrorLines => StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToArray();

    public override string ToString() =>
        $"baloyi {Arguments} → exit {ExitCode}, reached the command: {ReachedCommand}\nstderr:\n{StdErr}\nstdout:\n{StdOut}";
}

internal static class Invocation
{
    /// <summary>The code returned instead of running the command: nothing in these tests ever starts work.</summary>
    public const int WouldRun = 99;

    /// <summary>
    /// Parses and checks <paramref name="args"/> in-process exactly as <c>baloyi</c> does; where the command would start,
    /// the hook stops it with <see cref="WouldRun"/> (so a value that should have been rejected never starts servers).
    /// </summary>
    public static async Task<Outcome> InProcessAsync(string[] args, Action<ParseResult>? inspect = null)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var reached = false;
        var code = await CommandLineApp.InvokeAsync(args, output, error, parse =>
        {
            reached = true;
            inspect?.Invoke(parse);
            return WouldRun;
        });
        return new Outcome(Describe(args), code, output.ToString(), error.ToString(), reached);
    }

    /// <summary>Runs the built <c>baloyi.dll</c> (next to the tests) as a child process: the real entry point and console.</summary>
    public static Task<Outcome> ChildAsync(params string[] args) =>
        ChildAsync(TimeSpan.FromSeconds(60), "bad input must be rejected before any work starts", args);

    /// <summary>As <see cref="ChildAsync(string[])"/> for a command that does real work, given <paramref name="limit"/> to finish.</summary>
    public static async Task<Outcome> ChildAsync(TimeSpan limit, string why, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "baloyi.dll");
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path && File.Exists(path) ? path : "dotnet";
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = Path.GetTempPath(),
        };
        start.ArgumentList.Add(dll);
        foreach (var argument in args)
        {
            start.ArgumentList.Add(argument);
        }

        using var child = Process.Start(start) ?? throw new InvalidOperationException($"could not start {host} {dll}");
        var stdout = child.StandardOutput.ReadToEndAsync();
        var stderr = child.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(limit);
        try
        {
            await child.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            child.Kill(entireProcessTree: true);
            throw new TimeoutException($"baloyi {Describe(args)} did not exit within {limit.TotalSeconds:F0} s: {why}.");
        }

        return new Outcome(Describe(args), child.ExitCode, await stdout, await stderr, ReachedCommand: false);
    }

    private static string Describe(string[] args) => string.Join(' ', args.Select(a => a.Length == 0 || a.Contains(' ', StringComparison.Ordinal) ? $"'{a}'" : a));
}
