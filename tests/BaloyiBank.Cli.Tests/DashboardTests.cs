using System.Diagnostics;
using BaloyiBank.Cleansing;
using BaloyiBank.Cli.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.Cli.Tests;

/// <summary>
/// <c>baloyi run --dashboard</c>'s parts: the real Aspire dashboard (from its NuGet package) on loopback, and the
/// embedded pipeline exporting to it over OTLP exactly as the run command configures it; read back through the
/// dashboard's telemetry API.
/// </summary>
[Collection(PipelineTelemetry.Name)]
public sealed class DashboardTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("baloyi-dashboard-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task The_pipeline_s_traces_reach_the_dashboard_with_every_hop()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        using var dashboard = await AspireDashboard.StartAsync(cancel.Token);
        Assert.Equal("127.0.0.1", dashboard.Url.Host);
        var overrides = new Dictionary<string, string?>
        {
            ["EventLog:Embedded:Directory"] = Path.Combine(_root, "log"),
            ["Lake:Folder:Root"] = Path.Combine(_root, "lake"),
            ["Warehouse:DuckDbPath"] = Path.Combine(_root, "warehouse.duckdb"),
            ["EventLog:Partitions"] = "2",
            ["Generator:MaxEvents"] = "5000",
            ["Generator:Rate"] = "5000",
            ["Cleansing:FlushRows"] = "1000",
            ["Sink:Interval"] = "00:00:01",
            ["Telemetry:TraceSampleRatio"] = "0.02",
        };
        foreach (var (key, value) in dashboard.ExporterSettings())
        {
            overrides[key] = value;
        }

        using var http = new HttpClient();
        string traces = "";
        // The host stays up once the log is drained, so that gold and the warehouse are reached inside it.
        using (var host = PipelineHost.Build(overrides, LogLevel.Warning, PipelineParts.All,
            services => services.AddSingleton<IUpstreamCompletion>(new NeverComplete())))
        {
            await host.StartAsync(cancel.Token);
            var watch = Stopwatch.StartNew();
            // The OTLP batch exporter sends every few seconds: ask until the last hop shows up.
            while (!traces.Contains("sink load", StringComparison.Ordinal))
            {
                Assert.True(watch.Elapsed < TimeSpan.FromMinutes(2), $"no 'sink load' span in the dashboard within 2 minutes; it holds: {traces[..Math.Min(traces.Length, 2000)]}");
                await Task.Delay(500, cancel.Token);
                traces = await http.GetStringAsync(new Uri(dashboard.Url, "api/telemetry/traces"), cancel.Token);
            }

            await host.StopAsync(cancel.Token);
        }

        foreach (var hop in new[] { "create bank-events", "process bank-events", "commit silver/transactions", "gold round", "commit gold/", "sink load", "MERGE " })
        {
            Assert.Contains(hop, traces, StringComparison.Ordinal);
        }
    }

    private sealed class NeverComplete : IUpstreamCompletion
    {
        public bool IsComplete => false;
    }
}

/// <summary>
/// Tests that run a whole pipeline with telemetry on run one at a time: ActivitySource listeners are process-wide, so
/// two hosts' tracer providers would each see (and sample for) the other's spans.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PipelineTelemetry
{
    public const string Name = "pipeline telemetry";
}
