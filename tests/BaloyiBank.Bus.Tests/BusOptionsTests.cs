using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Bus.Tests;

public sealed class BusOptionsTests
{
    [Fact]
    public async Task An_unknown_kind_stops_start_up_with_the_operator_message()
    {
        using var host = Build(new() { ["Bus:Kind"] = "kafka" });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Equal(["Bus:Kind must be one of inmemory, rabbitmq (got 'kafka'). Fix: set Bus__Kind to inmemory, rabbitmq."], error.Failures);
    }

    [Fact]
    public async Task Bad_retry_settings_are_explained()
    {
        using var host = Build(new() { ["Bus:ImmediateRetries"] = "-1", ["Bus:RetryInterval"] = "00:00:00" });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Equal(
            [
                "Bus:ImmediateRetries must be between 0 and 20 (got -1). Fix: set Bus__ImmediateRetries to e.g. 2.",
                "Bus:RetryInterval must be above 0 and at most 00:10:00 (got 00:00:00). Fix: set Bus__RetryInterval to e.g. 00:00:02.",
            ],
            error.Failures);
    }

    [Fact]
    public void Defaults_are_the_embedded_in_memory_bus()
    {
        var options = new BusOptions();

        Assert.Equal("inmemory", options.Kind);
        Assert.True(new BusOptionsValidator().Validate(null, options).Succeeded);
    }

    private static IHost Build(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddControlBus(builder.Configuration);
        return builder.Build();
    }
}
