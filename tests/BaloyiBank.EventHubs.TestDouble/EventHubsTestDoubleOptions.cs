namespace BaloyiBank.EventHubs.TestDouble;

/// <summary>What one test double serves: one namespace on 127.0.0.1 with one event hub.</summary>
public sealed record EventHubsTestDoubleOptions
{
    /// <summary>TCP port for AMQP (no TLS); 0 picks a free one.</summary>
    public int Port { get; init; }

    public string HubName { get; init; } = "events";

    public int PartitionCount { get; init; } = 4;

    /// <summary>Consumer groups that exist; <c>$Default</c> always does.</summary>
    public IReadOnlyList<string> ConsumerGroups { get; init; } = ["$Default"];

    /// <summary>Largest message (or batch envelope) a producer may send, as the Standard tier's 1 MB.</summary>
    public ulong MaxMessageSize { get; init; } = 1024 * 1024;

    /// <summary>A folder to keep the events in across restarts; null (the default) keeps them in memory only.</summary>
    public string? DataDirectory { get; init; }

    public void Validate()
    {
        if (Port is < 0 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(Port), Port, "Port must be 0 (pick a free one) or 1-65535.");
        }

        if (string.IsNullOrWhiteSpace(HubName) || HubName.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException($"Hub name '{HubName}' must be non-empty and have no '/'.", nameof(HubName));
        }

        if (PartitionCount is < 1 or > 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(PartitionCount), PartitionCount, "Partition count must be 1-1024.");
        }
    }
}
