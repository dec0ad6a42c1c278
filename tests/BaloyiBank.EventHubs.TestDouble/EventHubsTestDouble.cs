using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Principal;
using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Encoding;
using Microsoft.Azure.Amqp.Framing;
using Microsoft.Azure.Amqp.Sasl;
using Microsoft.Azure.Amqp.Transport;

namespace BaloyiBank.EventHubs.TestDouble;

/// <summary>
/// A TEST DOUBLE for Azure Event Hubs: a local AMQP 1.0 listener (no TLS) that speaks the part of the Event Hubs
/// protocol Azure.Messaging.EventHubs uses, for one hub, with events kept in memory. See README.md for what it
/// implements and what it does not.
/// </summary>
public sealed class EventHubsTestDouble : IRuntimeProvider, IAsyncDisposable
{
    internal const string CbsAddress = "$cbs";
    internal const string ManagementAddress = "$management";
    private const uint BatchMessageFormat = 0x80013700;

    private readonly EventHubsTestDoubleOptions _options;
    private readonly PartitionLog[] _partitions;
    private readonly HashSet<string> _consumerGroups;
    private readonly ConcurrentDictionary<string, SendingAmqpLink> _replyLinks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<AmqpConnection, byte> _connections = new();
    private readonly Dictionary<(string Group, int Partition), List<PartitionConsumer>> _consumers = [];
    private readonly Lock _consumersGate = new();
    private readonly ManagementNode _management;
    private AmqpTransportListener? _listener;
    private int _roundRobin = -1;

    private EventHubsTestDouble(EventHubsTestDoubleOptions options, int port)
    {
        _options = options;
        Port = port;
        CreatedAtUtc = options.DataDirectory is null ? DateTime.UtcNow : HubManifest.LoadOrCreate(options);
        _partitions = [.. Enumerable.Range(0, options.PartitionCount).Select(p => new PartitionLog(
            p.ToString(CultureInfo.InvariantCulture),
            options.DataDirectory is null ? null : Path.Combine(options.DataDirectory, $"partition-{p}.log")))];
        _consumerGroups = new HashSet<string>(options.ConsumerGroups.Append("$Default"), StringComparer.OrdinalIgnoreCase);
        _management = new ManagementNode(this);
    }

    public int Port { get; }

    public string HubName => _options.HubName;

    public DateTime CreatedAtUtc { get; }

    /// <summary>The connection string clients use; the key is a dummy (the double accepts any token).</summary>
    public string ConnectionString =>
        $"Endpoint=sb://127.0.0.1:{Port};SharedAccessKeyName=test;SharedAccessKey=dGVzdA==;EntityPath={HubName};UseDevelopmentEmulator=true";

    internal IReadOnlyList<PartitionLog> Partitions => _partitions;

    /// <summary>Starts listening on 127.0.0.1; with port 0, on a free port.</summary>
    public static EventHubsTestDouble Start(EventHubsTestDoubleOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        // A free port can be taken between probing and binding; try a few.
        for (var attempt = 0; ; attempt++)
        {
            var port = options.Port != 0 ? options.Port : ProbeFreePort();
            var server = new EventHubsTestDouble(options, port);
            try
            {
                server.Listen();
                return server;
            }
            catch (Exception ex) when (options.Port == 0 && attempt < 5 && ex is SocketException or AmqpException or InvalidOperationException)
            {
                server.Stop();
            }
        }
    }

    public void Stop()
    {
        _listener?.Close();
        foreach (var connection in _connections.Keys)
        {
            connection.SafeClose();
        }

        foreach (var partition in _partitions)
        {
            partition.Dispose();
        }
    }

    public ValueTask DisposeAsync()
    {
        Stop();
        return ValueTask.CompletedTask;
    }

