using System.Diagnostics;
using System.Text;

namespace BaloyiBank.Tests.Shared;

/// <summary>
/// Starts a helper program of the test output folder (a crash writer, a race child) as a child process with the
/// same dotnet host that runs the tests (<c>DOTNET_HOST_PATH</c> under <c>dotnet test</c>), its output redirected.
/// Linked into each test project that needs it.
/// </summary>
internal static class ChildDotnet
{
    public static Process Start(string assemblyName, IEnumerable<string> arguments, bool redirectInput = false)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, assemblyName + ".dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"The child program {assemblyName} was not built next to the tests ({dll}).", dll);
        }

        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path && File.Exists(path)
            ? path
            : Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardInput = redirectInput,
            RedirectStandardOutput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start) ?? throw new InvalidOperationException($"could not start {assemblyName}");
    }
}
