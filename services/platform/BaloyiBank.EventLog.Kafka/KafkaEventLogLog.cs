using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace BaloyiBank.EventLog.Kafka;

/// <summary>The Kafka event log's log events. Endpoints and topics only: never a connection string, password or token.</summary>
internal static partial class KafkaEventLogLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Kafka event log {Topic} at {Endpoint}: {Partitions} partitions, librdkafka {Version}")]
    public static partial void Opened(ILogger logger, string topic, string endpoint, int partitions, string version);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Kafka event log: created topic {Topic} at {Endpoint} with {Partitions} partitions")]
    public static partial void TopicCreated(ILogger logger, string topic, string endpoint, int partitions);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Kafka {Operation} at {Endpoint} failed (attempt {Attempt} of {Attempts}); retrying in {DelayMs:F0} ms: {Error}")]
    public static partial void Retrying(ILogger logger, string operation, string endpoint, int attempt, int attempts, double delayMs, string error);

    [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "Kafka {Operation} at {Endpoint} failed {Attempts} times over {Seconds:F1} s; giving up: {Error}")]
    public static partial void GaveUp(ILogger logger, string operation, string endpoint, int attempts, double seconds, string error);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "Kafka client {Client} at {Endpoint}: {Code} {Reason}")]
    public static partial void ClientError(ILogger logger, string client, string endpoint, ErrorCode code, string reason);

    [LoggerMessage(EventId = 6, Level = LogLevel.Error, Message = "Kafka client {Client} at {Endpoint} hit a fatal error ({Code} {Reason}); it is replaced before the next append")]
    public static partial void FatalError(ILogger logger, string client, string endpoint, ErrorCode code, string reason);

    [LoggerMessage(EventId = 7, Message = "librdkafka {Client} {Facility}: {Message}")]
    public static partial void Native(ILogger logger, LogLevel level, string client, string facility, string message);

    [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "Kafka event log: could not get a token for {Scope}: {Error}")]
    public static partial void TokenFailed(ILogger logger, string scope, string error);

    public static LogLevel LevelOf(SyslogLevel level) => level switch
    {
        SyslogLevel.Emergency or SyslogLevel.Alert or SyslogLevel.Critical => LogLevel.Critical,
        SyslogLevel.Error => LogLevel.Error,
        SyslogLevel.Warning => LogLevel.Warning,
        SyslogLevel.Notice or SyslogLevel.Info => LogLevel.Information,
        _ => LogLevel.Debug,
    };
}
