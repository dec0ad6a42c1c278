using BaloyiBank.Aggregator;
using BaloyiBank.Delta;
using BaloyiBank.Warehouse;

namespace BaloyiBank.Sink.Tests;

public sealed class SinkLoaderTests
{
    [Fact]
    public async Task DuckDbWarehouseEqualsGoldCurrentRowsAcrossLoadsAndCompaction()
    {
        await using var rig = await GoldRig.CreateAsync();
        await using var warehouse = rig.OpenDuckDb();
        using var loader = new SinkLoader(rig.Lake, warehouse, GoldRig.SinkOptions);

        var first = await rig.AddGoldAsync(15_000);
        var load = await loader.LoadAsync();
        Assert.NotNull(load);
        Assert.Equal(0, load.FromRound);
        Assert.Equal(first, load.ToRound);
        Assert.True(load.Load.Inserted > 0);
        await AssertMatchesAsync(rig, warehouse, first);

        // More rounds (and compactions at 4 files): only the new rounds' files are read; updates land.
        var second = await rig.AddGoldAsync(15_000);
        Assert.True(second > first);
        load = await loader.LoadAsync();
        Assert.NotNull(load);
        Assert.Equal(first, load.FromRound);
        Assert.Equal(second, load.ToRound);
        Assert.True(load.Load.Updated > 0);
        await AssertMatchesAsync(rig, warehouse, second);

        // Nothing new: no load.
        Assert.Null(await loader.LoadAsync());
        Assert.Equal(second, await loader.WatermarkAsync());
    }

    [Fact]
    public async Task A_new_warehouse_loads_gold_whose_compacted_change_files_were_vacuumed()
    {
        await using var rig = await GoldRig.CreateAsync();
        long round = 0;
        for (var i = 0; i < 6; i++)
        {
            // Six separate catch-ups: at least six rounds, so each change table passes the rig's compaction threshold of 4 files.
            round = await rig.AddGoldAsync(4_000);
        }

        // Every file compaction removed is deleted, as a vacuum does once the retention has passed.
        var deleted = 0;
        foreach (var schema in GoldTables.Business)
        {
            using var table = new DeltaTable(rig.Lake, GoldTables.ChangeTablePath(GoldRig.SinkOptions.GoldRoot, schema));
            deleted += (await table.VacuumAsync(TimeSpan.Zero)).Deleted.Count;
        }

        Assert.True(deleted > 0, "the rig's rounds should have compacted some change files");
        await using var warehouse = rig.OpenDuckDb("late-warehouse");
        using var loader = new SinkLoader(rig.Lake, warehouse, GoldRig.SinkOptions);
        var load = await loader.LoadAsync();
        Assert.NotNull(load);
        Assert.Equal(0, load.FromRound);
        Assert.Equal(round, load.ToRound);
        await AssertMatchesAsync(rig, warehouse, round);
    }

    [Fact]
    public async Task ReRunningALoadChangesZeroRows()
    {
        await using var rig = await GoldRig.CreateAsync();
        var round = await rig.AddGoldAsync(10_000);
        await using var warehouse = rig.OpenDuckDb();
        using (var loader = new SinkLoader(rig.Lake, warehouse, GoldRig.SinkOptions))
        {
            Assert.NotNull(await loader.LoadAsync());
        }

        // The same load again, straight through the port: every data file gold ever added, the same watermark.
        List<TableChanges> changes = [];
        foreach (var schema in GoldTables.Business)
        {
            using var table = new DeltaTable(rig.Lake, GoldStore.ChangeTablePath("gold", schema));
            var commits = await table.ReadChangesAsync(-1, (await table.LoadAsync()).Version);
            var adds = commits.SelectMany(c => c.Adds).Where(a => a.DataChange).ToList();
            var readSet = await table.GetReadSetAsync(schema, 0, adds);
            changes.Add(new TableChanges(SinkModel.For(schema), [.. readSet.Files.Select(f => f.LocalPath)]));
        }

        var again = await warehouse.LoadAsync(new WarehouseLoad("sink", round, changes, round));
        Assert.True(again.SourceRows > 0);
        Assert.Equal(0, again.Changed);

        // And a fresh loader (a restarted sink) resumes at the warehouse's watermark: nothing to do.
        using var restarted = new SinkLoader(rig.Lake, warehouse, GoldRig.SinkOptions);
        Assert.Null(await restarted.LoadAsync());
        var report = await SinkVerifier.VerifyAsync(rig.Lake, warehouse, GoldRig.SinkOptions, Path.Combine(rig.Root, "verify-again"));
        Assert.True(report.Matches);
    }

