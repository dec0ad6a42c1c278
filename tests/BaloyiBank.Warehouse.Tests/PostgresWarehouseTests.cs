namespace BaloyiBank.Warehouse.Tests;

[CollectionDefinition(Name)]
public sealed class PostgresServerGroup : ICollectionFixture<PostgresServer>
{
    public const string Name = "postgres";
}

/// <summary>The contract on PostgreSQL 15: a real server, one schema per test.</summary>
[Collection(PostgresServerGroup.Name)]
public sealed class PostgresWarehouseTests(PostgresServer server) : WarehouseContractTests
{
    protected override Task<IWarehouse> OpenAsync(string schema) =>
        Task.FromResult<IWarehouse>(new PostgresWarehouse(server.ConnectionString, schema));

    protected override void OnLoadStep(IWarehouse warehouse, Action<string> hook) => ((PostgresWarehouse)warehouse).OnLoadStep = (step, _) => hook(step);

    [Fact]
    public void A_postgres_url_becomes_npgsql_keywords()
    {
        var keywords = PostgresWarehouse.ToKeywords("postgres://bank%40ops:p%3Ass@db.example:6543/warehouse?SSL%20Mode=Require");

        var builder = new Npgsql.NpgsqlConnectionStringBuilder(keywords);
        Assert.Equal(("db.example", 6543, "warehouse", "bank@ops", "p:ss"), (builder.Host, builder.Port, builder.Database, builder.Username, builder.Password));
        Assert.Equal(Npgsql.SslMode.Require, builder.SslMode);
        Assert.Equal("Host=h;Database=d", PostgresWarehouse.ToKeywords("Host=h;Database=d"));
    }

    [Fact]
    public async Task The_benchmark_runs_on_postgres_and_a_rerun_changes_nothing()
    {
        await using var warehouse = new PostgresWarehouse(server.ConnectionString, "b_" + Guid.NewGuid().ToString("N")[..10]);

        var result = await WarehouseBenchmark.RunAsync(warehouse, Folder.File("work"), rows: 2_000, changedShare: 0.05);

        Assert.Equal([2_000L, 100L, 0L], result.Figures.Select(f => f.Changed));
        Assert.Equal(WarehouseEngine.PostgreSql, result.Engine);
    }
}