    private static int ProbeFreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private void Listen()
    {
        var settings = new AmqpSettings { RuntimeProvider = this };

        // The SDK asks for MSSBCBS (authorisation then comes as $cbs tokens); ANONYMOUS and PLAIN serve other clients.
        var sasl = new SaslTransportProvider();
        sasl.Versions.Add(new AmqpVersion(1, 0, 0));
        sasl.AddHandler(new SaslAnonymousHandler("MSSBCBS"));
        sasl.AddHandler(new SaslAnonymousHandler());
        sasl.AddHandler(new SaslPlainHandler(new AcceptAnyPlain()));
        settings.TransportProviders.Add(sasl);

        var amqp = new AmqpTransportProvider();
        amqp.Versions.Add(new AmqpVersion(1, 0, 0));
        settings.TransportProviders.Add(amqp);

        var tcp = new TcpTransportSettings { Host = "127.0.0.1", Port = Port };
        _listener = new AmqpTransportListener([tcp.CreateListener()], settings);
        _listener.Listen(OnAcceptTransport);
    }

    private void OnAcceptTransport(TransportListener listener, TransportAsyncCallbackArgs args)
    {
        var connectionSettings = new AmqpConnectionSettings
        {
            ContainerId = $"eventhubs-test-double-{Port}",
            MaxFrameSize = 64 * 1024,
            IdleTimeOut = 4 * 60 * 1000,
        };

        var connection = new AmqpConnection(args.Transport, (ProtocolHeader)args.UserToken, false, _listener!.AmqpSettings, connectionSettings);
        _ = OpenConnectionAsync(connection);
    }

    private async Task OpenConnectionAsync(AmqpConnection connection)
    {
        try
        {
            await connection.OpenAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            _connections.TryAdd(connection, 0);
            connection.SafeAddClosed((_, _) => _connections.TryRemove(connection, out _));
        }
        catch (Exception ex) when (ex is AmqpException or TimeoutException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            connection.SafeClose(ex);
        }
    }

    AmqpConnection IConnectionFactory.CreateConnection(TransportBase transport, ProtocolHeader protocolHeader, bool isInitiator, AmqpSettings amqpSettings, AmqpConnectionSettings connectionSettings) =>
        new(transport, protocolHeader, isInitiator, amqpSettings, connectionSettings);

    // Sessions begun by a client are created by the connection itself; the double never begins one.
    AmqpSession ISessionFactory.CreateSession(AmqpConnection connection, AmqpSessionSettings settings) =>
        throw new InvalidOperationException("The Event Hubs test double does not begin sessions.");

    AmqpLink ILinkFactory.CreateLink(AmqpSession session, AmqpLinkSettings settings)
    {
        // settings are ours: Role true means this side receives (the client sends to us).
        if (settings.Role == true)
        {
            settings.MaxMessageSize = _options.MaxMessageSize;
            return new ReceivingAmqpLink(session, settings);
        }

        return new SendingAmqpLink(session, settings);
    }

    IAsyncResult ILinkFactory.BeginOpenLink(AmqpLink link, TimeSpan timeout, AsyncCallback callback, object state)
    {
        if (link.IsReceiver)
        {
            AttachIncoming((ReceivingAmqpLink)link);
        }
        else
        {
            AttachOutgoing((SendingAmqpLink)link);
        }

        var result = new CompletedResult(state);
        callback(result);
        return result;
    }

    void ILinkFactory.EndOpenLink(IAsyncResult result)
    {
    }

    private void AttachIncoming(ReceivingAmqpLink link)
    {
        var address = EntityPath.Normalize((link.Settings.Target as Target)?.Address?.ToString());
        if (address is CbsAddress)
        {
            link.RegisterMessageListener(message => OnRequest(link, message, CbsNode.Handle));
            link.SetTotalLinkCredit(100, true, true);
            return;
        }

        if (address is ManagementAddress)
        {
            link.RegisterMessageListener(message => OnRequest(link, message, _management.Handle));
            link.SetTotalLinkCredit(100, true, true);
            return;
        }

        var entity = EntityPath.Parse(address, HubName, _partitions.Length);
        if (entity is not EntityPath.Hub and not EntityPath.Partition)
        {
            throw new AmqpException(AmqpErrorCode.NotFound, $"The messaging entity '{address}' could not be found: send to '{HubName}' or '{HubName}/Partitions/<0..{_partitions.Length - 1}>'.");
        }

        var fixedPartition = entity is EntityPath.Partition p ? p.Index : (int?)null;
        link.RegisterMessageListener(message => OnEventMessage(link, fixedPartition, message));
        link.SetTotalLinkCredit(300, true, true);
    }

