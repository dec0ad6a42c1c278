using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace BaloyiBank.ServiceDefaults.Tests;

public sealed class HealthEndpointTests
{
    private const string Check = "worker";

    [Fact]
    public async Task Health_lists_each_check_with_its_figures_and_answers_503_when_one_is_unhealthy_while_alive_stays_200()
    {
        var port = TestHost.FreePort();
        var state = new WorkerState();
        using var host = BuildHost(port, state);
        await host.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        using (var healthy = await http.GetAsync(new Uri("/health", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
            Assert.Equal("application/json", healthy.Content.Headers.ContentType?.MediaType);
            Assert.Contains("no-store", healthy.Headers.CacheControl?.ToString() ?? "", StringComparison.Ordinal);
            using var body = JsonDocument.Parse(await healthy.Content.ReadAsStringAsync());
            var root = body.RootElement;
            Assert.Equal(TestHost.ServiceName, root.GetProperty("service").GetString());
            Assert.Equal("Healthy", root.GetProperty("status").GetString());
            Assert.True(root.GetProperty("durationMs").GetDouble() >= 0);
            var worker = root.GetProperty("checks").GetProperty(Check);
            Assert.Equal("Healthy", worker.GetProperty("status").GetString());
            Assert.Equal("consuming", worker.GetProperty("description").GetString());
            Assert.Equal(0, worker.GetProperty("data").GetProperty("lag").GetInt64());
            Assert.Equal("1200", worker.GetProperty("data").GetProperty("committed").GetString());
            Assert.True(worker.GetProperty("data").GetProperty("finished").GetBoolean());
            Assert.Equal("Healthy", root.GetProperty("checks").GetProperty("self").GetProperty("status").GetString());
        }

        state.Lag = 42;
        state.Unhealthy = true;
        using (var unhealthy = await http.GetAsync(new Uri("/health", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, unhealthy.StatusCode);
            using var body = JsonDocument.Parse(await unhealthy.Content.ReadAsStringAsync());
            var root = body.RootElement;
            Assert.Equal("Unhealthy", root.GetProperty("status").GetString());
            var worker = root.GetProperty("checks").GetProperty(Check);
            Assert.Equal("Unhealthy", worker.GetProperty("status").GetString());
            Assert.Equal("event log unreachable", worker.GetProperty("description").GetString());
            Assert.Equal(42, worker.GetProperty("data").GetProperty("lag").GetInt64());
        }

        // Liveness runs only the checks tagged "live": the process still answers.
        using (var alive = await http.GetAsync(new Uri("/alive", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
            using var body = JsonDocument.Parse(await alive.Content.ReadAsStringAsync());
            var checks = body.RootElement.GetProperty("checks");
            Assert.True(checks.TryGetProperty("self", out _));
            Assert.False(checks.TryGetProperty(Check, out _));
        }

        await host.StopAsync();
    }

    [Fact]
    public async Task A_check_that_throws_is_unhealthy_with_the_exception_message_as_description()
    {
        var port = TestHost.FreePort();
        using var host = BuildHost(port, new WorkerState { Throws = true });
        await host.StartAsync();
        using var http = new HttpClient();
        using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/health"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("disk full", body.RootElement.GetProperty("checks").GetProperty(Check).GetProperty("description").GetString());
        await host.StopAsync();
    }

    [Fact]
    public async Task Port_0_serves_nothing_and_a_taken_port_fails_start_up_with_the_fix()
    {
        using (var off = BuildHost(0, new WorkerState()))
        {
            await off.StartAsync();
            Assert.Null(off.Services.GetServices<IHostedService>().OfType<HealthEndpointServer>().Single().ListeningOn);
            await off.StopAsync();
        }

        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        using var host = BuildHost(port, new WorkerState());
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());
        Assert.Contains($"Health:Port {port}", failure.Message, StringComparison.Ordinal);
        Assert.Contains("Health__Port", failure.Message, StringComparison.Ordinal);
    }

    private static IHost BuildHost(int port, WorkerState state) =>
        TestHost.Build(new() { ["Health:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) }, builder =>
        {
            builder.AddHealthEndpoints();
            builder.Services.AddHealthChecks().AddCheck(Check, new WorkerCheck(state), tags: [ServiceDefaultsExtensions.ReadyTag]);
        });

    private sealed class WorkerState
    {
        public volatile bool Unhealthy;
        public volatile bool Throws;
        public long Lag;
    }

    private sealed class WorkerCheck(WorkerState state) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (state.Throws)
            {
                throw new IOException("disk full");
            }

            var data = new Dictionary<string, object> { ["lag"] = Interlocked.Read(ref state.Lag), ["committed"] = "1200", ["finished"] = true };
            return Task.FromResult(state.Unhealthy
                ? HealthCheckResult.Unhealthy("event log unreachable", data: data)
                : HealthCheckResult.Healthy("consuming", data));
        }
    }
}
