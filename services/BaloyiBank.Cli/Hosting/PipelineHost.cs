using BaloyiBank.EventLog;
using BaloyiBank.Generator;
using BaloyiBank.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.Cli.Hosting;

/// <summary>
/// The local host: every service that exists, in one process, on embedded defaults. The same
/// registrations (<c>AddEventLog</c>, <c>AddGenerator</c>) are what each service's own Program uses.
/// </summary>
internal static class PipelineHost
{
    public static IHost Build(IReadOnlyDictionary<string, string?> overrides, LogLevel consoleLevel)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
            ApplicationName = "baloyi",
        });
        // Flags win over appsettings.json and environment variables.
        builder.Configuration.AddInMemoryCollection(overrides);
        builder.AddServiceDefaults("baloyi");
        builder.Logging.AddFilter<Microsoft.Extensions.Logging.Console.ConsoleLoggerProvider>(level => level >= consoleLevel);
        builder.Services.AddEventLog(builder.Configuration);
        builder.Services.AddGenerator(builder.Configuration);
        return builder.Build();
    }
}
