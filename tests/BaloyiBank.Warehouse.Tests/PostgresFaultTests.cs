namespace BaloyiBank.Warehouse.Tests;

/// <summary>A PostgreSQL of the fault tests' own (never the shared one: they stop and start it).</summary>
public sealed class PrivatePostgresServer : IAsyncLifetime
{
    public PostgresServer Server { get; } = new();

    public Task InitializeAsync() => Server.InitializeAsync(own: true);

    public Task DisposeAsync() => Server.DisposeAsync();
}

/// <summary>
/// A private PostgreSQL, stopped in the middle of a load (after the MERGE, before the watermark and commit) and
/// started again: the interrupted load leaves neither data nor watermark behind, and the resilient warehouse
/// retries until the server is back and commits the whole load once.
/// </summary>
public sealed class PostgresFaultTests(PrivatePostgresServer fixture) : IClassFixture<PrivatePostgresServer>, IDisposable
{
    private readonly PostgresServer server = fixture.Server;
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public async Task A_server_stopped_mid_load_leaves_no_partial_load_and_the_retry_recovers()
    {
        var engine = new PostgresWarehouse(server.ConnectionString, "bank");
        var logger = new ListLogger<ResilientWarehouse>();
        var options = new WarehouseResilienceOptions
        {
            MaxRetries = 20,
            BaseDelay = TimeSpan.FromMilliseconds(200),
            MaxDelay = TimeSpan.FromSeconds(1),
            BreakerMinimumThroughput = 100,
        };
        await using var warehouse = new ResilientWarehouse(engine, options, logger);
        await warehouse.EnsureSchemaAsync(new WarehouseModel([TestTables.Accounts]));
        var baseline = ChangeFileWriter.WriteAccounts(folder.File("v1.parquet"), Enumerable.Range(0, 1_000).Select(i => AccountRow.Sample(i, 1)));
        await warehouse.LoadAsync(new WarehouseLoad("sink", 1, [new TableChanges(TestTables.Accounts, [baseline])], null));

        // First attempt: the server goes down after the MERGE ran in the open transaction.
        var change = ChangeFileWriter.WriteAccounts(folder.File("v2.parquet"), Enumerable.Range(500, 1_000).Select(i => AccountRow.Sample(i, 2) with { Balance = 2m }));
        Task? restart = null;
        var stops = 0;
        engine.OnLoadStep = (step, _) =>
        {
            if (step == "merged:accounts" && Interlocked.Increment(ref stops) == 1)
            {
                server.StopAsync().GetAwaiter().GetResult();
                restart = Task.Run(async () =>
                {
                    // While it is down, nothing of the interrupted load is visible (checked after the restart too).
                    await Task.Delay(TimeSpan.FromSeconds(1));
                    await server.StartAsync();
                }, CancellationToken.None);
            }
        };

        var result = await warehouse.LoadAsync(new WarehouseLoad("sink", 2, [new TableChanges(TestTables.Accounts, [change])], 1));
        await restart!;

        Assert.Equal((500L, 500L), (result.Inserted, result.Updated));
        Assert.Contains(logger.Entries, e => e.Id.Id == 5001);
        Assert.Equal(2, (await warehouse.ReadWatermarkAsync("sink", "accounts"))!.Value);
        var path = folder.File("export.parquet");
        await warehouse.ExportAsync(TestTables.TargetOf(TestTables.Accounts), path);
        var rows = ChangeFileWriter.ReadParquet(path, "account_id");
        Assert.Equal(1_500, rows.Count);
        Assert.Equal(1_000, rows.Count(r => (long)r[8]! == 2));
        Assert.All(rows.Where(r => (long)r[8]! == 2), r => Assert.Equal(2m, r[2]));
    }

    [Fact]
    public async Task A_load_cut_by_a_stopped_server_without_retries_changes_nothing()
    {
        var engine = new PostgresWarehouse(server.ConnectionString, "bank2");
        await using var warehouse = new ResilientWarehouse(engine, new WarehouseResilienceOptions { MaxRetries = 0, BreakerMinimumThroughput = 100 });
        await warehouse.EnsureSchemaAsync(new WarehouseModel([TestTables.Accounts]));
        var baseline = ChangeFileWriter.WriteAccounts(folder.File("b1.parquet"), Enumerable.Range(0, 100).Select(i => AccountRow.Sample(i, 1)));
        await warehouse.LoadAsync(new WarehouseLoad("sink", 1, [new TableChanges(TestTables.Accounts, [baseline])], null));
        engine.OnLoadStep = (step, _) =>
        {
            if (step == "merged:accounts")
            {
                server.StopAsync().GetAwaiter().GetResult();
            }
        };

        var change = ChangeFileWriter.WriteAccounts(folder.File("b2.parquet"), Enumerable.Range(0, 200).Select(i => AccountRow.Sample(i, 2)));
        var error = await Assert.ThrowsAsync<WarehouseException>(() => warehouse.LoadAsync(new WarehouseLoad("sink", 2, [new TableChanges(TestTables.Accounts, [change])], 1)));
        engine.OnLoadStep = null;
        await server.StartAsync();

        Assert.Equal(WarehouseErrorKind.Transient, error.Kind);
        Assert.Equal(1, (await ReadWatermarkWhenUpAsync(warehouse))!.Value);
        var path = folder.File("b-export.parquet");
        await warehouse.ExportAsync(TestTables.TargetOf(TestTables.Accounts), path);
        var rows = ChangeFileWriter.ReadParquet(path, "account_id");
        Assert.Equal(100, rows.Count);
        Assert.All(rows, r => Assert.Equal(1L, r[8]));
    }

    // The pool may hand out a connection broken by the restart once; the next one is fresh.
    private static async Task<WarehouseWatermark?> ReadWatermarkWhenUpAsync(ResilientWarehouse warehouse)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await warehouse.ReadWatermarkAsync("sink", "accounts");
            }
            catch (WarehouseException) when (attempt < 5)
            {
                await Task.Delay(200);
            }
        }
    }
}