    private void AttachOutgoing(SendingAmqpLink link)
    {
        var address = EntityPath.Normalize((link.Settings.Source as Source)?.Address?.ToString());
        if (address is CbsAddress or ManagementAddress)
        {
            // The reply link of a request/response pair: responses go to the request's reply-to address.
            var replyTo = (link.Settings.Target as Target)?.Address?.ToString()
                ?? throw new AmqpException(AmqpErrorCode.InvalidField, $"A reply link on '{address}' needs a target address.");
            _replyLinks[replyTo] = link;
            link.SafeAddClosed((_, _) => _replyLinks.TryRemove(new KeyValuePair<string, SendingAmqpLink>(replyTo, link)));
            return;
        }

        if (EntityPath.Parse(address, HubName, _partitions.Length) is not EntityPath.ConsumerPartition consumer)
        {
            throw new AmqpException(AmqpErrorCode.NotFound, $"The messaging entity '{address}' could not be found: receive from '{HubName}/ConsumerGroups/<group>/Partitions/<0..{_partitions.Length - 1}>'.");
        }

        if (!_consumerGroups.Contains(consumer.Group))
        {
            throw new AmqpException(AmqpErrorCode.NotFound, $"The messaging entity '{address}' could not be found: consumer group '{consumer.Group}' does not exist (the double has {string.Join(", ", _consumerGroups)}).");
        }

        var ownerLevel = ReadOwnerLevel(link.Settings.Properties);
        var start = StartFilter.FromSource(link.Settings.Source as Source);
        var log = _partitions[consumer.Index];
        var runtimeMetrics = link.Settings.DesiredCapabilities?.Contains(AmqpNames.RuntimeMetricCapability) == true;
        if (runtimeMetrics)
        {
            link.Settings.OfferedCapabilities = new Multiple<AmqpSymbol>([AmqpNames.RuntimeMetricCapability]);
        }

        var receiver = new PartitionConsumer(link, log, start, ownerLevel, runtimeMetrics);
        Admit(consumer.Group, consumer.Index, receiver);
        receiver.Start();
    }

    /// <summary>Owner-level (epoch) rules: a higher or equal owner displaces the others; a lower one is refused.</summary>
    private void Admit(string group, int partition, PartitionConsumer receiver)
    {
        var displaced = new List<PartitionConsumer>();
        lock (_consumersGate)
        {
            var key = (group.ToUpperInvariant(), partition);
            if (!_consumers.TryGetValue(key, out var current))
            {
                _consumers[key] = current = [];
            }

            current.RemoveAll(c => c.IsClosed);
            var highest = current.Where(c => c.OwnerLevel.HasValue).Select(c => c.OwnerLevel!.Value).DefaultIfEmpty(long.MinValue).Max();
            if (receiver.OwnerLevel is { } level)
            {
                if (highest > level)
                {
                    throw new AmqpException(AmqpErrorCode.Stolen, $"Receiver with owner level {level} was refused: partition {partition} of consumer group '{group}' has a receiver with owner level {highest}.");
                }

                displaced.AddRange(current);
                current.Clear();
            }
            else if (highest != long.MinValue)
            {
                throw new AmqpException(AmqpErrorCode.Stolen, $"A receiver without owner level was refused: partition {partition} of consumer group '{group}' has a receiver with owner level {highest}.");
            }

            current.Add(receiver);
            receiver.Link.SafeAddClosed((_, _) =>
            {
                lock (_consumersGate)
                {
                    current.Remove(receiver);
                }
            });
        }

        foreach (var old in displaced)
        {
            old.Link.SafeClose(new AmqpException(AmqpErrorCode.Stolen, $"New receiver with owner level {receiver.OwnerLevel} was opened on partition {partition} of consumer group '{group}'; this receiver (owner level {old.OwnerLevel?.ToString(CultureInfo.InvariantCulture) ?? "none"}) is disconnected."));
        }
    }

