using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace BaloyiBank.EventLog.RabbitMq;

/// <summary>
/// The broker objects of one log: a stream per partition (<c>name.pN</c>), a manifest stream
/// (<c>name.meta</c>) whose first message fixes the partition count, and per partition an
/// exclusive queue (<c>name.pN.writer</c>) that the one writing connection holds.
/// </summary>
internal sealed partial class StreamTopology(string name, int partitions, RabbitMqEventLogOptions options, ILogger logger)
{
    public const string ManifestFormat = "baloyi-eventlog-rabbitmq";
    public const int ManifestVersion = 1;

    public string Name { get; } = name;

    public int Partitions { get; } = partitions;

    public string ManifestStream => $"{Name}.meta";

    public string Stream(int partition) => string.Create(CultureInfo.InvariantCulture, $"{Name}.p{partition}");

    public string WriterLock(int partition) => string.Create(CultureInfo.InvariantCulture, $"{Name}.p{partition}.writer");

    /// <summary>
    /// Creates the log or checks the stored one: reads the manifest (the first message of the
    /// manifest stream), writing it first when the log is new, refuses a partition count that differs,
    /// and declares every partition stream.
    /// </summary>
    public async Task EnsureAsync(IConnection connection, CancellationToken ct)
    {
        // A log whose first partition stream is missing is new: no need to wait on an empty manifest stream.
        var isNew = !await ExistsAsync(connection, Stream(0), ct).ConfigureAwait(false);
        await DeclareStreamAsync(connection, ManifestStream, retention: null, ct).ConfigureAwait(false);
        var manifest = isNew ? null : await ReadManifestAsync(connection, options.ProbeTimeout, ct).ConfigureAwait(false);
        if (manifest is null)
        {
            await PublishManifestAsync(connection, ct).ConfigureAwait(false);
            // Two creators may race: the first manifest in the stream wins for both.
            manifest = await ReadManifestAsync(connection, options.ProbeTimeout * 10, ct).ConfigureAwait(false)
                ?? throw new TimeoutException($"The manifest of RabbitMQ event log '{Name}' was published but could not be read back.");
            LogCreated(logger, Name, manifest.Value.Partitions, options.MaskedUri);
        }

        if (manifest.Value.Partitions != Partitions)
        {
            throw new EventLogConfigurationException(
                $"RabbitMQ event log '{Name}' at {options.MaskedUri} was created with {manifest.Value.Partitions} partitions, but EventLog:Partitions is {Partitions}. " +
                $"Keys map to partitions by count, so it cannot change. Fix: set EventLog__Partitions={manifest.Value.Partitions}, or use another EventLog:Name for a new log.");
        }

        for (var p = 0; p < Partitions; p++)
        {
            await DeclareStreamAsync(connection, Stream(p), options.Retention, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Deletes every stream of the log (partitions and manifest).</summary>
    public async Task DeleteAsync(IConnection connection, CancellationToken ct)
    {
        var channel = await connection.CreateChannelAsync(cancellationToken: ct).ConfigureAwait(false);
        try
        {
            for (var p = 0; p < Partitions; p++)
            {
                await channel.QueueDeleteAsync(Stream(p), ifUnused: false, ifEmpty: false, cancellationToken: ct).ConfigureAwait(false);
            }

            await channel.QueueDeleteAsync(ManifestStream, ifUnused: false, ifEmpty: false, cancellationToken: ct).ConfigureAwait(false);
        }
        finally
        {
            await StreamConsumer.CloseChannelQuietlyAsync(channel).ConfigureAwait(false);
        }
    }

    private static async Task<bool> ExistsAsync(IConnection connection, string queue, CancellationToken ct)
    {
        var channel = await connection.CreateChannelAsync(cancellationToken: ct).ConfigureAwait(false);
        try
        {
            await channel.QueueDeclarePassiveAsync(queue, ct).ConfigureAwait(false);
            return true;
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            return false;
        }
        finally
        {
            await StreamConsumer.CloseChannelQuietlyAsync(channel).ConfigureAwait(false);
        }
    }

    private async Task DeclareStreamAsync(IConnection connection, string stream, TimeSpan? retention, CancellationToken ct)
    {
        var arguments = new Dictionary<string, object?> { ["x-queue-type"] = "stream" };
        if (retention is { } age)
        {
            arguments["x-max-age"] = string.Create(CultureInfo.InvariantCulture, $"{Math.Max(1, (long)age.TotalSeconds)}s");
            arguments["x-stream-max-segment-size-bytes"] = options.MaxSegmentBytes;
        }

        var channel = await connection.CreateChannelAsync(cancellationToken: ct).ConfigureAwait(false);
        try
        {
            await channel.QueueDeclareAsync(stream, durable: true, exclusive: false, autoDelete: false, arguments, cancellationToken: ct).ConfigureAwait(false);
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 406)
        {
            // The stream exists with other arguments (say, another retention): it keeps its own.
            LogArgumentsDiffer(logger, stream, ex.ShutdownReason.ReplyText);
            var passive = await connection.CreateChannelAsync(cancellationToken: ct).ConfigureAwait(false);
            try
            {
                await passive.QueueDeclarePassiveAsync(stream, ct).ConfigureAwait(false);
            }
            finally
            {
                await StreamConsumer.CloseChannelQuietlyAsync(passive).ConfigureAwait(false);
            }
        }
        finally
        {
            await StreamConsumer.CloseChannelQuietlyAsync(channel).ConfigureAwait(false);
        }
    }

    private async Task<(string Name, int Partitions)?> ReadManifestAsync(IConnection connection, TimeSpan wait, CancellationToken ct)
    {
        var messages = await StreamProbe.ReadAsync(connection, ManifestStream, "first", _ => true, wait, wait, ct).ConfigureAwait(false);
        if (messages.Count == 0)
        {
            return null;
        }

        try
        {
            using var json = JsonDocument.Parse(messages[0].Body);
            var root = json.RootElement;
            if (root.GetProperty("format").GetString() != ManifestFormat || root.GetProperty("version").GetInt32() != ManifestVersion)
            {
                throw new EventLogConfigurationException(
                    $"Stream '{ManifestStream}' at {options.MaskedUri} does not hold a manifest of this event-log format (version {ManifestVersion}). " +
                    "Fix: choose another EventLog:Name, or delete the streams named after it if they are not needed.");
            }

            return (root.GetProperty("name").GetString() ?? Name, root.GetProperty("partitions").GetInt32());
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException and not EventLogConfigurationException)
        {
            throw new EventLogConfigurationException(
                $"Stream '{ManifestStream}' at {options.MaskedUri} holds something other than an event-log manifest ({ex.Message}). " +
                "Fix: choose another EventLog:Name, or delete the streams named after it if they are not needed.", ex);
        }
    }

    private async Task PublishManifestAsync(IConnection connection, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("format", ManifestFormat);
            writer.WriteNumber("version", ManifestVersion);
            writer.WriteString("name", Name);
            writer.WriteNumber("partitions", Partitions);
            writer.WriteString("keyPartitioner", "kafka-murmur2");
            writer.WriteString("createdAt", DateTimeOffset.UtcNow);
            writer.WriteEndObject();
        }

        var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), ct).ConfigureAwait(false);
        try
        {
            await channel.BasicPublishAsync(string.Empty, ManifestStream, mandatory: true, new BasicProperties { Persistent = true, ContentType = "application/json" }, buffer.ToArray(), ct).ConfigureAwait(false);
        }
        finally
        {
            await StreamConsumer.CloseChannelQuietlyAsync(channel).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Created RabbitMQ event log {Name} with {Partitions} partitions at {Uri}")]
    private static partial void LogCreated(ILogger logger, string name, int partitions, string uri);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream {Stream} exists with other arguments and keeps them ({Reason}); change retention on existing streams with a RabbitMQ policy")]
    private static partial void LogArgumentsDiffer(ILogger logger, string stream, string reason);
}
