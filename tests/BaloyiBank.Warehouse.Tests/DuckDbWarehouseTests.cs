namespace BaloyiBank.Warehouse.Tests;

/// <summary>The contract on the embedded engine: a real DuckDB file per test.</summary>
public sealed class DuckDbWarehouseTests : WarehouseContractTests
{
    protected override Task<IWarehouse> OpenAsync(string schema) =>
        Task.FromResult<IWarehouse>(new DuckDbWarehouse(Folder.File($"{Guid.NewGuid():N}.duckdb"), schema));

    protected override void OnLoadStep(IWarehouse warehouse, Action<string> hook) => ((DuckDbWarehouse)warehouse).OnLoadStep = (step, _) => hook(step);

    [Fact]
    public async Task The_warehouse_file_survives_a_reopen_with_data_and_watermark()
    {
        var path = Folder.File("reopen.duckdb");
        await using (var first = new DuckDbWarehouse(path, "bank"))
        {
            await first.EnsureSchemaAsync(new WarehouseModel([TestTables.Accounts]));
            var file = ChangeFileWriter.WriteAccounts(Folder.File("a.parquet"), Enumerable.Range(0, 50).Select(i => AccountRow.Sample(i, 1)));
            await first.LoadAsync(new WarehouseLoad("sink", 12, [new TableChanges(TestTables.Accounts, [file])], null));
        }

        await using var second = new DuckDbWarehouse(path, "bank");
        Assert.Empty((await second.EnsureSchemaAsync(new WarehouseModel([TestTables.Accounts]))).MigrationsApplied);
        Assert.Equal(12, (await second.ReadWatermarkAsync("sink", "accounts"))!.Value);
        Assert.Equal(50, await second.ExportAsync(TestTables.TargetOf(TestTables.Accounts), Folder.File("out.parquet")));
    }

    [Fact]
    public async Task A_schema_named_like_the_database_file_is_not_ambiguous()
    {
        await using var warehouse = new DuckDbWarehouse(Folder.File("bank.duckdb"), "bank");
        await warehouse.EnsureSchemaAsync(new WarehouseModel([TestTables.Accounts]));
        var file = ChangeFileWriter.WriteAccounts(Folder.File("b.parquet"), [AccountRow.Sample(1, 1)]);

        var result = await warehouse.LoadAsync(new WarehouseLoad("sink", 1, [new TableChanges(TestTables.Accounts, [file])], null));

        Assert.Equal(1, result.Inserted);
    }

    [Fact]
    public async Task The_benchmark_reports_each_case_and_a_rerun_that_changes_nothing()
    {
        await using var warehouse = new DuckDbWarehouse(Folder.File("bench.duckdb"), "bench");

        var first = await WarehouseBenchmark.RunAsync(warehouse, Folder.File("work"), rows: 2_000, changedShare: 0.01);
        var second = await WarehouseBenchmark.RunAsync(warehouse, Folder.File("work"), rows: 2_000, changedShare: 0.01);

        Assert.Equal([2_000L, 20L, 0L], first.Figures.Select(f => f.Changed));
        Assert.Equal([2_000L, 20L, 20L], first.Figures.Select(f => f.SourceRows));
        Assert.Contains("inserts", first.Figures[0].Case, StringComparison.Ordinal);
        Assert.Contains("updates", second.Figures[0].Case, StringComparison.Ordinal);
        Assert.Equal([2_000L, 20L, 0L], second.Figures.Select(f => f.Changed));
        Assert.All(first.Figures, f => Assert.True(f.RowsPerSecond > 0));
    }
}
