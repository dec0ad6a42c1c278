using System.Globalization;
using BaloyiBank.Lake;
using DuckDB.NET.Data;

namespace BaloyiBank.Delta.Tests;

/// <summary>
/// The Parquet footer statistics of TIMESTAMP(MICROS, UTC) columns are in the values' unit, so a reader that prunes
/// row groups on them (DuckDB here, Spark alike) with a timestamp filter finds every matching row.
/// </summary>
public sealed class TimestampStatisticsTests : IDisposable
{
    private static readonly TableSchema Schema = new("instants",
    [
        new("id", ColumnType.Long),
        new("occurred_at", ColumnType.Timestamp),
        new("settled_at", ColumnType.Timestamp, Nullable: true),
        new("event_date", ColumnType.Date),
    ], ["event_date"]);

    // Three days, so three files with their own footers; microsecond steps so a millisecond unit would show.
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 22, 0, 0, TimeSpan.Zero);

    private readonly string root = Directory.CreateTempSubdirectory("baloyibank-tsstats-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
            // The OS cleans temp later; a leftover must not fail the run.
        }
    }

    private static DateTimeOffset OccurredAt(int i) => Start.AddSeconds(i * 61.7).AddTicks((i % 7) * 10 + 10);

    // Every third row null; the rest before the epoch for a few rows, so negative micros are covered too.
    private static DateTimeOffset? SettledAt(int i) =>
        i % 3 == 0 ? null : i % 50 == 1 ? new DateTimeOffset(1969, 12, 31, 23, 59, 59, TimeSpan.Zero).AddTicks(-i * 10) : OccurredAt(i).AddMinutes(5).AddTicks(3 * 10);

    private async Task<(List<string> Files, int Rows)> WriteAsync()
    {
        var store = new FolderLakeStore(Path.Combine(root, "lake"));
        using var table = new DeltaTable(store, "silver/instants", new DeltaTableOptions { TempDirectory = Path.Combine(root, "scratch") });
        var snapshot = await table.CreateAsync(Schema);
        var rows = new ColumnBuffer(Schema);
        const int count = 4000;
        for (var i = 0; i < count; i++)
        {
            var at = OccurredAt(i);
            rows.Append((long)i).Append(at).Append(SettledAt(i)).Append(DateOnly.FromDateTime(at.UtcDateTime)).EndRow();
        }

        rows.Seal();
        var adds = await new DeltaFileWriter(table, Schema).WriteAsync([rows], "part-p0000-o000000000000-000000003999");
        await table.CommitAsync(snapshot, new DeltaCommit { Adds = adds });
        Assert.True(adds.Count >= 3, $"expected a file per day, got {adds.Count}");
        return ([.. adds.Select(a => Path.Combine(store.Location, table.LakePathOf(a.DataPath)))], count);
    }

    private static DuckDBConnection Connect()
    {
        var connection = new DuckDBConnection("DataSource=:memory:");
        connection.Open();
        return connection;
    }

    private static T Scalar<T>(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (T)Convert.ChangeType(command.ExecuteScalar()!, typeof(T), CultureInfo.InvariantCulture);
    }

    private static string Literal(DateTimeOffset at) => $"TIMESTAMPTZ '{at.UtcDateTime:yyyy-MM-dd HH:mm:ss.ffffff}+00'";

    [Fact]
    public async Task Each_files_timestamp_statistics_are_the_min_and_max_of_its_values_in_microseconds()
    {
        var (files, _) = await WriteAsync();
        using var connection = Connect();
        foreach (var file in files)
        {
            foreach (var column in new[] { "occurred_at", "settled_at" })
            {
                // Still TIMESTAMP(MICROS, UTC) in the file's schema, not a plain INT64.
                Assert.Equal("TIMESTAMP WITH TIME ZONE", Scalar<string>(connection, $"SELECT typeof({column}) FROM read_parquet('{file}') LIMIT 1"));
                Assert.Contains("MICROS", Scalar<string>(connection, $"SELECT upper(logical_type) FROM parquet_schema('{file}') WHERE name = '{column}'"), StringComparison.Ordinal);
                // The footer's bounds as DuckDB decodes them (per the column's logical type), against the values.
                var footer = Scalar<string>(connection,
                    $"SELECT stats_min_value || ' .. ' || stats_max_value FROM parquet_metadata('{file}') WHERE path_in_schema = '{column}'");
                var values = Scalar<string>(connection,
                    $"SELECT min({column})::VARCHAR || ' .. ' || max({column})::VARCHAR FROM read_parquet('{file}')");
                var agree = Scalar<bool>(connection,
                    $"""
                    SELECT m.stats_min_value::TIMESTAMPTZ = v.lo AND m.stats_max_value::TIMESTAMPTZ = v.hi
                    FROM parquet_metadata('{file}') m, (SELECT min({column}) lo, max({column}) hi FROM read_parquet('{file}')) v
                    WHERE m.path_in_schema = '{column}'
                    """);
                Assert.True(agree, $"{Path.GetFileName(Path.GetDirectoryName(file))} {column}: footer statistics {footer}, values {values}");
            }
        }
    }

    [Fact]
    public async Task A_pruning_reader_with_a_timestamp_filter_returns_exactly_the_matching_rows()
    {
        var (files, rows) = await WriteAsync();
        using var connection = Connect();
        var list = string.Join(", ", files.Select(f => $"'{f}'"));
        // Thresholds inside each day, on a value's exact microsecond, and past both ends.
        int[] probes = [0, 1, 700, 1400, 1401, 2000, 2800, 3999];
        foreach (var probe in probes)
        {
            var at = OccurredAt(probe);
            var expected = Enumerable.Range(0, rows).Count(i => OccurredAt(i) >= at);
            var found = Scalar<long>(connection, $"SELECT count(*) FROM read_parquet([{list}]) WHERE occurred_at >= {Literal(at)}");
            Assert.Equal(expected, found);
            var exact = Scalar<long>(connection, $"SELECT count(*) FROM read_parquet([{list}]) WHERE occurred_at = {Literal(at)}");
            Assert.Equal(1, exact);

            var settled = SettledAt(probe) ?? SettledAt(probe + 1)!.Value;
            var expectedSettled = Enumerable.Range(0, rows).Count(i => SettledAt(i) is { } s && s <= settled);
            var foundSettled = Scalar<long>(connection, $"SELECT count(*) FROM read_parquet([{list}]) WHERE settled_at <= {Literal(settled)}");
            Assert.Equal(expectedSettled, foundSettled);
        }

        Assert.Equal(0, Scalar<long>(connection, $"SELECT count(*) FROM read_parquet([{list}]) WHERE occurred_at > {Literal(OccurredAt(rows - 1))}"));
        Assert.Equal(rows, Scalar<long>(connection, $"SELECT count(*) FROM read_parquet([{list}]) WHERE occurred_at >= {Literal(OccurredAt(0))}"));
    }
}
