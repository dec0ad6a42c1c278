using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace BaloyiBank.Warehouse;

/// <summary>The warehouse's spans (one database span per MERGE) and metrics, named under <c>BaloyiBank.Warehouse</c>.</summary>
public static class WarehouseTelemetry
{
    public const string Name = "BaloyiBank.Warehouse";

    public static ActivitySource Source { get; } = new(Name);

    public static Meter Meter { get; } = new(Name);

    /// <summary>Loads finished, by engine and outcome (<c>committed</c>, <c>transient</c>, <c>permanent</c>, <c>cancelled</c>, <c>fenced</c>).</summary>
    public static Counter<long> Loads { get; } = Meter.CreateCounter<long>("baloyibank.warehouse.loads", "{load}", "Warehouse loads by outcome");

    /// <summary>Rows changed by committed loads, by engine, table and action (<c>insert</c>, <c>update</c>, <c>delete</c>).</summary>
    public static Counter<long> Rows { get; } = Meter.CreateCounter<long>("baloyibank.warehouse.rows", "{row}", "Rows changed by committed warehouse loads");

    /// <summary>Retries after a transient failure, by engine and operation.</summary>
    public static Counter<long> Retries { get; } = Meter.CreateCounter<long>("baloyibank.warehouse.retries", "{retry}", "Warehouse operations retried after a transient error");

    public static Histogram<double> LoadDuration { get; } = Meter.CreateHistogram<double>("baloyibank.warehouse.load.duration", "s", "Time from staging start to commit of a warehouse load");

    /// <summary>The OpenTelemetry <c>db.system.name</c> of an engine.</summary>
    public static string SystemName(WarehouseEngine engine) => engine switch
    {
        WarehouseEngine.DuckDb => "duckdb",
        WarehouseEngine.PostgreSql => "postgresql",
        _ => "microsoft.sql_server",
    };

    /// <summary>A client span following the OpenTelemetry database conventions.</summary>
    internal static Activity? StartDatabaseSpan(WarehouseEngine engine, string operation, string? collection, string schema)
    {
        var activity = Source.StartActivity(collection is null ? operation : $"{operation} {schema}.{collection}", ActivityKind.Client);
        if (activity is not null)
        {
            activity.SetTag("db.system.name", SystemName(engine));
            activity.SetTag("db.operation.name", operation);
            activity.SetTag("db.namespace", schema);
            if (collection is not null)
            {
                activity.SetTag("db.collection.name", collection);
            }
        }

        return activity;
    }

    /// <summary>What a MERGE changed, on its span (OpenTelemetry has no "rows affected" attribute yet: ours, beside <c>db.response.returned_rows</c>).</summary>
    internal static void Merged(Activity? span, long inserted, long updated, long deleted)
    {
        if (span is null)
        {
            return;
        }

        span.SetTag("baloyibank.db.rows_affected", inserted + updated + deleted);
        span.SetTag("baloyibank.db.rows_inserted", inserted);
        span.SetTag("baloyibank.db.rows_updated", updated);
        span.SetTag("baloyibank.db.rows_deleted", deleted);
    }

    internal static void RecordCommitted(WarehouseEngine engine, WarehouseLoadResult result)
    {
        var engineTag = new KeyValuePair<string, object?>("db.system.name", SystemName(engine));
        Loads.Add(1, engineTag, new("outcome", "committed"));
        LoadDuration.Record(result.Duration.TotalSeconds, engineTag);
        foreach (var table in result.Tables)
        {
            var tableTag = new KeyValuePair<string, object?>("db.collection.name", table.Table);
            Rows.Add(table.Inserted, engineTag, tableTag, new("action", "insert"));
            Rows.Add(table.Updated, engineTag, tableTag, new("action", "update"));
            Rows.Add(table.Deleted, engineTag, tableTag, new("action", "delete"));
        }
    }
}
