namespace BaloyiBank.DuckDb.Tests;

public sealed class ChunkReaderTests : IDisposable
{
    private readonly DuckDbDatabase database = DuckDbDatabase.Open(null, new DuckDbConfig { Threads = 2, MemoryLimit = "512MB" });
    private readonly DuckDbConnection connection;

    public ChunkReaderTests() => connection = database.Connect();

    public void Dispose()
    {
        connection.Dispose();
        database.Dispose();
    }

    [Fact]
    public void Chunks_give_every_row_once_as_spans_of_the_stored_values()
    {
        using var reader = DuckDbChunkReader.Query(connection,
            "SELECT range::INTEGER AS i, range * 3 AS l, CAST(range * 0.01 AS DECIMAL(18, 2)) AS cents, range % 2 = 0 AS even, " +
            "DATE '1970-01-01' + CAST(range AS INTEGER) AS d, TIMESTAMPTZ '1970-01-01 00:00:00+00' + to_microseconds(range) AS t FROM range(100000) ORDER BY range");
        Assert.Equal(["i", "l", "cents", "even", "d", "t"], reader.Columns.Select(c => c.Name));
        long expected = 0;
        var chunks = 0;
        while (reader.NextChunk())
        {
            chunks++;
            Assert.InRange(reader.RowCount, 1, 2048);
            var ints = reader.Int32Values(0);
            var longs = reader.Int64Values(1);
            var cents = reader.Int64Values(2);
            var even = reader.BooleanValues(3);
            var days = reader.Int32Values(4);
            var micros = reader.Int64Values(5);
            Assert.True(reader.HasNoNulls(0));
            for (var row = 0; row < reader.RowCount; row++, expected++)
            {
                Assert.Equal(expected, ints[row]);
                Assert.Equal(expected * 3, longs[row]);
                Assert.Equal(expected, cents[row]);
                Assert.Equal(expected % 2 == 0, even[row] != 0);
                Assert.Equal(expected, days[row]);
                Assert.Equal(expected, micros[row]);
            }
        }

        Assert.Equal(100_000, expected);
        Assert.True(chunks >= 49);
        Assert.False(reader.NextChunk());
        Assert.Equal(0, reader.RowCount);
    }

    [Fact]
    public void Strings_and_nulls_are_read_by_row_and_a_wrong_type_is_refused()
    {
        string[] values = ["", "a", "123456789012", "1234567890123", "Gqeberha — Nelson Mandela Bay", "銀行🏦"];
        var list = string.Join(", ", values.Select(v => $"'{v}'"));
        using var reader = DuckDbChunkReader.Query(connection, $"SELECT unnest([{list}, NULL]) AS s, unnest([1, 2, 3, 4, 5, 6, NULL]) AS n");
        Assert.True(reader.NextChunk());
        Assert.Equal(values.Length + 1, reader.RowCount);
        Assert.False(reader.HasNoNulls(0));
        for (var row = 0; row < values.Length; row++)
        {
            Assert.False(reader.IsNull(0, row));
            Assert.Equal(values[row], reader.GetString(0, row));
        }

        Assert.True(reader.IsNull(0, values.Length));
        Assert.True(reader.IsNull(1, values.Length));
        Assert.Throws<InvalidCastException>(() => reader.Int64Values(0));
        Assert.Throws<InvalidCastException>(() => reader.Int64Values(1));
        Assert.Throws<InvalidCastException>(() => reader.GetString(1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.GetString(0, values.Length + 1));
        Assert.False(reader.NextChunk());
    }

    [Fact]
    public void An_empty_result_has_no_chunk_and_a_bad_query_throws_with_its_sql()
    {
        using (var reader = DuckDbChunkReader.Query(connection, "SELECT 1 AS x WHERE false"))
        {
            Assert.False(reader.NextChunk());
        }

        var error = Assert.Throws<DuckDbException>(() => DuckDbChunkReader.Query(connection, "SELECT nope FROM nowhere"));
        Assert.Contains("nowhere", error.Message, StringComparison.Ordinal);
    }
}
