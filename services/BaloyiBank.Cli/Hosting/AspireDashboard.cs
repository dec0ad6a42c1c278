using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace BaloyiBank.Cli.Hosting;

/// <summary>
/// The standalone Aspire dashboard (NuGet package Aspire.Dashboard.Sdk.linux-x64 13.6.5, a PackageDownload of the CLI:
/// one native executable at <c>tools/Aspire.Dashboard</c>) started on 127.0.0.1 with an OTLP/HTTP and an OTLP/gRPC
/// receiver and its telemetry API. Anonymous access, so only on loopback; it keeps telemetry in memory only.
/// </summary>
internal sealed class AspireDashboard : IDisposable
{
    public const string PackageId = "aspire.dashboard.sdk.linux-x64";
    public const string PackageVersion = "13.6.5";

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;

    private AspireDashboard(Process process, Uri url, Uri otlpHttp)
    {
        _process = process;
        Url = url;
        OtlpHttpEndpoint = otlpHttp;
    }

    /// <summary>The dashboard's UI (and <c>/api/telemetry/…</c>).</summary>
    public Uri Url { get; }

    /// <summary>Where the services send OTLP over HTTP/protobuf (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>).</summary>
    public Uri OtlpHttpEndpoint { get; }

    /// <summary>The settings that point every service's OTLP exporter at this dashboard.</summary>
    public IEnumerable<KeyValuePair<string, string?>> ExporterSettings() =>
    [
        new("OTEL_EXPORTER_OTLP_ENDPOINT", OtlpHttpEndpoint.GetLeftPart(UriPartial.Authority)),
        new("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
    ];

    /// <summary>The executable in the NuGet packages folder (<c>NUGET_PACKAGES</c> or <c>~/.nuget/packages</c>).</summary>
    public static string ExecutablePath()
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } custom
            ? custom
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.Combine(packages, PackageId, PackageVersion, "tools", "Aspire.Dashboard");
    }

    /// <summary>Starts the dashboard on free loopback ports and waits until its UI answers.</summary>
    public static async Task<AspireDashboard> StartAsync(CancellationToken cancellationToken)
    {
        var path = ExecutablePath();
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"The Aspire dashboard is not at {path}. Fix: dotnet restore services/BaloyiBank.Cli (it downloads Aspire.Dashboard.Sdk.linux-x64 {PackageVersion}), or run without --dashboard.");
        }

        // NuGet extracts without the execute bit (the package is linux-x64 only).
        if (!OperatingSystem.IsWindows() && File.GetUnixFileMode(path) is var mode && !mode.HasFlag(UnixFileMode.UserExecute))
        {
            File.SetUnixFileMode(path, mode | UnixFileMode.UserExecute);
        }

        var url = new Uri($"http://127.0.0.1:{FreePort()}");
        var otlpHttp = new Uri($"http://127.0.0.1:{FreePort()}");
        var otlpGrpc = new Uri($"http://127.0.0.1:{FreePort()}");
        var start = new ProcessStartInfo(path)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(path)!,
        };
        start.Environment["ASPNETCORE_URLS"] = url.GetLeftPart(UriPartial.Authority);
        start.Environment["ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"] = otlpHttp.GetLeftPart(UriPartial.Authority);
        start.Environment["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = otlpGrpc.GetLeftPart(UriPartial.Authority);
        // No login on loopback only: every port above is bound to 127.0.0.1.
        start.Environment["ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS"] = "true";
        start.Environment["ASPIRE_DASHBOARD_API_ENABLED"] = "true";
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {path}.");
        // Drained so that a chatty dashboard never blocks on a full pipe.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var dashboard = new AspireDashboard(process, url, otlpHttp);
        try
        {
            await dashboard.WaitUntilReadyAsync(cancellationToken).ConfigureAwait(false);
            return dashboard;
        }
        catch
        {
            dashboard.Dispose();
            throw;
        }
    }

    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The Aspire dashboard exited at start (code {_process.ExitCode}). Fix: run {ExecutablePath()} by hand to see why, or run without --dashboard.");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(Url, "api/telemetry/resources"), cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // A slow first answer: ask again.
            }

            if (deadline.Elapsed > ReadyTimeout)
            {
                throw new TimeoutException($"The Aspire dashboard did not answer at {Url} within {ReadyTimeout.TotalSeconds:0} s. Fix: run without --dashboard, or check that 127.0.0.1 ports can be bound.");
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Stops the dashboard this instance started (its own process only).</summary>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
    }
}
