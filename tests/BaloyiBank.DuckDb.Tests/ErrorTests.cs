namespace BaloyiBank.DuckDb.Tests;

public sealed class ErrorTests : IDisposable
{
    private readonly TempFolder folder = new();
    private readonly DuckDbDatabase database = DuckDbDatabase.Open();
    private readonly DuckDbConnection connection;

    public ErrorTests() => connection = database.Connect();

    public void Dispose()
    {
        connection.Dispose();
        database.Dispose();
        folder.Dispose();
    }

    [Fact]
    public void Bad_sql_carries_the_parser_message_and_the_sql()
    {
        var error = Assert.Throws<DuckDbException>(() => connection.Execute("SELEC 1"));

        Assert.Equal("query", error.Operation);
        Assert.Equal(DuckDbErrorType.Parser, error.ErrorType);
        Assert.StartsWith("Parser Error: syntax error at or near \"SELEC\"", error.DuckDbMessage);
        Assert.StartsWith("DuckDB query failed: Parser Error: syntax error", error.Message);
        Assert.EndsWith("SQL: SELEC 1", error.Message);
        Assert.Equal("SELEC 1", error.Sql);
    }

    [Fact]
    public void A_missing_table_is_a_catalog_error_naming_the_table()
    {
        var error = Assert.Throws<DuckDbException>(() => connection.Query("SELECT * FROM nope"));

        Assert.Equal(DuckDbErrorType.Catalog, error.ErrorType);
        Assert.StartsWith("DuckDB query failed: Catalog Error: Table with name nope does not exist!", error.Message);
        Assert.EndsWith("SQL: SELECT * FROM nope", error.Message);
    }

    [Fact]
    public void Preparing_against_a_missing_table_fails_at_prepare()
    {
        var error = Assert.Throws<DuckDbException>(() => connection.Prepare("INSERT INTO nope VALUES ($1)"));

        Assert.Equal("prepare", error.Operation);
        Assert.Contains("Table with name nope does not exist", error.Message);
    }

    [Fact]
    public void Type_mismatches_are_reported_by_duckdb_or_refused_before_reaching_it()
    {
        connection.Execute("CREATE TABLE t (i INTEGER, m DECIMAL(18,2))");

        var cast = Assert.Throws<DuckDbException>(() => connection.Execute("INSERT INTO t VALUES ('abc', 1)"));
        Assert.Equal(DuckDbErrorType.Conversion, cast.ErrorType);
        Assert.Contains("Could not convert string 'abc' to INT32", cast.Message);

        using var insert = connection.Prepare("INSERT INTO t VALUES ($1, $2)");
        insert.Bind(1, "abc").Bind(2, 1m);
        var bound = Assert.Throws<DuckDbException>(() => insert.Execute());
        Assert.Equal("execute", bound.Operation);
        Assert.Contains("Could not convert string 'abc' to INT32", bound.Message);

        using var appender = connection.CreateAppender("t");
        var appended = Assert.Throws<DuckDbException>(() => appender.Append("abc"));
        Assert.Equal("append", appended.Operation);
        Assert.Contains("column 'i' (INTEGER)", appended.Message);

        using var result = connection.Query("SELECT 42::INTEGER AS answer");
        Assert.True(result.Read());
        var read = Assert.Throws<InvalidCastException>(() => result.GetString(0));
        Assert.Contains("'answer' is INTEGER", read.Message);
    }

    [Fact]
    public void Opening_a_file_in_a_missing_directory_says_which_file()
    {
        var path = folder.File(Path.Combine("no-such-dir", "x.duckdb"));

        var error = Assert.Throws<DuckDbException>(() => DuckDbDatabase.Open(path));

        Assert.Equal("open", error.Operation);
        Assert.Contains("IO Error: Cannot open file", error.Message);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void Opening_the_same_file_twice_in_one_process_shares_one_database()
    {
        var path = folder.File("shared.duckdb");
        using var first = DuckDbDatabase.Open(path);
        using var firstConnection = first.Connect();
        firstConnection.Execute("CREATE TABLE t AS SELECT 1 AS a");

        // A second instance on the same file would not see the first one's writes and would corrupt
        // the file on checkpoint: the library hands out DuckDB's cached instance instead.
        using var second = DuckDbDatabase.Open(path);
        using var secondConnection = second.Connect();
        secondConnection.Execute("INSERT INTO t VALUES (2)");

        Assert.Equal(2, firstConnection.ExecuteScalar<long>("SELECT count(*) FROM t"));
        Assert.Equal(2, secondConnection.ExecuteScalar<long>("SELECT count(*) FROM t"));
    }

    [Fact]
    public void Opening_an_open_file_with_a_different_configuration_is_refused_with_duckdbs_message()
    {
        var path = folder.File("locked.duckdb");
        using var writer = DuckDbDatabase.Open(path);

        var readOnly = Assert.Throws<DuckDbException>(() => DuckDbDatabase.Open(path, new DuckDbConfig { ReadOnly = true }));
        var otherThreads = Assert.Throws<DuckDbException>(() => DuckDbDatabase.Open(path, new DuckDbConfig { Threads = 1 }));

        foreach (var error in new[] { readOnly, otherThreads })
        {
            Assert.Equal("open", error.Operation);
            Assert.Contains("Can't open a connection to same database file with a different configuration", error.Message);
        }

        // Once the writer is gone the file opens read-only, and writes are refused by DuckDB.
        writer.Dispose();
        using var reader = DuckDbDatabase.Open(path, new DuckDbConfig { ReadOnly = true });
        using var connection = reader.Connect();
        var write = Assert.Throws<DuckDbException>(() => connection.Execute("CREATE TABLE t (a INTEGER)"));
        Assert.Contains("read-only", write.Message);
    }

    [Fact]
    public void Invalid_configuration_is_reported_at_open()
    {
        var unknown = Assert.Throws<DuckDbException>(() => DuckDbDatabase.Open(null, new DuckDbConfig { Options = new Dictionary<string, string> { ["no_such_option"] = "1" } }));
        Assert.Contains("no_such_option", unknown.Message);

        var badValue = Assert.Throws<DuckDbException>(() => DuckDbDatabase.Open(null, new DuckDbConfig { MemoryLimit = "lots" }));
        Assert.Contains("memory_limit", badValue.Message);
    }

    [Fact]
    public void Long_sql_is_truncated_in_the_message()
    {
        var sql = "SELECT * FROM nope WHERE " + string.Join(" OR ", Enumerable.Range(0, 200).Select(i => $"a = {i}"));

        var error = Assert.Throws<DuckDbException>(() => connection.Query(sql));

        Assert.Equal(501, error.Sql!.Length);
        Assert.EndsWith("…", error.Sql);
    }
}