    [Fact]
    public async Task ATableAddedToTheModelLaterIsLoadedFirstThenAllMoveTogether()
    {
        await using var rig = await GoldRig.CreateAsync();
        var round = await rig.AddGoldAsync(10_000);
        await using var warehouse = rig.OpenDuckDb();
        using var loader = new SinkLoader(rig.Lake, warehouse, GoldRig.SinkOptions);
        Assert.Equal(0, await loader.WatermarkAsync()); // ensures the schema

        // A warehouse loaded before loan_status joined the model: three tables at the round, loan_status with no watermark.
        var changes = await AllGoldFilesAsync(rig, SinkModel.Tables.Where(t => t != SinkModel.LoanStatus));
        await warehouse.LoadAsync(new WarehouseLoad("sink", round, changes, null));
        Assert.Equal(0, await loader.WatermarkAsync());

        // One load can expect one watermark: the table furthest behind (none yet) loads alone, then nothing is left.
        var load = await loader.LoadAsync();
        Assert.NotNull(load);
        Assert.Equal((0L, round), (load.FromRound, load.ToRound));
        Assert.Equal([SinkModel.LoanStatus.Name], load.Load.Tables.Select(t => t.Table));
        Assert.Null(await loader.LoadAsync());
        var next = await rig.AddGoldAsync(5_000);
        Assert.Equal(4, (await loader.LoadAsync())!.Load.Tables.Count);
        await AssertMatchesAsync(rig, warehouse, next);
    }

    /// <summary>Every data file gold ever added to each table, as one load's changes.</summary>
    private static async Task<List<TableChanges>> AllGoldFilesAsync(GoldRig rig, IEnumerable<WarehouseTable> tables)
    {
        List<TableChanges> changes = [];
        foreach (var target in tables)
        {
            var schema = GoldTables.Business.Single(s => s.Name == target.Name);
            using var table = new DeltaTable(rig.Lake, GoldStore.ChangeTablePath("gold", schema));
            var commits = await table.ReadChangesAsync(-1, (await table.LoadAsync()).Version);
            var adds = commits.SelectMany(c => c.Adds).Where(a => a.DataChange).ToList();
            var readSet = await table.GetReadSetAsync(schema, 0, adds);
            changes.Add(new TableChanges(target, [.. readSet.Files.Select(f => f.LocalPath)]));
        }

        return changes;
    }

    [Fact]
    public async Task ReportingViewsAnswerFromTheLoadedTables()
    {
        await using var rig = await GoldRig.CreateAsync();
        await rig.AddGoldAsync(10_000);
        await using var warehouse = rig.OpenDuckDb();
        using var loader = new SinkLoader(rig.Lake, warehouse, GoldRig.SinkOptions);
        await loader.LoadAsync();

        var trends = new TableSchema("transaction_trends_daily",
            [new("event_date", ColumnType.Date), new("currency", ColumnType.String), new("transaction_count", ColumnType.Long, Nullable: true)], []);
        var top = new TableSchema("top_customers_by_net_position",
            [new("currency", ColumnType.String), new("position_rank", ColumnType.Long), new("country_rank", ColumnType.Long), new("customer_id", ColumnType.String),
                new("country", ColumnType.String, Nullable: true), new("net_position", ColumnType.Money)], []);
        var places = new TableSchema("amounts_by_place",
            [new("country", ColumnType.String), new("city", ColumnType.String), new("currency", ColumnType.String), new("total_amount", ColumnType.Money, Nullable: true)], []);
        var categories = new TableSchema("totals_by_category",
            [new("category", ColumnType.String), new("currency", ColumnType.String), new("total_amount", ColumnType.Money, Nullable: true)], []);
        foreach (var view in new[] { trends, top, places, categories })
        {
            Assert.True(await warehouse.ExportAsync(view, Path.Combine(rig.Root, $"{view.Name}.parquet")) > 0, view.Name);
        }

        using var connection = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        connection.Open();
        var topFile = Path.Combine(rig.Root, "top_customers_by_net_position.parquet");
        // Each row is in the top of its currency or of its country in that currency, and each rank is held once.
        Assert.Equal(0, Scalar(connection, $"SELECT count(*) FROM read_parquet('{topFile}') WHERE position_rank > {SinkModel.TopCustomers} AND country_rank > {SinkModel.TopCustomers}"));
        Assert.Equal(0, Scalar(connection,
            $"SELECT count(*) FROM (SELECT currency, position_rank FROM read_parquet('{topFile}') GROUP BY ALL HAVING count(*) > 1)"));
        Assert.Equal(0, Scalar(connection,
            $"SELECT count(*) FROM (SELECT currency, country, country_rank FROM read_parquet('{topFile}') GROUP BY ALL HAVING count(*) > 1)"));
    }

    private static long Scalar(DuckDB.NET.Data.DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task AssertMatchesAsync(GoldRig rig, IWarehouse warehouse, long round)
    {
        var report = await SinkVerifier.VerifyAsync(rig.Lake, warehouse, GoldRig.SinkOptions, Path.Combine(rig.Root, $"verify-{round}"));
        Assert.Equal(round, report.Watermark);
        Assert.Equal(round, report.GoldRound);
        Assert.All(report.Tables, t => Assert.True(t.Differences == 0, $"{t.Table}: {t.Missing} missing, {t.Unexpected} unexpected"));
        Assert.All(report.Tables, t => Assert.True(t.GoldRows > 0 && t.WarehouseRows == t.GoldRows, $"{t.Table}: {t.WarehouseRows} vs {t.GoldRows}"));
    }
}
