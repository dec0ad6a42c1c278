using System.Net.Sockets;
using DuckDB.NET.Data;
using DuckDB.NET.Native;
using Microsoft.Data.SqlClient;
using Npgsql;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace BaloyiBank.Warehouse;

/// <summary>Whether trying the same load again may succeed.</summary>
public enum WarehouseErrorKind
{
    /// <summary>Connection loss, throttling, deadlock, failover, timeout: retry with backoff.</summary>
    Transient,
    /// <summary>Bad data, bad SQL, missing permission, bad configuration: retrying cannot help; fix and let the next run try.</summary>
    Permanent,
}

/// <summary>Classifies warehouse failures of every engine into transient or permanent.</summary>
public static class WarehouseErrors
{
    /// <summary>
    /// SQL Server / Azure SQL / Synapse error numbers worth a retry: the transient faults Azure SQL documents
    /// (4060, 40197, 40501, 40613, 49918, 49919, 49920, 4221, 10928, 10929, 40143, 40540, 42108, 42109),
    /// network-level errors (64, 233, 10053, 10054, 10060, 10061, 11001, and the managed SNI's
    /// 26, 35, 40, 53, 121, 258), deadlock victim 1205, lock timeout 1222, and -2 (client timeout).
    /// </summary>
    public static IReadOnlySet<int> TransientSqlErrorNumbers { get; } = new HashSet<int>
    {
        -2, 20, 26, 35, 40, 53, 64, 121, 233, 258, 1205, 1222, 4060, 4221,
        10053, 10054, 10060, 10061, 10928, 10929, 11001,
        40143, 40197, 40501, 40540, 40613, 42108, 42109, 49918, 49919, 49920,
    };

    /// <summary>PostgreSQL SQLSTATEs worth a retry (connection class 08, serialization 40001, deadlock 40P01, resources 53, shutdown 57P0x).</summary>
    public static bool IsTransientSqlState(string? sqlState) => sqlState is not null
        && (sqlState.StartsWith("08", StringComparison.Ordinal)
            || sqlState is "40001" or "40P01" or "55P03" or "57P01" or "57P02" or "57P03" or "57014"
            || sqlState.StartsWith("53", StringComparison.Ordinal));

    public static WarehouseErrorKind Classify(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception switch
        {
            WarehouseException warehouse => warehouse.Kind,
            // Another loader moved the watermark: the same load can never succeed, whatever the retries.
            WarehouseFencedException => WarehouseErrorKind.Permanent,
            SqlException sql => IsTransient(sql) ? WarehouseErrorKind.Transient : WarehouseErrorKind.Permanent,
            PostgresException postgres => IsTransientSqlState(postgres.SqlState) ? WarehouseErrorKind.Transient : WarehouseErrorKind.Permanent,
            NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is IOException or SocketException or TimeoutException
                ? WarehouseErrorKind.Transient
                : WarehouseErrorKind.Permanent,
            // Another writer committed first (optimistic concurrency): the next attempt sees its result.
            DuckDBException duck => duck.ErrorType == DuckDBErrorType.Transaction
                || duck.Message.Contains("Conflict", StringComparison.OrdinalIgnoreCase)
                ? WarehouseErrorKind.Transient
                : WarehouseErrorKind.Permanent,
            TimeoutRejectedException or BrokenCircuitException or TimeoutException or SocketException => WarehouseErrorKind.Transient,
            IOException when exception.InnerException is SocketException => WarehouseErrorKind.Transient,
            _ when exception.InnerException is { } inner && inner != exception => Classify(inner),
            _ => WarehouseErrorKind.Permanent,
        };
    }

    public static bool IsTransient(Exception exception) => Classify(exception) == WarehouseErrorKind.Transient;

    /// <summary>
    /// A listed error number, or a client-side network failure: the managed SNI reports an unreachable server
    /// (refused, reset, DNS) as number 0 with severity class 20 and the SNI error in the message.
    /// </summary>
    private static bool IsTransient(SqlException sql) =>
        TransientSqlErrorNumbers.Contains(sql.Number)
        || sql.Errors.Cast<SqlError>().Any(e => TransientSqlErrorNumbers.Contains(e.Number) || (e.Number == 0 && e.Class >= 20));
}

/// <summary>
/// A warehouse operation failed for good (after retries, or at once for a permanent error). The message names
/// the engine, the operation, how many attempts ran, the kind, and the cause; never a connection secret.
/// </summary>
public sealed class WarehouseException : Exception
{
    public WarehouseException()
    {
    }

    public WarehouseException(string message)
        : base(message)
    {
    }

    public WarehouseException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public WarehouseException(WarehouseEngine engine, string operation, WarehouseErrorKind kind, int attempts, string detail, Exception? innerException = null)
        : base($"Warehouse {operation} on {engine} failed ({kind.ToString().ToLowerInvariant()}, {attempts} attempt{(attempts == 1 ? string.Empty : "s")}): {detail}", innerException)
    {
        Engine = engine;
        Operation = operation;
        Kind = kind;
        Attempts = attempts;
    }

    public WarehouseEngine Engine { get; }

    /// <summary>ensure-schema, load, read-watermark or export.</summary>
    public string Operation { get; } = "operation";

    public WarehouseErrorKind Kind { get; } = WarehouseErrorKind.Permanent;

    public int Attempts { get; }
}

/// <summary>
/// A load was refused because the watermark it expected to find is no longer there: another loader committed since
/// this one read it (a stale loader that lost its lease, or a second sink). The load's transaction was rolled back, so
/// neither data nor watermark changed. Not transient: trying the same load again cannot succeed; re-read the
/// watermark (and the lease) and build a new load from there. <see cref="ResilientWarehouse"/> never retries it and
/// passes it through unwrapped.
/// </summary>
public sealed class WarehouseFencedException : Exception
{
    public WarehouseFencedException()
    {
    }

    public WarehouseFencedException(string message)
        : base(message)
    {
    }

    public WarehouseFencedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public WarehouseFencedException(WarehouseEngine engine, string pipeline, string table, long? expectedWatermark, long? foundWatermark, long watermark)
        : base(Describe(engine, pipeline, table, expectedWatermark, foundWatermark, watermark))
    {
        Engine = engine;
        Pipeline = pipeline;
        Table = table;
        ExpectedWatermark = expectedWatermark;
        FoundWatermark = foundWatermark;
        Watermark = watermark;
    }

    public WarehouseEngine Engine { get; }

    public string Pipeline { get; } = string.Empty;

    /// <summary>The first table (in the load's locking order) whose watermark differed.</summary>
    public string Table { get; } = string.Empty;

    /// <summary>What the load expected to find (null: no watermark yet, a first load).</summary>
    public long? ExpectedWatermark { get; }

    /// <summary>What the warehouse held (null: no watermark row).</summary>
    public long? FoundWatermark { get; }

    /// <summary>The watermark the refused load would have set.</summary>
    public long Watermark { get; }

    private static string Describe(WarehouseEngine engine, string pipeline, string table, long? expected, long? found, long watermark)
    {
        var why = found == watermark
            ? "a load to the same watermark already committed (another loader, or an earlier attempt of this one whose commit was not acknowledged)"
            : "another loader committed since this one read the watermark";
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"Warehouse load on {engine} fenced: pipeline '{pipeline}', table '{table}' expected watermark {Show(expected)} but found {Show(found)} ({why}); the load to {watermark} was rolled back, nothing changed. Fix: re-read the watermark and load from there; only the lease holder loads.");
    }

    private static string Show(long? watermark) => watermark?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none";
}
