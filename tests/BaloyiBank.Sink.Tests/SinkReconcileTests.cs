using BaloyiBank.Aggregator;
using BaloyiBank.Warehouse;
using DuckDB.NET.Data;

namespace BaloyiBank.Sink.Tests;

/// <summary>
/// The sink after a gold generation switch: the warehouse's watermark counts rounds of the old generation, so the sink
/// reconciles the warehouse to the new gold's whole state, exactly once, deleting keys the new gold no longer has; then
/// it loads the new generation's rounds as usual. Real silver, real aggregator, real DuckDB warehouse.
/// </summary>
public sealed class SinkReconcileTests
{
    [Fact]
    public async Task After_a_gold_rebuild_the_warehouse_is_reconciled_once_and_keys_the_new_gold_lacks_are_deleted()
    {
        await using var rig = await GoldRig.CreateAsync();
        await rig.AddGoldAsync(6_000);
        // The fixture for a changed silver: silver as it stood after the first part, kept aside (a Delta folder copies whole).
        CopyFolder(Path.Combine(rig.Root, "lake", "silver"), Path.Combine(rig.Root, "lake", "silver_early"));
        var round = await rig.AddGoldAsync(6_000);
        await using var warehouse = rig.OpenDuckDb();
        using var loader = new SinkLoader(rig.Lake, warehouse, GoldRig.SinkOptions);
        await loader.CatchUpAsync();
        await AssertMatchesAsync(rig, warehouse, round, "before");
        var before = await BusinessRowsAsync(rig, warehouse, "before");

        // A rebuild from the same silver: the warehouse keeps every row's content; only the lineage columns are restamped.
        var same = await GoldGenerations.RebuildAsync(rig.Lake, new AggregatorOptions(), "silver", "test: the same silver");
        Assert.Equal(("gold/g0001", true), (same.Built.Root, same.Switched));
        var reconcile = await loader.LoadAsync();
        Assert.NotNull(reconcile);
        Assert.Equal(1, reconcile.Reconciled);
        Assert.Equal(same.Round, reconcile.ToRound);
        Assert.Equal((0L, 0L), (reconcile.Load.Inserted, reconcile.Load.Deleted));
        var kept = await BusinessRowsAsync(rig, warehouse, "same");
        Assert.All(before, table => Assert.True(table.Value.SequenceEqual(kept[table.Key]), $"{table.Key}: the rebuild changed the business columns of some rows"));
        await AssertMatchesAsync(rig, warehouse, same.Round, "same");
        // Exactly once: the generation is recorded with the load, and nothing is left to do.
        Assert.Equal(1, await loader.LoadedGenerationAsync());
        Assert.Null(await loader.LoadAsync());
        using (var other = new SinkLoader(rig.Lake, warehouse, GoldRig.SinkOptions))
        {
            Assert.Null(await other.LoadAsync());
        }

        // The new generation's rounds load incrementally (only-if-newer against the new generation's versions).
        var next = await rig.AddGoldAsync(3_000);
        var incremental = await loader.LoadAsync();
        Assert.NotNull(incremental);
        Assert.Null(incremental.Reconciled);
        Assert.Equal((same.Round, next), (incremental.FromRound, incremental.ToRound));
        Assert.True(incremental.Load.Changed > 0);
        await AssertMatchesAsync(rig, warehouse, next, "next");

        // A rebuild from the smaller silver: the accounts, customers, days and loans only the later events made are gone.
        var early = await GoldGenerations.RebuildAsync(rig.Lake, new AggregatorOptions(), "silver_early", "test: a smaller silver");
        Assert.Equal("gold/g0002", early.Built.Root);
        var rowsBefore = (await SinkVerifier.VerifyAsync(rig.Lake, warehouse, GoldRig.SinkOptions, Path.Combine(rig.Root, "count"))).Tables.Sum(t => t.WarehouseRows);
        var shrink = await loader.LoadAsync();
        Assert.NotNull(shrink);
        Assert.Equal(2, shrink.Reconciled);
        Assert.True(shrink.Load.Deleted > 0, "the smaller silver's gold should lack keys the warehouse holds");
        var after = await AssertMatchesAsync(rig, warehouse, early.Round, "early");
        Assert.Equal(rowsBefore - shrink.Load.Deleted + shrink.Load.Inserted, after.Tables.Sum(t => t.WarehouseRows));
        Assert.Equal(2, await loader.LoadedGenerationAsync());
        Assert.Null(await loader.LoadAsync());
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    private static async Task<SinkVerificationReport> AssertMatchesAsync(GoldRig rig, IWarehouse warehouse, long round, string name)
    {
        var report = await SinkVerifier.VerifyAsync(rig.Lake, warehouse, GoldRig.SinkOptions, Path.Combine(rig.Root, $"verify-{name}"));
        Assert.Equal((round, round), (report.Watermark, report.GoldRound));
        Assert.All(report.Tables, t => Assert.True(t.Differences == 0, $"{name} {t.Table}: {t.Missing} missing, {t.Unexpected} unexpected"));
        Assert.All(report.Tables, t => Assert.True(t.GoldRows > 0 && t.WarehouseRows == t.GoldRows, $"{name} {t.Table}: {t.WarehouseRows} vs {t.GoldRows}"));
        return report;
    }

    /// <summary>Every warehouse row without its lineage columns, per table, sorted: what the business sees.</summary>
    private static async Task<Dictionary<string, List<string>>> BusinessRowsAsync(GoldRig rig, IWarehouse warehouse, string name)
    {
        var rows = new Dictionary<string, List<string>>();
        using var connection = new DuckDBConnection(DuckDBConnectionStringBuilder.InMemoryConnectionString);
        connection.Open();
        foreach (var schema in GoldTables.Business)
        {
            var export = Path.Combine(rig.Root, $"rows-{name}-{schema.Name}.parquet");
            await warehouse.ExportAsync(schema, export);
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT CAST(COLUMNS(* EXCLUDE ({GoldTables.VersionColumn}, {GoldTables.UpdatedAtColumn})) AS VARCHAR) FROM read_parquet('{export}')";
            using var reader = command.ExecuteReader();
            var list = new List<string>();
            while (reader.Read())
            {
                list.Add(string.Join("|", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "∅" : reader.GetString(i))));
            }

            list.Sort(StringComparer.Ordinal);
            rows[schema.Name] = list;
        }

        return rows;
    }
}
