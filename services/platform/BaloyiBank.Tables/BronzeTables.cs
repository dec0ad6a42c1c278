using BaloyiBank.Delta;

namespace BaloyiBank.Tables;

/// <summary>
/// The raw archive: every consumed record as the log held it, committed with the same txn as its batch's
/// silver rows. It outlives the log's retention, so silver can be rebuilt (replayed) from it later.
/// </summary>
public static class BronzeTables
{
    /// <summary>One row per log record, partitioned by the UTC date the log enqueued it (a replay reads by log time).</summary>
    public static TableSchema BankEvents { get; } = new("bank_events",
    [
        new("source_partition", ColumnType.Integer),
        new("source_offset", ColumnType.Long),
        new("enqueued_at", ColumnType.Timestamp),
        new("key", ColumnType.String),
        // A JSON object {name: value}: header names are open-ended (trace context, content type, producers' own).
        new("headers", ColumnType.String),
        new("payload", ColumnType.Binary),
        new("enqueue_date", ColumnType.Date),
    ], ["enqueue_date"])
    {
        // Every payload is unique: a dictionary attempt is wasted work, and zstd level 1 is cheaper and here no larger.
        Layout = ParquetLayout.Archive,
    };
}
