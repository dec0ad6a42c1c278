using Confluent.Kafka;

namespace BaloyiBank.EventLog.Kafka;

/// <summary>
/// The Kafka endpoint could not be reached, or kept failing, for longer than the retries allow. The message names the
/// endpoint and the operation, never a secret.
/// </summary>
public sealed class KafkaUnavailableException : IOException
{
    public KafkaUnavailableException()
    {
    }

    public KafkaUnavailableException(string message)
        : base(message)
    {
    }

    public KafkaUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>librdkafka's error code of the last failure, when there was one.</summary>
    public ErrorCode Code { get; init; } = ErrorCode.NoError;
}

/// <summary>Sorts librdkafka's errors into what passes by itself (retry) and what a person must fix (configuration, access).</summary>
internal static class KafkaFailures
{
    /// <summary>Errors that mean the endpoint is (for now) unreachable, overloaded or electing leaders.</summary>
    public static bool IsTransient(ErrorCode code) => code switch
    {
        ErrorCode.Local_Transport or ErrorCode.Local_AllBrokersDown or ErrorCode.Local_TimedOut or ErrorCode.Local_MsgTimedOut
            or ErrorCode.Local_Resolve or ErrorCode.Local_WaitCache or ErrorCode.Local_TimedOutQueue or ErrorCode.Local_QueueFull
            or ErrorCode.Local_Retry or ErrorCode.Local_InProgress or ErrorCode.Local_Destroy => true,
        ErrorCode.RequestTimedOut or ErrorCode.NetworkException or ErrorCode.LeaderNotAvailable or ErrorCode.NotLeaderForPartition
            or ErrorCode.BrokerNotAvailable or ErrorCode.ReplicaNotAvailable or ErrorCode.NotEnoughReplicas
            or ErrorCode.NotEnoughReplicasAfterAppend or ErrorCode.NotCoordinatorForGroup or ErrorCode.GroupLoadInProgress
            or ErrorCode.GroupCoordinatorNotAvailable or ErrorCode.KafkaStorageError or ErrorCode.FetchSessionIdNotFound
            or ErrorCode.OffsetNotAvailable or ErrorCode.PreferredLeaderNotAvailable or ErrorCode.ThrottlingQuotaExceeded => true,
        _ => false,
    };

    /// <summary>Errors only a change of settings, rights or the hub fixes.</summary>
    public static bool IsAccessOrConfiguration(ErrorCode code) => code is
        ErrorCode.SaslAuthenticationFailed or ErrorCode.Local_Authentication or ErrorCode.TopicAuthorizationFailed
        or ErrorCode.ClusterAuthorizationFailed or ErrorCode.GroupAuthorizationFailed or ErrorCode.TransactionalIdAuthorizationFailed
        or ErrorCode.UnsupportedSaslMechanism or ErrorCode.IllegalSaslState or ErrorCode.Local_UnknownTopic or ErrorCode.UnknownTopicOrPart
        or ErrorCode.Local_UnknownPartition or ErrorCode.InvalidConfig or ErrorCode.Local_InvalidArg or ErrorCode.PolicyViolation
        or ErrorCode.InvalidPartitions or ErrorCode.InvalidReplicationFactor or ErrorCode.MsgSizeTooLarge
        or ErrorCode.InvalidRequest or ErrorCode.UnsupportedVersion or ErrorCode.Local_Ssl;


    public static bool IsTransient(Exception exception) => exception switch
    {
        OperationCanceledException => false,
        KafkaException kafka => !kafka.Error.IsFatal && IsTransient(kafka.Error.Code),
        KafkaUnavailableException => true,
        TimeoutException => true,
        _ => false,
    };

    /// <summary>
    /// The port's exception for a failure of <paramref name="operation"/> at <paramref name="connection"/>: configuration or
    /// access problems become <see cref="EventLogConfigurationException"/>, broken data <see cref="EventLogCorruptionException"/>,
    /// the rest <see cref="KafkaUnavailableException"/>. Texts pass through <see cref="KafkaConnection.Redact"/>.
    /// </summary>
    public static Exception Map(Exception failure, string operation, KafkaConnection connection, string? detail = null)
    {
        var code = failure is KafkaException kafka ? kafka.Error.Code : ErrorCode.NoError;
        var reason = connection.Redact(failure is KafkaException k ? $"{k.Error.Code}: {k.Error.Reason}" : $"{failure.GetType().Name}: {failure.Message}");
        var suffix = detail is null ? "" : " " + detail;
        if (IsAccessOrConfiguration(code))
        {
            return new EventLogConfigurationException(
                $"Kafka at {connection.Endpoint} refused {operation}: {reason}.{suffix} Fix: {FixFor(code, connection)}",
                failure);
        }

        if (code is ErrorCode.Local_BadMsg or ErrorCode.InvalidMsg)
        {
            return new EventLogCorruptionException($"Kafka at {connection.Endpoint} returned damaged data during {operation}: {reason}.{suffix} " +
                "Records before this point are intact; check the broker's logs and replay the affected range from the bronze archive.", failure);
        }

        return new KafkaUnavailableException(
            $"Kafka at {connection.Endpoint} failed {operation}: {reason}.{suffix} Fix: check that the endpoint is reachable from here " +
            "(DNS, firewall, port 9093 for Event Hubs) and that the settings under EventLog:EventHubs / EventLog:Kafka are right; " +
            "raise RetryAttempts or MessageTimeout to wait longer.",
            failure)
        { Code = code };
    }

    private static string FixFor(ErrorCode code, KafkaConnection connection) => code switch
    {
        ErrorCode.SaslAuthenticationFailed or ErrorCode.Local_Authentication or ErrorCode.IllegalSaslState when connection.Authentication == KafkaAuthentication.AzureToken =>
            "check that the identity can get a token for " + connection.TokenScope + " and holds 'Azure Event Hubs Data Sender' and 'Azure Event Hubs Data Receiver' on the namespace or hub.",
        ErrorCode.SaslAuthenticationFailed or ErrorCode.Local_Authentication or ErrorCode.IllegalSaslState =>
            "check the connection string (or SASL user and password): copy it again from the namespace's Shared access policies; it needs Send and Listen.",
        ErrorCode.TopicAuthorizationFailed or ErrorCode.ClusterAuthorizationFailed or ErrorCode.GroupAuthorizationFailed =>
            "grant the identity 'Azure Event Hubs Data Sender' and 'Azure Event Hubs Data Receiver' (or a policy with Send and Listen; Manage to create hubs).",
        ErrorCode.Local_UnknownTopic or ErrorCode.UnknownTopicOrPart or ErrorCode.Local_UnknownPartition =>
            "create the event hub / topic with EventLog:Partitions partitions, or set EventLog:Name to an existing one.",
        ErrorCode.MsgSizeTooLarge => "keep events under the hub's maximum size (1 MiB on Event Hubs Standard).",
        ErrorCode.Local_Ssl => "check that the endpoint speaks TLS and its certificate is trusted here.",
        _ => "check the settings under EventLog:EventHubs / EventLog:Kafka and the topic's configuration.",
    };
}
