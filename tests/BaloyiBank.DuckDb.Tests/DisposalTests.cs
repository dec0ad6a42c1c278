namespace BaloyiBank.DuckDb.Tests;

public sealed class DisposalTests
{
    [Fact]
    public void Every_object_throws_object_disposed_after_dispose_and_disposes_twice_safely()
    {
        var database = DuckDbDatabase.Open();
        var connection = database.Connect();
        connection.Execute("CREATE TABLE t (a INTEGER)");
        var statement = connection.Prepare("SELECT $1::INTEGER");
        var appender = connection.CreateAppender("t");
        var result = connection.Query("SELECT 1");

        result.Dispose();
        result.Dispose();
        Assert.Throws<ObjectDisposedException>(() => result.Read());
        Assert.Throws<ObjectDisposedException>(() => result.IsNull(0));

        statement.Dispose();
        statement.Dispose();
        Assert.Throws<ObjectDisposedException>(() => statement.Bind(1, 1));
        Assert.Throws<ObjectDisposedException>(() => statement.Execute());

        appender.Dispose();
        appender.Dispose();
        Assert.Throws<ObjectDisposedException>(() => appender.Append(1));
        Assert.Throws<ObjectDisposedException>(appender.Flush);

        connection.Dispose();
        connection.Dispose();
        Assert.Throws<ObjectDisposedException>(() => connection.Execute("SELECT 1"));
        Assert.Throws<ObjectDisposedException>(() => connection.Prepare("SELECT 1"));
        Assert.Throws<ObjectDisposedException>(() => connection.CreateAppender("t"));

        database.Dispose();
        database.Dispose();
        Assert.Throws<ObjectDisposedException>(() => database.Connect());
    }

    [Fact]
    public void Children_outlive_a_disposed_parent_until_they_are_disposed()
    {
        using var folder = new TempFolder();
        var path = folder.File("outlive.duckdb");
        var database = DuckDbDatabase.Open(path);
        var connection = database.Connect();
        connection.Execute("CREATE TABLE t (a INTEGER)");
        var statement = connection.Prepare("INSERT INTO t VALUES ($1)");

        // The native database and connection stay alive while something still uses them.
        database.Dispose();
        connection.Dispose();
        Assert.Equal(1, statement.Bind(1, 42).Execute());
        statement.Dispose();

        // With the last user gone the file is released and opens again in another mode.
        using var reopened = DuckDbDatabase.Open(path, new DuckDbConfig { ReadOnly = true });
        using var reader = reopened.Connect();
        Assert.Equal(42, reader.ExecuteScalar<int>("SELECT a FROM t"));
    }

    [Fact]
    public void A_result_stays_readable_after_its_connection_is_disposed()
    {
        using var database = DuckDbDatabase.Open();
        var connection = database.Connect();
        using var result = connection.Query("SELECT * FROM range(5000)");
        connection.Dispose();

        var rows = 0;
        while (result.Read())
        {
            rows++;
        }

        Assert.Equal(5000, rows);
    }
}
