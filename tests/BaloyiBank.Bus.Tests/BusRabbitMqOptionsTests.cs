using BaloyiBank.Contracts.Control;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Bus.Tests;

public sealed class BusRabbitMqOptionsTests
{
    private const string Secret = "Zq9-s3cret/pa@ss";

    [Fact]
    public void Nothing_set_is_the_local_broker_with_the_guest_account()
    {
        var broker = new BusRabbitMqOptions().Resolve();

        Assert.Equal(("127.0.0.1", 5672, "/", "guest", "guest", false), (broker.Host, broker.Port, broker.VirtualHost, broker.Username, broker.Password, broker.UseSsl));
        Assert.Equal("amqp://guest:***@127.0.0.1:5672/", broker.ToString());
    }

    [Fact]
    public void An_amqps_uri_gives_tls_port_5671_its_virtual_host_and_unescaped_credentials()
    {
        var options = new BusRabbitMqOptions { Uri = $"amqps://baloyi:{Uri.EscapeDataString(Secret)}@rabbitmq.example.net/prod" };

        var broker = options.Resolve();

        Assert.Equal(("rabbitmq.example.net", 5671, "prod", "baloyi", Secret, true), (broker.Host, broker.Port, broker.VirtualHost, broker.Username, broker.Password, broker.UseSsl));
        Assert.Equal("amqps://baloyi:***@rabbitmq.example.net:5671/prod", broker.ToString());
        Assert.DoesNotContain("s3cret", options.MaskedUri, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("amqp://h", "/")]
    [InlineData("amqp://h/", "/")]
    [InlineData("amqp://h/%2F", "/")]
    [InlineData("amqp://h/team%2Fa", "team/a")]
    public void The_uri_path_is_the_virtual_host_as_RabbitMQ_Client_reads_it(string uri, string virtualHost) =>
        Assert.Equal(virtualHost, new BusRabbitMqOptions { Uri = uri }.Resolve().VirtualHost);

    [Fact]
    public void Parts_that_are_set_win_over_the_uri()
    {
        var options = new BusRabbitMqOptions
        {
            Uri = "amqp://old:oldpass@old.example:5673/old",
            Host = "new.example",
            Port = 5999,
            VirtualHost = "new",
            Username = "new-user",
            Password = Secret,
            UseSsl = true,
        };

        var broker = options.Resolve();

        Assert.Equal(("new.example", 5999, "new", "new-user", Secret, true), (broker.Host, broker.Port, broker.VirtualHost, broker.Username, broker.Password, broker.UseSsl));
    }

    [Fact]
    public async Task A_bad_uri_is_explained_with_its_password_masked()
    {
        var error = await StartFailsAsync(new() { ["Bus:Kind"] = "rabbitmq", ["Bus:RabbitMq:Uri"] = $"http://baloyi:{Secret}@rabbitmq.example/" });

        var failure = Assert.Single(error.Failures);
        Assert.StartsWith(
            "Bus:RabbitMq:Uri must be an absolute amqp:// or amqps:// URI with a host and at most one path segment, the virtual host (got 'http://baloyi:***@rabbitmq.example/'). Fix: set Bus__RabbitMq__Uri to e.g. amqp://",
            failure,
            StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_bad_rabbitmq_setting_is_named_with_its_fix()
    {
        var error = await StartFailsAsync(new()
        {
            ["Bus:Kind"] = "RabbitMQ",
            ["Bus:RabbitMq:Uri"] = "amqps://baloyi@rabbitmq.example/prod",
            ["Bus:RabbitMq:UseSsl"] = "false",
            ["Bus:RabbitMq:Port"] = "0",
            ["Bus:RabbitMq:Host"] = "not a host",
            ["Bus:RabbitMq:Heartbeat"] = "00:00:00",
            ["Bus:RabbitMq:PrefetchCount"] = "0",
        });

        Assert.Equal(
            [
                "Bus:RabbitMq:Host must be a host name or IP address (got 'not a host'). Fix: set Bus__RabbitMq__Host to e.g. rabbitmq.example, or put a whole URI in Bus__RabbitMq__Uri.",
                "Bus:RabbitMq:Port must be between 1 and 65535 (got 0). Fix: set Bus__RabbitMq__Port to e.g. 5672 (5671 for TLS) or leave it unset.",
                "Bus:RabbitMq:UseSsl is false but Bus:RabbitMq:Uri asks for TLS (got 'amqps://baloyi@rabbitmq.example/prod'). Fix: remove Bus__RabbitMq__UseSsl, or use an amqp:// URI if the broker really has no TLS.",
                "Bus:RabbitMq:Heartbeat must be between 00:00:01 and 00:10:00 (got 00:00:00). Fix: set Bus__RabbitMq__Heartbeat to e.g. 00:00:10.",
                "Bus:RabbitMq:PrefetchCount must be between 1 and 10000 (got 0). Fix: set Bus__RabbitMq__PrefetchCount to e.g. 16.",
            ],
            error.Failures);
    }

    [Fact]
    public void RabbitMq_settings_are_not_checked_for_the_in_memory_bus() =>
        Assert.True(new BusOptionsValidator().Validate(null, new BusOptions { RabbitMq = new() { Uri = "http://x/", Port = 0 } }).Succeeded);

    [Fact]
    public void An_amqps_uri_becomes_a_TLS_MassTransit_host_with_the_broker_account_heartbeat_and_publisher_confirms()
    {
        using var host = Build(new()
        {
            ["Bus:Kind"] = "rabbitmq",
            ["Bus:RabbitMq:Uri"] = "amqps://baloyi@rabbitmq.example.net:5999/prod",
            ["Bus:RabbitMq:Password"] = Secret,
            ["Bus:RabbitMq:Heartbeat"] = "00:00:07",
        });

        // Building the bus connects nothing; its host settings are what MassTransit will connect with.
        var instance = host.Services.GetRequiredService<MassTransit.Transports.IBusInstance>();
        var settings = Assert.IsAssignableFrom<MassTransit.RabbitMqTransport.Configuration.IRabbitMqHostConfiguration>(instance.HostConfiguration).Settings;

        Assert.Equal(("rabbitmq.example.net", 5999, "prod", "baloyi", Secret), (settings.Host, settings.Port, settings.VirtualHost, settings.Username, settings.Password));
        Assert.True(settings.Ssl);
        Assert.Equal("rabbitmq.example.net", settings.SslServerName);
        Assert.Equal(System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13, settings.SslProtocol);
        Assert.Equal(TimeSpan.FromSeconds(7), settings.Heartbeat);
        Assert.True(settings.PublisherConfirmation);
        Assert.DoesNotContain("s3cret", settings.HostAddress.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Queue_names_are_the_consumer_name_in_kebab_case_without_Consumer_behind_the_prefix()
    {
        using var host = Build(new() { ["Bus:EndpointPrefix"] = "prod" });

        var names = host.Services.GetRequiredService<IEndpointNameFormatter>();

        Assert.Equal("prod-gold-committed", names.Consumer<GoldCommittedConsumer>());
        Assert.Equal("prod-control-recorder", names.Consumer<ControlRecorder>());
    }

    private static async Task<OptionsValidationException> StartFailsAsync(Dictionary<string, string?> settings)
    {
        using var host = Build(settings);
        return await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
    }

    private static IHost Build(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddControlBus(builder.Configuration);
        return builder.Build();
    }

    /// <summary>Named like the sink's consumer, to show the queue name it gets.</summary>
    private sealed class GoldCommittedConsumer : IConsumer<GoldCommitted>
    {
        public Task Consume(ConsumeContext<GoldCommitted> context) => Task.CompletedTask;
    }
}