    private static long? ReadOwnerLevel(Fields? properties)
    {
        if (properties is null || !properties.TryGetValue<object>(AmqpNames.OwnerLevel, out var value) || value is null)
        {
            return null;
        }

        return Convert.ToInt64(value, CultureInfo.InvariantCulture);
    }

    private void OnRequest(ReceivingAmqpLink link, AmqpMessage request, Func<AmqpMessage, AmqpMessage> handle)
    {
        using (request)
        {
            var replyTo = request.Properties?.ReplyTo?.ToString();
            AmqpMessage response;
            try
            {
                response = handle(request);
            }
            catch (AmqpException ex)
            {
                response = ManagementNode.Error(ex.Error.Condition.Value, ex.Error.Description, 400);
            }

            link.AcceptMessage(request, false);
            if (replyTo is null || !_replyLinks.TryGetValue(replyTo, out var sender))
            {
                return;
            }

            response.Properties.CorrelationId = request.Properties!.MessageId;
            sender.SendMessageNoWait(response, new ArraySegment<byte>(Guid.NewGuid().ToByteArray()), AmqpConstants.NullBinary);
        }
    }

    private void OnEventMessage(ReceivingAmqpLink link, int? fixedPartition, AmqpMessage message)
    {
        using (message)
        {
            try
            {
                var envelopeKey = ReadPartitionKey(message);
                var events = new List<(string?, byte[])>();
                if (message.MessageFormat == BatchMessageFormat)
                {
                    // A batch: each data section is one whole encoded message.
                    foreach (var data in message.DataBody)
                    {
                        var bytes = data.Value switch
                        {
                            ArraySegment<byte> segment => segment.ToArray(),
                            byte[] array => (byte[])array.Clone(),
                            _ => throw new AmqpException(AmqpErrorCode.DecodeError, "A batch data section is not binary."),
                        };
                        events.Add((envelopeKey, bytes));
                    }
                }
                else
                {
                    // The message exactly as the producer encoded it.
                    using var copy = new MemoryStream();
                    message.ToStream().CopyTo(copy);
                    events.Add((envelopeKey, copy.ToArray()));
                }

                var partition = fixedPartition ?? ChoosePartition(envelopeKey);
                _partitions[partition].Append(events);
                link.AcceptMessage(message, false);
            }
            catch (Exception ex) when (ex is AmqpException or IOException or ObjectDisposedException)
            {
                link.RejectMessage(message, ex);
            }
        }
    }

    private int ChoosePartition(string? partitionKey)
    {
        if (partitionKey is null)
        {
            return (int)((uint)Interlocked.Increment(ref _roundRobin) % (uint)_partitions.Length);
        }

        // A stable hash (FNV-1a); the service's own hash differs, which the SDK never relies on.
        var hash = 2166136261u;
        foreach (var c in partitionKey)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash % (uint)_partitions.Length);
    }

    private static string? ReadPartitionKey(AmqpMessage message) =>
        message.MessageAnnotations?.Map.TryGetValue<string>(AmqpNames.PartitionKey, out var key) == true ? key : null;

    private sealed class AcceptAnyPlain : ISaslPlainAuthenticator
    {
        public Task<IPrincipal> AuthenticateAsync(string identity, string password) =>
            Task.FromResult<IPrincipal>(new GenericPrincipal(new GenericIdentity(identity ?? "anonymous"), ["Send", "Listen", "Manage"]));
    }

    private sealed class CompletedResult(object? state) : IAsyncResult
    {
        public object? AsyncState { get; } = state;

        public WaitHandle AsyncWaitHandle => throw new NotSupportedException();

        public bool CompletedSynchronously => true;

        public bool IsCompleted => true;
    }
}
