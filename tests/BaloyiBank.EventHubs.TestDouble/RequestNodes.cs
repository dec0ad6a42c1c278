using System.Globalization;
using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Encoding;
using Microsoft.Azure.Amqp.Framing;

namespace BaloyiBank.EventHubs.TestDouble;

/// <summary><c>$cbs</c>: every put-token is accepted (no real authorisation; see README).</summary>
internal static class CbsNode
{
    public static AmqpMessage Handle(AmqpMessage request)
    {
        var operation = request.ApplicationProperties?.Map.TryGetValue<string>("operation", out var op) == true ? op : null;
        if (operation != "put-token")
        {
            return ManagementNode.Error("amqp:not-implemented", $"$cbs operation '{operation}' is not supported; only put-token is.", 501);
        }

        var response = AmqpMessage.Create();
        response.ApplicationProperties = new ApplicationProperties();
        response.ApplicationProperties.Map["status-code"] = 202;
        response.ApplicationProperties.Map["status-description"] = "Accepted";
        return response;
    }
}

/// <summary><c>$management</c>: the READ operations for hub and partition runtime properties.</summary>
internal sealed class ManagementNode(EventHubsTestDouble server)
{
    public AmqpMessage Handle(AmqpMessage request)
    {
        var map = request.ApplicationProperties?.Map;
        string? Get(string key) => map?.TryGetValue<string>(key, out var value) == true ? value : null;

        var operation = Get("operation");
        var type = Get("type");
        var name = Get("name");
        if (operation != "READ")
        {
            return Error("amqp:not-implemented", $"$management operation '{operation}' is not supported by the Event Hubs test double; only READ is.", 501);
        }

        if (!string.Equals(name, server.HubName, StringComparison.OrdinalIgnoreCase))
        {
            return Error("amqp:not-found", $"The messaging entity '{name}' could not be found. The test double serves '{server.HubName}'.", 404);
        }

        return type switch
        {
            "com.microsoft:eventhub" => Ok(new AmqpMap
            {
                [new MapKey("name")] = server.HubName,
                [new MapKey("created_at")] = server.CreatedAtUtc,
                [new MapKey("partition_ids")] = server.Partitions.Select(p => p.PartitionId).ToArray(),
            }),
            "com.microsoft:partition" => ReadPartition(Get("partition")),
            _ => Error("com.microsoft:argument-error", $"$management READ of type '{type}' is not supported; use com.microsoft:eventhub or com.microsoft:partition.", 400),
        };
    }

    private AmqpMessage ReadPartition(string? partitionId)
    {
        var log = server.Partitions.FirstOrDefault(p => p.PartitionId == partitionId);
        if (log is null)
        {
            return Error("amqp:not-found", $"The messaging entity '{server.HubName}/Partitions/{partitionId}' could not be found. Partitions are 0..{server.Partitions.Count - 1}.", 404);
        }

        var last = log.LastOrDefault();
        return Ok(new AmqpMap
        {
            [new MapKey("name")] = server.HubName,
            [new MapKey("partition")] = log.PartitionId,
            [new MapKey("begin_sequence_number")] = 0L,
            [new MapKey("last_enqueued_sequence_number")] = last?.SequenceNumber ?? -1L,
            [new MapKey("last_enqueued_offset")] = (last?.Offset ?? -1L).ToString(CultureInfo.InvariantCulture),
            [new MapKey("last_enqueued_time_utc")] = last?.EnqueuedTimeUtc ?? server.CreatedAtUtc,
            [new MapKey("runtime_info_retrieval_time_utc")] = DateTime.UtcNow,
            [new MapKey("is_partition_empty")] = last is null,
        });
    }

    private static AmqpMessage Ok(AmqpMap body)
    {
        var response = AmqpMessage.Create(new AmqpValue { Value = body });
        response.ApplicationProperties = new ApplicationProperties();
        response.ApplicationProperties.Map["status-code"] = 200;
        response.ApplicationProperties.Map["status-description"] = "OK";
        return response;
    }

    public static AmqpMessage Error(string condition, string description, int statusCode)
    {
        var response = AmqpMessage.Create();
        response.ApplicationProperties = new ApplicationProperties();
        response.ApplicationProperties.Map["status-code"] = statusCode;
        response.ApplicationProperties.Map["status-description"] = description;
        response.ApplicationProperties.Map["error-condition"] = new AmqpSymbol(condition);
        return response;
    }
}
