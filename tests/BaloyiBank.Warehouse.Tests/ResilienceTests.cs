using System.Net;
using System.Net.Sockets;
using BaloyiBank.Delta;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace BaloyiBank.Warehouse.Tests;

/// <summary>Keeps what a component logged, so a test can check what the operator would see.</summary>
public sealed class ListLogger<T> : ILogger<T>
{
    private readonly List<(EventId Id, LogLevel Level, string Message)> entries = [];

    public IReadOnlyList<(EventId Id, LogLevel Level, string Message)> Entries
    {
        get
        {
            lock (entries)
            {
                return [.. entries];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (entries)
        {
            entries.Add((eventId, logLevel, formatter(state, exception)));
        }
    }
}

public sealed class ResilienceTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static WarehouseResilienceOptions Fast(int retries = 2) => new()
    {
        MaxRetries = retries,
        BaseDelay = TimeSpan.FromMilliseconds(20),
        MaxDelay = TimeSpan.FromMilliseconds(100),
        Timeout = TimeSpan.FromSeconds(30),
        BreakerMinimumThroughput = 100,
    };

    private WarehouseLoad AccountsLoad() =>
        new("sink", 1, [new TableChanges(TestTables.Accounts, [ChangeFileWriter.WriteAccounts(folder.File("a.parquet"), [AccountRow.Sample(1, 1)])])], null);

    [Fact]
    public async Task A_sql_server_on_a_closed_port_fails_as_transient_is_retried_and_reported()
    {
        var logger = new ListLogger<ResilientWarehouse>();
        // No password: the connection never gets that far.
        var engine = new SqlServerWarehouse($"Server=tcp:127.0.0.1,{ClosedPort()};Database=bank;Integrated Security=false;User ID=sink;Connect Timeout=1;Pooling=false", "bank");
        await using var warehouse = new ResilientWarehouse(engine, Fast(), logger);

        var error = await Assert.ThrowsAsync<WarehouseException>(() => warehouse.LoadAsync(AccountsLoad()));

        // Microsoft.Data.SqlClient's managed SNI reports the refused connection as a SqlException, classified transient.
        var sql = Assert.IsType<Microsoft.Data.SqlClient.SqlException>(error.InnerException);
        Assert.Equal(WarehouseErrorKind.Transient, WarehouseErrors.Classify(sql));
        Assert.Equal((WarehouseErrorKind.Transient, 3, WarehouseEngine.SqlServer, "load"), (error.Kind, error.Attempts, error.Engine, error.Operation));
        Assert.StartsWith("Warehouse load on SqlServer failed (transient, 3 attempts): ", error.Message, StringComparison.Ordinal);
        Assert.Contains(sql.Message, error.Message, StringComparison.Ordinal);
        // What the operator reads: the driver's "unreachable" text, from its managed SNI (number 0, class 20, TCP provider error).
        Assert.Equal((0, (byte)20), (sql.Number, sql.Class));
        Assert.Contains("The server was not found or was not accessible", error.Message, StringComparison.Ordinal);
        Assert.Contains("(provider: TCP Provider, error: ", error.Message, StringComparison.Ordinal);
        var retries = logger.Entries.Where(e => e.Id.Id == 5001).ToList();
        Assert.Equal(2, retries.Count);
        Assert.All(retries, r => Assert.Equal(LogLevel.Warning, r.Level));
        Assert.All(retries, r => Assert.Contains("load on SqlServer: transient failure", r.Message, StringComparison.Ordinal));
        Assert.All(retries, r => Assert.Contains("(SqlException: ", r.Message, StringComparison.Ordinal));
        var failed = Assert.Single(logger.Entries, e => e.Id.Id == 5002);
        Assert.Equal(LogLevel.Error, failed.Level);
        Assert.Contains("load on SqlServer failed (Transient) after 3 attempt(s)", failed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_entra_login_on_a_closed_port_is_retried_the_configured_number_of_times_and_never_asks_for_a_token()
    {
        var logger = new ListLogger<ResilientWarehouse>();
        var credential = new CountingCredential();
        var options = new WarehouseOptions
        {
            Kind = "synapse",
            Schema = "bank",
            ConnectionString = $"Server=tcp:127.0.0.1,{ClosedPort()};Database=pool;Authentication=Active Directory Managed Identity;User Id=00000000-0000-0000-0000-00000000abcd;Connect Timeout=1;Pooling=false",
            Resilience = Fast(3),
        };
        await using var warehouse = WarehouseFactory.Create(options, new OneLoggerFactory(logger), credential);

        var error = await Assert.ThrowsAsync<WarehouseException>(() => warehouse.ReadWatermarkAsync("sink", "accounts"));

        // The keyword was turned into the token callback (the driver alone would refuse it: its Entra providers are a separate package).
        var login = ((SqlServerWarehouse)((ResilientWarehouse)warehouse).Inner).Login;
        Assert.Same(credential, login.Credential);
        Assert.DoesNotContain("Authentication", login.ConnectionString, StringComparison.OrdinalIgnoreCase);
        Assert.IsType<Microsoft.Data.SqlClient.SqlException>(error.InnerException);
        Assert.Equal((WarehouseErrorKind.Transient, 4, WarehouseEngine.Synapse), (error.Kind, error.Attempts, error.Engine));
        Assert.StartsWith("Warehouse read-watermark on Synapse failed (transient, 4 attempts): ", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, logger.Entries.Count(e => e.Id.Id == 5001));
        // The server was never reached, so no token was asked for.
        Assert.Equal(0, credential.Calls);
    }

    [Fact]
    public async Task A_postgres_on_a_closed_port_fails_as_transient_and_is_retried()
    {
        var logger = new ListLogger<ResilientWarehouse>();
        var engine = new PostgresWarehouse($"Host=127.0.0.1;Port={ClosedPort()};Database=bank;Username=sink;Timeout=3;Pooling=false", "bank");
        await using var warehouse = new ResilientWarehouse(engine, Fast(1), logger);

        var error = await Assert.ThrowsAsync<WarehouseException>(() => warehouse.ReadWatermarkAsync("sink", "accounts"));

        Assert.Equal((WarehouseErrorKind.Transient, 2), (error.Kind, error.Attempts));
        Assert.IsType<NpgsqlException>(error.InnerException, exactMatch: false);
        Assert.Single(logger.Entries, e => e.Id.Id == 5001);
    }

    [Fact]
    public async Task A_permanent_error_is_not_retried()
    {
        var logger = new ListLogger<ResilientWarehouse>();
        await using var warehouse = new ResilientWarehouse(new DuckDbWarehouse(folder.File("w.duckdb")), Fast(), logger);
        await warehouse.EnsureSchemaAsync(new WarehouseModel([TestTables.Accounts]));
        var wrongType = ChangeFileWriter.WriteAccounts(folder.File("wrong.parquet"), [AccountRow.Sample(1, 1)], "DECIMAL(18,3)");

        var error = await Assert.ThrowsAsync<WarehouseException>(() =>
            warehouse.LoadAsync(new WarehouseLoad("sink", 1, [new TableChanges(TestTables.Accounts, [wrongType])], null)));

        Assert.Equal((WarehouseErrorKind.Permanent, 1), (error.Kind, error.Attempts));
        Assert.Contains("balance", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(logger.Entries, e => e.Id.Id == 5001);
    }

    [Fact]
    public async Task A_fenced_load_is_neither_retried_nor_wrapped()
    {
        var logger = new ListLogger<ResilientWarehouse>();
        await using var warehouse = new ResilientWarehouse(new DuckDbWarehouse(folder.File("f.duckdb")), Fast(), logger);
        await warehouse.EnsureSchemaAsync(new WarehouseModel([TestTables.Accounts]));
        await warehouse.LoadAsync(AccountsLoad());

        // A second "first" load: the warehouse already holds watermark 1.
        var fenced = await Assert.ThrowsAsync<WarehouseFencedException>(() => warehouse.LoadAsync(AccountsLoad() with { Watermark = 2 }));

        Assert.Equal(("sink", "accounts", (long?)null, (long?)1, 2L), (fenced.Pipeline, fenced.Table, fenced.ExpectedWatermark, fenced.FoundWatermark, fenced.Watermark));
        Assert.Equal(WarehouseErrorKind.Permanent, WarehouseErrors.Classify(fenced));
        Assert.DoesNotContain(logger.Entries, e => e.Id.Id is 5001 or 5002);
        Assert.Contains(logger.Entries, e => e.Id.Id == 5004);
        Assert.Equal(1, (await warehouse.ReadWatermarkAsync("sink", "accounts"))!.Value);
    }

    [Fact]
    public async Task An_attempt_past_its_timeout_is_rolled_back_and_the_retry_commits()
    {
        var logger = new ListLogger<ResilientWarehouse>();
        var engine = new DuckDbWarehouse(folder.File("t.duckdb"));
        var options = Fast(1);
        options.Timeout = TimeSpan.FromSeconds(1);
        await using var warehouse = new ResilientWarehouse(engine, options, logger);
        await warehouse.EnsureSchemaAsync(new WarehouseModel([TestTables.Accounts]));
        var slowOnce = 1;
        engine.OnLoadStep = (step, attempt) =>
        {
            // The first attempt holds its transaction open until the timeout has cancelled it (a condition, not a
            // fixed sleep: on a loaded machine the timeout's timer can fire late).
            if (step == "watermark" && Interlocked.Exchange(ref slowOnce, 0) == 1)
            {
                Assert.True(attempt.WaitHandle.WaitOne(TimeSpan.FromSeconds(60)), "the 1 s attempt timeout never cancelled the attempt");
            }
        };

        var result = await warehouse.LoadAsync(AccountsLoad());

        Assert.Equal(1, result.Inserted);
        Assert.Single(logger.Entries, e => e.Id.Id == 5001 && e.Message.Contains("TimeoutRejectedException", StringComparison.Ordinal));
        Assert.Equal(1, (await warehouse.ReadWatermarkAsync("sink", "accounts"))!.Value);
    }

    [Fact]
    public async Task Repeated_transient_failures_open_the_circuit_and_later_calls_fail_fast()
    {
        var options = Fast(0);
        options.BreakerMinimumThroughput = 2;
        options.BreakerFailureRatio = 0.5;
        options.BreakerSamplingDuration = TimeSpan.FromSeconds(30);
        options.BreakDuration = TimeSpan.FromSeconds(30);
        var engine = new PostgresWarehouse($"Host=127.0.0.1;Port={ClosedPort()};Database=bank;Username=sink;Timeout=3;Pooling=false", "bank");
        await using var warehouse = new ResilientWarehouse(engine, options);

        for (var i = 0; i < 2; i++)
        {
            var failure = await Assert.ThrowsAsync<WarehouseException>(() => warehouse.ReadWatermarkAsync("sink", "accounts"));
            Assert.IsType<NpgsqlException>(failure.InnerException, exactMatch: false);
        }

        var open = await Assert.ThrowsAsync<WarehouseException>(() => warehouse.ReadWatermarkAsync("sink", "accounts"));
        Assert.IsType<Polly.CircuitBreaker.BrokenCircuitException>(open.InnerException, exactMatch: false);
        Assert.Equal(WarehouseErrorKind.Transient, open.Kind);
        Assert.Contains("circuit is open", open.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(4060)]
    [InlineData(40197)]
    [InlineData(40501)]
    [InlineData(40613)]
    [InlineData(49918)]
    [InlineData(49919)]
    [InlineData(49920)]
    [InlineData(4221)]
    [InlineData(10928)]
    [InlineData(10929)]
    [InlineData(10053)]
    [InlineData(10054)]
    [InlineData(10060)]
    [InlineData(233)]
    [InlineData(64)]
    [InlineData(1205)]
    [InlineData(-2)]
    public void Azure_documented_transient_sql_errors_are_retried(int number) =>
        Assert.Contains(number, WarehouseErrors.TransientSqlErrorNumbers);

    [Theory]
    [InlineData(2627)] // primary key violation
    [InlineData(515)]  // NULL into NOT NULL
    [InlineData(208)]  // invalid object name
    [InlineData(18456)] // login failed
    [InlineData(229)]  // permission denied
    public void Data_schema_and_permission_errors_are_permanent(int number) =>
        Assert.DoesNotContain(number, WarehouseErrors.TransientSqlErrorNumbers);

    [Theory]
    [InlineData("40001", WarehouseErrorKind.Transient)]
    [InlineData("40P01", WarehouseErrorKind.Transient)]
    [InlineData("57P01", WarehouseErrorKind.Transient)]
    [InlineData("08006", WarehouseErrorKind.Transient)]
    [InlineData("53300", WarehouseErrorKind.Transient)]
    [InlineData("23505", WarehouseErrorKind.Permanent)]
    [InlineData("23502", WarehouseErrorKind.Permanent)]
    [InlineData("42P01", WarehouseErrorKind.Permanent)]
    [InlineData("28P01", WarehouseErrorKind.Permanent)]
    public void Postgres_errors_are_classified_by_sqlstate(string sqlState, WarehouseErrorKind expected) =>
        Assert.Equal(expected, WarehouseErrors.Classify(new PostgresException("message", "ERROR", "ERROR", sqlState)));

    [Fact]
    public void Wrapped_and_socket_errors_are_classified_by_their_cause()
    {
        Assert.Equal(WarehouseErrorKind.Transient, WarehouseErrors.Classify(new IOException("reset", new SocketException((int)SocketError.ConnectionReset))));
        Assert.Equal(WarehouseErrorKind.Transient, WarehouseErrors.Classify(new InvalidOperationException("wrapped", new TimeoutException())));
        Assert.Equal(WarehouseErrorKind.Permanent, WarehouseErrors.Classify(new InvalidDataException("bad file")));
    }
}

public sealed class WarehouseOptionsTests
{
    [Fact]
    public void The_defaults_are_valid_and_build_the_embedded_warehouse()
    {
        Assert.True(new WarehouseOptionsValidator().Validate(null, new WarehouseOptions()).Succeeded);
    }

    [Fact]
    public void Problems_name_the_option_and_the_fix_but_never_the_connection_string()
    {
        var options = new WarehouseOptions { Kind = "oracle", Schema = "Bank-1", ConnectionString = "Host=h;Password=s3cret" };
        options.Resilience.MaxRetries = -1;

        var result = new WarehouseOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith("Warehouse:Kind must be duckdb, postgres, sqlserver or synapse (got 'oracle'). Fix: ", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Warehouse:Schema ", StringComparison.Ordinal) && f.Contains("Fix: ", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Warehouse:Resilience:MaxRetries ", StringComparison.Ordinal));
        Assert.DoesNotContain(result.Failures!, f => f.Contains("s3cret", StringComparison.Ordinal));
    }

    [Fact]
    public void A_server_engine_without_a_connection_string_is_refused_at_start()
    {
        var result = new WarehouseOptionsValidator().Validate(null, new WarehouseOptions { Kind = "postgres" });

        Assert.Contains(result.Failures!, f => f.StartsWith("Warehouse:ConnectionString is required for Kind 'postgres'. Fix: set the environment variable Warehouse__ConnectionString", StringComparison.Ordinal));
        Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => WarehouseFactory.Create(new WarehouseOptions { Kind = "synapse" }));
    }

    [Theory]
    [InlineData("lots", false)]
    [InlineData("512", false)]
    [InlineData("512MB", true)]
    [InlineData("1.5GiB", true)]
    [InlineData("", true)]
    public void The_DuckDB_memory_limit_is_a_size_or_empty(string limit, bool valid)
    {
        var result = new WarehouseOptionsValidator().Validate(null, new WarehouseOptions { DuckDbMemoryLimit = limit });

        Assert.Equal(valid, result.Succeeded);
        if (!valid)
        {
            Assert.Contains(result.Failures!, f => f.StartsWith("Warehouse:DuckDbMemoryLimit must be a size such as 512MB", StringComparison.Ordinal) && f.Contains("Fix: ", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task The_embedded_warehouse_opens_with_its_memory_limit_applied()
    {
        using var folder = new TempFolder();
        await using var warehouse = WarehouseFactory.Create(new WarehouseOptions { DuckDbPath = folder.File("w/warehouse.duckdb"), DuckDbMemoryLimit = "300MB" });

        var duckDb = Assert.IsType<DuckDbWarehouse>(Assert.IsType<ResilientWarehouse>(warehouse).Inner);
        Assert.Equal("286.1 MiB", duckDb.Setting("memory_limit"));
    }

    [Fact]
    public async Task The_factory_builds_a_resilient_engine_of_the_configured_kind()
    {
        using var folder = new TempFolder();
        await using var warehouse = WarehouseFactory.Create(new WarehouseOptions { DuckDbPath = folder.File("w/warehouse.duckdb"), Schema = "bank" });

        Assert.IsType<ResilientWarehouse>(warehouse);
        Assert.Equal((WarehouseEngine.DuckDb, "bank"), (warehouse.Engine, warehouse.Schema));
        await warehouse.EnsureSchemaAsync(new WarehouseModel([TestTables.Accounts]));
        Assert.Null(await warehouse.ReadWatermarkAsync("sink", "accounts"));
        Assert.Equal(0, await warehouse.ExportAsync(new TableSchema("accounts", TestTables.Accounts.TargetColumns, []), folder.File("x.parquet")));
    }
}
