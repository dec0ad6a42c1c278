using BaloyiBank.EventLog.RabbitMq.Tests;

namespace BaloyiBank.Bus.Tests;

/// <summary>The control-bus contract on the real RabbitMQ the tests share (see <see cref="RabbitMqBroker"/>).</summary>
[Collection(SharedBrokerGroup.Name)]
public sealed class RabbitMqControlBusContractTests(RabbitMqBroker broker) : ControlBusContract
{
    private readonly BrokerQueues _queues = new(broker.Uri);

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Bus:Kind"] = "rabbitmq",
        ["Bus:RabbitMq:Uri"] = broker.Uri,
    };

    protected override bool SharesQueuesAcrossHosts => true;

    /// <summary>Reads the error queue on the broker itself: its message count, then the message (basic.get).</summary>
    protected override Task<IErrorQueueWatch> WatchErrorQueueAsync(RunningBus bus, string queue) =>
        Task.FromResult<IErrorQueueWatch>(new BrokerErrorQueue(_queues, queue));

    protected override Task RemoveEndpointsAsync(IReadOnlyCollection<string> endpoints) => _queues.RemoveAsync(endpoints);

    private sealed class BrokerErrorQueue(BrokerQueues queues, string queue) : IErrorQueueWatch
    {
        public async Task<ErrorQueueMessage> TakeAsync()
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
            while (await queues.MessageCountAsync(queue) is null or 0)
            {
                Assert.True(DateTime.UtcNow < deadline, $"queue {queue} holds no message after 15 s");
                await Task.Delay(50);
            }

            Assert.Equal(1u, await queues.MessageCountAsync(queue));
            var taken = await queues.TakeAsync(queue);
            Assert.NotNull(taken);
            Assert.Equal(0u, await queues.MessageCountAsync(queue));
            var headers = taken.Value.Headers;
            // What an operator finds on the message in the error queue, beside the reason.
            Assert.Equal(typeof(InvalidOperationException).FullName, headers["MT-Fault-ExceptionType"]);
            Assert.Contains(nameof(BrokenSilverConsumer), headers["MT-Fault-StackTrace"], StringComparison.Ordinal);
            Assert.True(DateTimeOffset.TryParse(headers["MT-Fault-Timestamp"], System.Globalization.CultureInfo.InvariantCulture, out _));
            Assert.Contains(headers.Keys, k => k.StartsWith("MT-Host-", StringComparison.Ordinal));
            return new(taken.Value.Message, $"{headers.GetValueOrDefault("MT-Reason")}: {headers.GetValueOrDefault("MT-Fault-Message")}");
        }
    }
}

/// <summary>What only a real broker shows: a refused login, and that the password never leaks while it is retried.</summary>
[Collection(SharedBrokerGroup.Name)]
public sealed class RabbitMqCredentialsTests(RabbitMqBroker broker, Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task A_refused_login_stops_start_up_with_the_fix_and_without_the_password_in_logs_or_exceptions()
    {
        const string secret = "Zq9-not-the-password-7f3";
        await using var rig = new ControlBusRig(new Dictionary<string, string?>
        {
            ["Bus:Kind"] = "rabbitmq",
            ["Bus:RabbitMq:Uri"] = broker.Uri,
            ["Bus:RabbitMq:Password"] = secret,
        });
        var bus = rig.Track(rig.Build(c => c.AddConsumer<ControlRecorder>()));

        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var error = await Record.ExceptionAsync(() => bus.StartAsync(patience.Token));

        foreach (var line in rig.Logs.Lines)
        {
            output.WriteLine($"{line.Level}: {line.Message}");
        }

        output.WriteLine($"start-up: {error}");
        // A refused login is not retried: start-up fails at once rather than waiting out the patience.
        Assert.IsType<MassTransit.RabbitMqConnectionException>(error);
        Assert.False(patience.IsCancellationRequested);
        Assert.Contains(rig.Logs.Lines, l => l.Level == Microsoft.Extensions.Logging.LogLevel.Error
            && l.Message.Contains("the broker amqp://guest:***@127.0.0.1:", StringComparison.Ordinal)
            && l.Message.Contains("refused the login (ACCESS_REFUSED", StringComparison.Ordinal)
            && l.Message.Contains("Fix: set Bus__RabbitMq__Username and Bus__RabbitMq__Password", StringComparison.Ordinal));
        Assert.DoesNotContain(secret, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(rig.Logs.Lines, l => l.Message.Contains(secret, StringComparison.Ordinal));
    }
}
