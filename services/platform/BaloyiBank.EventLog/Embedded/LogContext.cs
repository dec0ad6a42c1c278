using Microsoft.Extensions.Logging;

namespace BaloyiBank.EventLog.Embedded;

/// <summary>What every part of one open log needs to know.</summary>
internal sealed record LogContext(string Name, string Root, int PartitionCount, EmbeddedEventLogOptions Options, ILogger? Logger)
{
    public EventLogCorruptionException Corruption(int partition, string path, long position, long offset, string reason) =>
        new(Name, partition, path, position, offset, reason);
}
