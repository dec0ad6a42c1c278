using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Azure.Core;
using BaloyiBank.EventLog.Kafka;
using BaloyiBank.EventLog.RabbitMq.Tests;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Xunit;

namespace BaloyiBank.EventLog.Kafka.Tests;

/// <summary>
/// Failures against a real closed port on 127.0.0.1 (nothing listens; connects are refused), with short timeouts: the
/// retries happen and are logged, the final error names the endpoint and the operation, and no secret appears anywhere.
/// </summary>
public sealed class ClosedPortTests
{
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static KafkaEventLogOptions Quick(KafkaEventLogOptions options)
    {
        options.RetryAttempts = 2;
        options.RetryBaseDelay = TimeSpan.FromMilliseconds(50);
        options.RetryMaxDelay = TimeSpan.FromMilliseconds(100);
        options.RequestTimeout = TimeSpan.FromSeconds(1);
        options.MessageTimeout = TimeSpan.FromSeconds(1);
        return options;
    }

    [Fact]
    public async Task Opening_against_a_closed_port_retries_then_fails_naming_the_endpoint()
    {
        var port = ClosedPort();
        using var logs = new CapturingLoggerProvider();
        var options = Quick(new KafkaEventLogOptions { BootstrapServers = string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{port}") });

        var error = await Assert.ThrowsAsync<KafkaUnavailableException>(() => KafkaEventLog.OpenAsync("kafka", "bank-events", 4, options, logs));

        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{port}"), error.Message, StringComparison.Ordinal);
        Assert.Contains("open of topic bank-events", error.Message, StringComparison.Ordinal);
        Assert.Contains("3 attempts", error.Message, StringComparison.Ordinal);
        Assert.Contains("Fix: ", error.Message, StringComparison.Ordinal);
        Assert.True(KafkaFailures.IsTransient(error.Code), $"the last error {error.Code} is a transport failure");
        Assert.IsAssignableFrom<IOException>(error);
        Assert.Equal(2, logs.Lines.Count(l => l.Level == LogLevel.Warning && l.Message.StartsWith("Kafka open of topic bank-events at 127.0.0.1:", StringComparison.Ordinal) && l.Message.Contains("retrying", StringComparison.Ordinal)));
        Assert.Contains(logs.Lines, l => l.Level == LogLevel.Error && l.Message.Contains("failed 3 times", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_Event_Hubs_connection_string_never_shows_in_the_error_the_logs_or_ToString()
    {
        var port = ClosedPort();
        using var logs = new CapturingLoggerProvider();
        var connectionString = string.Create(CultureInfo.InvariantCulture,
            $"Endpoint=sb://127.0.0.1:{port}/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={ConnectionMappingTests.Key};UseDevelopmentEmulator=true");
        var options = Quick(new KafkaEventLogOptions { ConnectionString = connectionString });
        await using var log = KafkaEventLog.Create("eventhubs", "bank-events", 2, options, logs);

        var error = await Assert.ThrowsAsync<KafkaUnavailableException>(() => log.DescribeAsync());
        await using var reader = log.OpenReader(0, StartPosition.Earliest);
        var readError = await Assert.ThrowsAsync<KafkaUnavailableException>(() => reader.ReadAsync(10, TimeSpan.FromSeconds(1)));

        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{port} (SaslPlaintext, Plain)"), error.Message, StringComparison.Ordinal);
        Assert.NotEmpty(logs.Lines);
        foreach (var text in new[] { error.ToString(), readError.ToString(), options.ToString(), log.Connection.ToString(), log.Connection.Endpoint }.Concat(logs.Lines.Select(l => l.Message)))
        {
            Assert.DoesNotContain(ConnectionMappingTests.Key, text, StringComparison.Ordinal);
            Assert.DoesNotContain("SharedAccessKey=" + ConnectionMappingTests.Key[..8], text, StringComparison.Ordinal);
        }

        Assert.Contains("SharedAccessKey=***", options.ToString(), StringComparison.Ordinal);
        Assert.Contains("password ***", log.Connection.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_producer_against_a_closed_port_fails_its_append_with_the_endpoint_after_librdkafkas_retries()
    {
        var port = ClosedPort();
        using var logs = new CapturingLoggerProvider();
        var options = Quick(new KafkaEventLogOptions { BootstrapServers = string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{port}") });
        await using var log = KafkaEventLog.Create("kafka", "bank-events", 3, options, logs);
        log.AssumeOpenedForTests();
        await using var producer = log.CreateProducer();

        var error = await Assert.ThrowsAsync<KafkaUnavailableException>(() => producer.AppendAsync(
            [new OutgoingEvent("ACC00000001", new byte[] { 1 }, EventHeaders.Empty), new OutgoingEvent("ACC00000002", new byte[] { 2 }, EventHeaders.Empty)]));

        Assert.Equal(ErrorCode.Local_MsgTimedOut, error.Code);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{port}"), error.Message, StringComparison.Ordinal);
        Assert.Contains("append to topic bank-events", error.Message, StringComparison.Ordinal);
        Assert.Contains("2 of 2 events not acknowledged", error.Message, StringComparison.Ordinal);
        Assert.Contains(logs.Lines, l => l.Message.Contains("Connection refused", StringComparison.Ordinal));
    }

    [Fact]
    public void A_delivery_timeout_maps_to_KafkaUnavailable_and_access_errors_to_a_configuration_error_naming_the_RBAC_roles()
    {
        KafkaNative.EnsureRegistered();
        var connection = KafkaConnection.Resolve(new KafkaEventLogOptions { FullyQualifiedNamespace = "baloyi.servicebus.windows.net" }, "eventhubs");

        var timeout = KafkaFailures.Map(new KafkaException(ErrorCode.Local_MsgTimedOut), "append to topic t", connection);
        var denied = KafkaFailures.Map(new KafkaException(ErrorCode.TopicAuthorizationFailed), "append to topic t", connection);
        var auth = KafkaFailures.Map(new KafkaException(ErrorCode.SaslAuthenticationFailed), "open of topic t", connection);
        var missing = KafkaFailures.Map(new KafkaException(ErrorCode.UnknownTopicOrPart), "open of topic t", connection);

        Assert.IsType<KafkaUnavailableException>(timeout);
        Assert.Contains("baloyi.servicebus.windows.net:9093", timeout.Message, StringComparison.Ordinal);
        Assert.IsType<EventLogConfigurationException>(denied);
        Assert.Contains("Azure Event Hubs Data Sender", denied.Message, StringComparison.Ordinal);
        Assert.Contains("https://baloyi.servicebus.windows.net/.default", auth.Message, StringComparison.Ordinal);
        Assert.Contains("create the event hub", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Simulated_managed_identity_Fake_credential_is_asked_for_the_namespace_scope_by_librdkafkas_token_refresh()
    {
        // No Azure here: a fake TokenCredential stands in for the managed identity; librdkafka is real and asks for the
        // token as soon as an OAUTHBEARER client starts, before it can reach the (unresolvable) namespace.
        using var logs = new CapturingLoggerProvider();
        var credential = new FakeTokenCredential();
        var options = Quick(new KafkaEventLogOptions { FullyQualifiedNamespace = "baloyi-test.servicebus.windows.net", Credential = "managedidentity" });
        options.RetryAttempts = 0;
        await using var log = KafkaEventLog.Create("eventhubs", "bank-events", 2, options, logs, credential);

        await Assert.ThrowsAnyAsync<Exception>(() => log.DescribeAsync());

        Assert.Contains("https://baloyi-test.servicebus.windows.net/.default", credential.Scopes);
        Assert.All(logs.Lines, l => Assert.DoesNotContain(FakeTokenCredential.Token, l.Message, StringComparison.Ordinal));
    }

    private sealed class FakeTokenCredential : TokenCredential
    {
        public const string Token = "fake-access-token-value";

        public System.Collections.Concurrent.ConcurrentBag<string> Scopes { get; } = [];

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            foreach (var scope in requestContext.Scopes)
            {
                Scopes.Add(scope);
            }

            return new AccessToken(Token, DateTimeOffset.UtcNow.AddHours(1));
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            new(GetToken(requestContext, cancellationToken));
    }
}
