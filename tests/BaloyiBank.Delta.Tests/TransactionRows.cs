using System.Globalization;
using DuckDB.NET.Data;

namespace BaloyiBank.Delta.Tests;

/// <summary>One silver transaction row as the tests write and read it back.</summary>
public sealed record TransactionRow(
    string TransactionId,
    string AccountId,
    decimal Amount,
    DateTimeOffset BookedAt,
    DateOnly EventDate,
    string? Memo,
    decimal? Fee,
    long Sequence,
    decimal? FxRate,
    bool? Reversal,
    byte[]? Payload)
{
    /// <summary>A comparable rendering (byte arrays compare by reference otherwise).</summary>
    public string Key => string.Join("|",
        TransactionId, AccountId, Amount.ToString("F2", CultureInfo.InvariantCulture), BookedAt.UtcTicks.ToString(CultureInfo.InvariantCulture),
        EventDate.ToString("O", CultureInfo.InvariantCulture), Memo ?? "<null>", Fee?.ToString("F2", CultureInfo.InvariantCulture) ?? "<null>",
        Sequence.ToString(CultureInfo.InvariantCulture), FxRate?.ToString("F6", CultureInfo.InvariantCulture) ?? "<null>",
        Reversal?.ToString() ?? "<null>", Payload is null ? "<null>" : Convert.ToHexString(Payload));
}

/// <summary>The silver transactions table the tests write: every column type, nulls, partitioned by event date.</summary>
public static class TransactionRows
{
    public static readonly TableSchema Schema = new(
        "transactions",
        [
            new("transaction_id", ColumnType.String),
            new("account_id", ColumnType.String),
            new("amount", ColumnType.Money),
            new("booked_at", ColumnType.Timestamp),
            new("event_date", ColumnType.Date),
            new("memo", ColumnType.String, Nullable: true),
            new("fee", ColumnType.Money, Nullable: true),
            new("sequence", ColumnType.Long),
            new("fx_rate", ColumnType.Rate, Nullable: true),
            new("reversal", ColumnType.Boolean, Nullable: true),
            new("payload", ColumnType.Binary, Nullable: true),
        ],
        ["event_date"]);

    private static readonly DateTimeOffset Start = new(2026, 1, 1, 8, 0, 0, TimeSpan.Zero);

    /// <summary>Rows for offsets [first, first + count) of one partition: deterministic, spread over two event dates.</summary>
    public static List<TransactionRow> Generate(int partition, long first, int count)
    {
        var random = new Random(HashCode.Combine(partition, first));
        return [.. Enumerable.Range(0, count).Select(i =>
        {
            var offset = first + i;
            // Microsecond precision with a sub-millisecond part, so stats truncation is exercised.
            var booked = Start.AddTicks((offset * 7_919_000_000L) + (random.Next(0, 999_999) * 10L));
            return new TransactionRow(
                $"tx-{partition:D2}-{offset:D9}",
                $"acc-{random.Next(1, 40):D4}",
                Math.Round((decimal)random.Next(-5_000_000, 5_000_000) / 100m, 2),
                booked,
                DateOnly.FromDateTime(booked.UtcDateTime.Date),
                i % 5 == 0 ? null : $"payment {offset} ünïcødé ✓",
                i % 3 == 0 ? null : Math.Round(random.Next(0, 500) / 100m, 2),
                offset,
                i % 4 == 0 ? null : Math.Round((decimal)random.NextDouble() * 20m, 6),
                i % 7 == 0 ? null : i % 2 == 0,
                i % 6 == 0 ? null : [(byte)partition, (byte)(offset & 0xFF), 0, 255]);
        })];
    }

    /// <summary>The rows in a sealed column buffer of <paramref name="schema"/> (this shape), as a cleansing feed holds a batch.</summary>
    public static ColumnBuffer Buffer(IEnumerable<TransactionRow> rows, TableSchema? schema = null)
    {
        var buffer = new ColumnBuffer(schema ?? Schema);
        foreach (var row in rows)
        {
            buffer.Append(row.TransactionId).Append(row.AccountId).Append(row.Amount).Append(row.BookedAt).Append(row.EventDate)
                .Append(row.Memo).Append(row.Fee).Append(row.Sequence).Append(row.FxRate).Append(row.Reversal).Append(row.Payload);
            buffer.EndRow();
        }

        buffer.Seal();
        return buffer;
    }

    /// <summary>Writes rows as the data files of one commit (uploaded, not committed).</summary>
    public static Task<IReadOnlyList<AddFile>> WriteFilesAsync(DeltaTable table, TableSchema schema, IEnumerable<TransactionRow> rows, string stem) =>
        new DeltaFileWriter(table, schema).WriteAsync([Buffer(rows, schema)], stem);

    /// <summary>
    /// Reads every row of a FROM fragment back as <see cref="TransactionRow"/>s, with DuckDB.NET: a reader independent
    /// of the Parquet.Net writer that wrote the files.
    /// </summary>
    public static List<TransactionRow> Read(string from)
    {
        using var connection = new DuckDBConnection(DuckDBConnectionStringBuilder.InMemoryConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT transaction_id, account_id, amount, booked_at, event_date, memo, fee, sequence, fx_rate, reversal, payload FROM {from}";
        using var result = command.ExecuteReader();
        List<TransactionRow> rows = [];
        while (result.Read())
        {
            rows.Add(new(
                result.GetString(0), result.GetString(1), result.GetDecimal(2), result.GetFieldValue<DateTimeOffset>(3), result.GetFieldValue<DateOnly>(4),
                result.IsDBNull(5) ? null : result.GetString(5), result.IsDBNull(6) ? null : result.GetDecimal(6), result.GetInt64(7),
                result.IsDBNull(8) ? null : result.GetDecimal(8), result.IsDBNull(9) ? null : result.GetBoolean(9),
                result.IsDBNull(10) ? null : Blob(result, 10)));
        }

        return rows;
    }

    private static byte[] Blob(DuckDBDataReader result, int ordinal)
    {
        using var stream = result.GetStream(ordinal);
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>
    /// What a cleansing micro-batch does: buffer rows of one partition's offset range, write them as files named
    /// from the range, and commit them with txn(appId = partition, version = last offset).
    /// </summary>
    public static async Task<(DeltaCommitResult Result, IReadOnlyList<AddFile> Adds)> WriteBatchAsync(
        DeltaTable table, DeltaSnapshot snapshot, int partition, long first, int count)
    {
        var rows = Generate(partition, first, count);
        var last = first + count - 1;
        var adds = await WriteFilesAsync(table, snapshot.Schema, rows, Stem(partition, first, last));
        var result = await table.CommitAsync(snapshot, new DeltaCommit
        {
            Adds = adds,
            Transaction = new DeltaTransaction(AppId(partition), last),
            Operation = "STREAMING UPDATE",
            OperationParameters = new Dictionary<string, string> { ["outputMode"] = "Append", ["queryId"] = "cleansing", ["epochId"] = last.ToString(CultureInfo.InvariantCulture) },
        });
        return (result, adds);
    }

    public static string AppId(int partition) => $"cleansing-p{partition:D4}";

    public static string Stem(int partition, long first, long last) => $"part-p{partition:D4}-o{first:D12}-{last:D12}";
}
