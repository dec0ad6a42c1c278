using BaloyiBank.EventLog.Embedded;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Xunit;

namespace BaloyiBank.EventLog.Tests;

public sealed class OptionsTests : IDisposable
{
    private readonly TempFolder _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public void The_defaults_are_valid()
    {
        var options = new EventLogOptions();

        Assert.True(Validate(options).Succeeded);
        Assert.Equal("embedded", options.Kind);
        Assert.Equal("bank-events", options.Name);
        Assert.Equal(8, options.Partitions);
        Assert.Equal("./data/log", options.Embedded.Directory);
        Assert.Equal(128L * 1024 * 1024, options.Embedded.SegmentBytes);
        Assert.Equal(TimeSpan.FromDays(7), options.Embedded.Retention);
        Assert.False(options.Embedded.FsyncOnAppend);
    }

    [Theory]
    [InlineData("Partitions", "0", "EventLog:Partitions must be between 1 and 1024 (got 0). Set EventLog__Partitions or --partitions to a positive number.")]
    [InlineData("Partitions", "2000", "EventLog:Partitions must be between 1 and 1024 (got 2000).")]
    [InlineData("Kind", "kafka", "EventLog:Kind must be one of embedded (got 'kafka'). Set EventLog__Kind")]
    [InlineData("Name", "bank events!", "EventLog:Name must be 1-200 letters, digits")]
    [InlineData("Embedded:Directory", " ", "EventLog:Embedded:Directory must name a folder")]
    [InlineData("Embedded:SegmentBytes", "100", "EventLog:Embedded:SegmentBytes must be between 4096 and 17179869184 (got 100). Set EventLog__Embedded__SegmentBytes")]
    [InlineData("Embedded:Retention", "00:00:00", "EventLog:Embedded:Retention must be a positive duration (got 00:00:00)")]
    public void Each_invalid_option_fails_with_its_name_and_the_fix(string key, string value, string expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [$"EventLog:{key}"] = value }).Build();
        var options = new EventLogOptions();
        configuration.GetSection("EventLog").Bind(options);

        var result = Validate(options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, failure => failure.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ValidateOnStart_stops_the_host_with_the_message()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["EventLog:Partitions"] = "0" });
        builder.Services.AddEventLog(builder.Configuration);
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("EventLog:Partitions must be between 1 and 1024 (got 0). Set EventLog__Partitions or --partitions to a positive number.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddEventLog_binds_the_section_and_registers_one_embedded_log()
    {
        var folder = _root.NewFolder();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["EventLog:Name"] = "test-events",
            ["EventLog:Partitions"] = "3",
            ["EventLog:Embedded:Directory"] = folder,
            ["EventLog:Embedded:SegmentBytes"] = "65536",
            ["EventLog:Embedded:Retention"] = "01:30:00",
            ["EventLog:Embedded:FsyncOnAppend"] = "true",
        }).Build();
        var services = new ServiceCollection().AddEventLog(configuration);

        await using (var provider = services.BuildServiceProvider())
        {
            var options = provider.GetRequiredService<IOptions<EventLogOptions>>().Value;
            Assert.Equal(TimeSpan.FromMinutes(90), options.Embedded.Retention);
            Assert.Equal(65536, options.Embedded.SegmentBytes);
            Assert.True(options.Embedded.FsyncOnAppend);

            var log = Assert.IsType<EmbeddedEventLog>(provider.GetRequiredService<IEventLog>());
            Assert.Same(log, provider.GetRequiredService<IEventLog>());
            Assert.Equal("test-events", log.Name);
            Assert.Equal(3, log.PartitionCount);
            Assert.Equal(Path.GetFullPath(folder), log.Directory);
            await using var producer = log.CreateProducer();
            await producer.AppendAsync([Events.Make("k", "v")]);
        }

        // Disposing the container closed the log and released its locks.
        await using var reopened = EmbeddedEventLog.Open(new EmbeddedEventLogOptions { Directory = folder, Name = "test-events", Partitions = 3 });
        await using var again = reopened.CreateProducer();
    }

    [Fact]
    public async Task Another_backend_can_register_its_kind()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["EventLog:Kind"] = "fake" }).Build();
        var services = new ServiceCollection()
            .AddSingleton<IEventLogBackend, FakeBackend>()
            .AddEventLog(configuration);
        await using var provider = services.BuildServiceProvider();

        Assert.Equal("fake-log", provider.GetRequiredService<IEventLog>().Name);
    }

    [Fact]
    public void The_factory_rejects_invalid_options_with_the_same_messages()
    {
        var error = Assert.Throws<ArgumentException>(() => EmbeddedEventLog.Open(new EmbeddedEventLogOptions { Directory = _root.NewFolder(), Partitions = 0 }));

        Assert.Contains("EventLog:Partitions must be between 1 and 1024 (got 0).", error.Message, StringComparison.Ordinal);
    }

    private static ValidateOptionsResult Validate(EventLogOptions options) =>
        new EventLogOptionsValidator([new EmbeddedBackendStandIn()]).Validate(null, options);

    private sealed class EmbeddedBackendStandIn : IEventLogBackend
    {
        public string Kind => EventLogKinds.Embedded;

        public IEventLog Create(EventLogOptions options, IServiceProvider services) => throw new NotSupportedException();
    }

    private sealed class FakeBackend : IEventLogBackend
    {
        public string Kind => "fake";

        public IEventLog Create(EventLogOptions options, IServiceProvider services) => new FakeLog();
    }

    private sealed class FakeLog : IEventLog
    {
        public string Name => "fake-log";

        public int PartitionCount => 1;

        public Task<IReadOnlyList<PartitionInfo>> DescribeAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public IEventLogProducer CreateProducer() => throw new NotSupportedException();

        public IPartitionReader OpenReader(int partition, StartPosition start) => throw new NotSupportedException();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
