using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace BaloyiBank.ServiceDefaults.Tests;

internal static class TestHost
{
    public const string ServiceName = "defaults-test";

    /// <summary>
    /// A host with the service defaults on exactly <paramref name="settings"/>: the empty builder reads no environment
    /// variables, so an OTEL_* or APPLICATIONINSIGHTS_* variable of the machine cannot switch an exporter on.
    /// </summary>
    public static IHost Build(Dictionary<string, string?> settings, Action<HostApplicationBuilder>? configure = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = ServiceName });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddServiceDefaults(ServiceName);
        configure?.Invoke(builder);
        return builder.Build();
    }

    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
