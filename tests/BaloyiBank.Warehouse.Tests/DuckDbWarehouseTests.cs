namespace BaloyiBank.Warehouse.Tests;

/// <summary>The contract on the embedded engine: a real DuckDB file per test.</summary>
public sealed class DuckDbWarehouseTests : WarehouseContractTests
{
    protected override Task<IWarehouse> OpenAsync(string schema) =>
        Task.FromResult<IWarehouse>(new DuckDbWarehouse(Folder.File($"{Guid.NewGuid():N}.duckdb"), schema));

    protected override void OnLoadStep(IWarehouse warehouse, Action<string> hook) => ((DuckDbWarehouse)warehouse).OnLoadStep = hook;

    [Fact]
    public async Task The_warehouse_file_survives_a_reopen_with_data_and_watermark()
    {
        var path = Folder.File("reopen.duckdb");
        await using (var first = new DuckDbWarehouse(path, "bank"))
        {
            await first.EnsureSchemaAsync(new WarehouseModel([TestTables.Accounts]));
            var file = ChangeFileWriter.WriteAccounts(Folder.File("a.parquet"), Enumerable.Range(0, 50).Select(i => AccountRow.Sample(i, 1)));
            await first.LoadAsync(new WarehouseLoad("sink", 12, [new TableChanges(TestTables.Accounts, [file])]));
        }

        await using var second = new DuckDbWarehouse(path, "bank");
        Assert.Empty((await second.EnsureSchemaAsync(new WarehouseModel([TestTables.Accounts]))).MigrationsApplied);
        Assert.Equal(12, (await second.ReadWatermarkAsync("sink", "accounts"))!.Value);
        Assert.Equal(50, await second.ExportAsync(TestTables.TargetOf(TestTables.Accounts), Folder.File("out.parquet")));
    }
}
