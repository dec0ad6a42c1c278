using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace BaloyiBank.Deploy.Tests;

/// <summary>
/// The images' build step without Docker: the exact <c>dotnet publish</c> line of deploy/docker/Dockerfile for each
/// service (into a temporary folder), then the published service started as the image starts it (<c>dotnet
/// &lt;assembly&gt;</c>, health on a port) and asked <c>/alive</c>. One service at a time: each publish is a full build.
/// </summary>
public sealed partial class PublishTests(ITestOutputHelper output)
{
    public static TheoryData<string> Services() => ["Generator", "Cleansing", "Aggregator", "Sink"];

    [Theory]
    [MemberData(nameof(Services))]
    public async Task The_dockerfile_publish_output_starts_and_answers_alive(string service)
    {
        var folder = Directory.CreateTempSubdirectory($"publish-{service.ToLowerInvariant()}-");
        try
        {
            var clock = Stopwatch.StartNew();
            var arguments = PublishArguments(service, Path.Combine(folder.FullName, "app"));
            var (exit, stdout, stderr) = await Repo.RunAsync("dotnet", arguments, Repo.Root, TimeSpan.FromMinutes(15));
            Assert.True(exit == 0, $"dotnet {string.Join(' ', arguments)} exited {exit}:\n{stdout}\n{stderr}");
            output.WriteLine($"publish {service}: {clock.Elapsed.TotalSeconds:F0} s");

            var assembly = Path.Combine(folder.FullName, "app", $"BaloyiBank.{service}.dll");
            Assert.True(File.Exists(assembly), $"{assembly} was not published");
            // The aggregator (verify's recomputation) and the sink (the embedded warehouse) query DuckDB; generator and cleansing do not.
            Assert.True(File.Exists(Path.Combine(folder.FullName, "app", "libduckdb.so")) || service is "Generator" or "Cleansing",
                "DuckDB's native library must travel with the services that query it");

            clock.Restart();
            await StartAndProbeAsync(service, assembly, Path.Combine(folder.FullName, "work"));
            output.WriteLine($"start {service} until /alive answered: {clock.Elapsed.TotalSeconds:F0} s");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>The Dockerfile's publish command for <paramref name="service"/>, with its output folder replaced.</summary>
    internal static List<string> PublishArguments(string service, string outputFolder)
    {
        var dockerfile = File.ReadAllText(Repo.PathOf("deploy", "docker", "Dockerfile"));
        var line = PublishLine().Match(dockerfile);
        Assert.True(line.Success, "deploy/docker/Dockerfile has no 'RUN dotnet publish …' line");
        var words = Word().Matches(line.Groups[1].Value.Replace("${SERVICE}", service, StringComparison.Ordinal))
            .Select(m => m.Groups["quoted"].Success ? m.Groups["quoted"].Value : m.Value).ToList();
        var o = words.IndexOf("-o");
        Assert.True(o >= 0 && o + 1 < words.Count, "the publish line names no output folder (-o)");
        words[o + 1] = outputFolder;
        Assert.Contains("linux-x64", words);
        return words;
    }

    private static async Task StartAndProbeAsync(string service, string assembly, string work)
    {
        Directory.CreateDirectory(work);
        var port = FreePort();
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = work,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add(assembly);
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["Health__Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["Health__Host"] = "127.0.0.1";
        // Embedded log and folder lake under the work folder (the defaults); a slow generator, so the probe costs little CPU.
        info.Environment["Generator__Rate"] = "10";
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("OTEL_", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {assembly}.");
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { log.Enqueue(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { log.Enqueue(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                Assert.False(process.HasExited, $"{service} exited with {(process.HasExited ? process.ExitCode : 0)} before answering /alive:\n{string.Join('\n', log)}");
                try
                {
                    using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/alive"));
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        var body = await response.Content.ReadAsStringAsync();
                        Assert.Contains("status", body, StringComparison.OrdinalIgnoreCase);
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }
                catch (TaskCanceledException)
                {
                    // Started but slow to answer.
                }

                Assert.True(deadline.Elapsed < TimeSpan.FromMinutes(3), $"{service} did not answer /alive on port {port} within 3 minutes:\n{string.Join('\n', log)}");
                await Task.Delay(250);
            }
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"(?m)^RUN dotnet (publish .+)$")]
    private static partial Regex PublishLine();

    [GeneratedRegex("\"(?<quoted>[^\"]*)\"|\\S+")]
    private static partial Regex Word();
}
