using System.Text;
using System.Text.Json;
using BaloyiBank.Contracts.Control;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace BaloyiBank.Bus.Tests;

/// <summary>Looks into a RabbitMQ broker with plain AMQP (RabbitMQ.Client), beside MassTransit, and tidies up after a test.</summary>
public sealed class BrokerQueues(string uri)
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    /// <summary>Messages ready in <paramref name="queue"/>, or null when the broker has no such queue.</summary>
    public async Task<uint?> MessageCountAsync(string queue)
    {
        await using var connection = await ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
        {
            return null;
        }
    }

    /// <summary>Takes one message off <paramref name="queue"/> (basic.get with ack): the MassTransit message and its headers.</summary>
    public async Task<(SilverBatchCommitted Message, IReadOnlyDictionary<string, string?> Headers)?> TakeAsync(string queue)
    {
        await using var connection = await ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        var got = await channel.BasicGetAsync(queue, autoAck: true);
        if (got is null)
        {
            return null;
        }

        // MassTransit's envelope: {"messageId": …, "messageType": […], "message": {…}, …}.
        using var envelope = JsonDocument.Parse(got.Body);
        var message = envelope.RootElement.GetProperty("message").Deserialize<SilverBatchCommitted>(Web)
            ?? throw new InvalidOperationException("the envelope holds no message");
        var headers = (got.BasicProperties.Headers ?? new Dictionary<string, object?>())
            .ToDictionary(h => h.Key, h => h.Value switch
            {
                byte[] bytes => Encoding.UTF8.GetString(bytes),
                null => null,
                var other => other.ToString(),
            });
        return (message, headers);
    }

    /// <summary>Deletes the queues and exchanges of these endpoints (and their _error and _skipped companions).</summary>
    public async Task RemoveAsync(IEnumerable<string> endpoints)
    {
        await using var connection = await ConnectAsync();
        foreach (var name in endpoints.SelectMany(e => new[] { e, e + "_error", e + "_skipped" }))
        {
            // A delete of something absent succeeds on RabbitMQ 3.10; a fresh channel each, in case one closes anyway.
            await using var channel = await connection.CreateChannelAsync();
            await channel.QueueDeleteAsync(name);
            await channel.ExchangeDeleteAsync(name);
        }
    }

    private Task<IConnection> ConnectAsync() => new ConnectionFactory { Uri = new Uri(uri) }.CreateConnectionAsync();
}
