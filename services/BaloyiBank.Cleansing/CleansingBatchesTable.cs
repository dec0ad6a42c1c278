using BaloyiBank.Delta;

namespace BaloyiBank.Cleansing;

/// <summary>
/// The audit of the cleansing worker: one row per flushed micro-batch, committed after every other table
/// of the batch with the same txn. It makes invariant 5 checkable from the lake alone
/// (<c>consumed = valid + quarantined + duplicates</c> per batch, partition and in total), and because it
/// is committed last, its txn is the partition's resume point.
/// </summary>
public static class CleansingBatchesTable
{
    /// <summary>The lake folder below the silver root; '_' keeps it apart from the data tables.</summary>
    public const string FolderName = "_cleansing_batches";

    public static TableSchema Schema { get; } = new("cleansing_batches",
    [
        new("source_partition", ColumnType.Integer),
        new("first_offset", ColumnType.Long),
        new("last_offset", ColumnType.Long),
        new("consumed", ColumnType.Long),
        new("valid", ColumnType.Long),
        new("quarantined", ColumnType.Long),
        new("duplicates", ColumnType.Long),
        // A JSON object {reason: count}: the reasons are open-ended, a column per reason would need schema changes.
        new("quarantined_by_reason", ColumnType.String),
        new("min_event_time", ColumnType.Timestamp, Nullable: true),
        new("max_event_time", ColumnType.Timestamp, Nullable: true),
        new("consumer_group", ColumnType.String),
        new("committed_at", ColumnType.Timestamp),
    ], []);
}
