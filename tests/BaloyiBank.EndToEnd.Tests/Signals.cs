using System.Diagnostics;

namespace BaloyiBank.EndToEnd.Tests;

/// <summary>POSIX signals for child processes (Process.Kill only sends SIGKILL), through the system's kill(1).</summary>
internal static class Signals
{
    public static async Task SendAsync(int pid, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { RedirectStandardError = true })!;
        var error = await kill.StandardError.ReadToEndAsync();
        await kill.WaitForExitAsync();
        Assert.True(kill.ExitCode == 0, $"kill -{signal} {pid} failed: {error}");
    }
}
