using BaloyiBank.Delta;
using FsCheck;
using FsCheck.Fluent;

namespace BaloyiBank.Warehouse.Tests;

/// <summary>
/// The warehouse port's contract: every engine that runs here passes it against the real engine
/// (DuckDB file, PostgreSQL server). Each test gets its own empty schema (or file).
/// </summary>
public abstract class WarehouseContractTests : IAsyncLifetime
{
    private readonly List<IWarehouse> opened = [];

    protected TempFolder Folder { get; } = new();

    /// <summary>A new warehouse on an empty schema.</summary>
    protected abstract Task<IWarehouse> OpenAsync(string schema);

    /// <summary>Installs the engine's in-transaction test hook.</summary>
    protected abstract void OnLoadStep(IWarehouse warehouse, Action<string> hook);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var warehouse in opened)
        {
            await warehouse.DisposeAsync();
        }

        Folder.Dispose();
    }

    private static WarehouseModel Model(params WarehouseView[] views) => new([TestTables.Accounts, TestTables.Positions],
        [new WarehouseMigration(1, "notes table", d => [$"CREATE TABLE {d.Table("notes")} ({d.Quote("id")} {d.TypeName(new ColumnSchema("id", ColumnType.Long))} NOT NULL)"])],
        views);

    private async Task<IWarehouse> ReadyAsync()
    {
        var warehouse = await OpenAsync("t_" + Guid.NewGuid().ToString("N")[..10]);
        opened.Add(warehouse);
        await warehouse.EnsureSchemaAsync(Model());
        return warehouse;
    }

    private string Accounts(string name, IEnumerable<AccountRow> rows) => ChangeFileWriter.WriteAccounts(Folder.File(name + ".parquet"), rows);

    private static WarehouseLoad Load(long? expected, long watermark, params string[] files) =>
        new("sink", watermark, [new TableChanges(TestTables.Accounts, files)], expected);

    private async Task<Dictionary<string, object?[]>> RowsAsync(IWarehouse warehouse)
    {
        var path = Folder.File($"export-{Guid.NewGuid():N}.parquet");
        await warehouse.ExportAsync(TestTables.TargetOf(TestTables.Accounts), path);
        return ChangeFileWriter.ReadParquet(path, "account_id").ToDictionary(r => (string)r[0]!);
    }

    [Fact]
    public async Task Ensure_schema_is_idempotent_and_applies_each_migration_once()
    {
        var warehouse = await OpenAsync("t_" + Guid.NewGuid().ToString("N")[..10]);
        opened.Add(warehouse);

        var first = await warehouse.EnsureSchemaAsync(Model());
        var second = await warehouse.EnsureSchemaAsync(Model());

        Assert.Equal([1], first.MigrationsApplied);
        Assert.Empty(second.MigrationsApplied);
        Assert.Equal(1, second.CurrentVersion);
        var withNext = Model() with { Migrations = [.. Model().Migrations!, new WarehouseMigration(2, "notes text", d => [$"ALTER TABLE {d.Table("notes")} ADD {(d.Engine is WarehouseEngine.SqlServer or WarehouseEngine.Synapse ? string.Empty : "COLUMN ")}{d.Quote("note")} {d.TypeName(new ColumnSchema("note", ColumnType.String))}"])] };
        var third = await warehouse.EnsureSchemaAsync(withNext);
        Assert.Equal([2], third.MigrationsApplied);
        Assert.Equal(2, third.CurrentVersion);
        Assert.Empty(await RowsAsync(warehouse));
    }

    [Fact]
    public async Task Watermark_is_null_before_the_first_load_and_moves_with_it()
    {
        var warehouse = await ReadyAsync();
        Assert.Null(await warehouse.ReadWatermarkAsync("sink", "accounts"));

        var result = await warehouse.LoadAsync(Load(null, 7, Accounts("a", Enumerable.Range(0, 100).Select(i => AccountRow.Sample(i, 1)))));

        Assert.Equal(100, result.Inserted);
        Assert.Equal(0, result.Updated + result.Deleted);
        Assert.Equal(100, result.SourceRows);
        var watermark = await warehouse.ReadWatermarkAsync("sink", "accounts");
        Assert.Equal(7, watermark!.Value);
        Assert.Null(await warehouse.ReadWatermarkAsync("other", "accounts"));
        Assert.Equal(100, (await RowsAsync(warehouse)).Count);
    }

    [Fact]
    public async Task Updates_only_where_the_source_version_is_newer_and_never_regresses()
    {
        var warehouse = await ReadyAsync();
        await warehouse.LoadAsync(Load(null, 1, Accounts("v5", Enumerable.Range(0, 10).Select(i => AccountRow.Sample(i, 5)))));

        // Keys 0-4 arrive older (3), keys 5-9 newer (7) with new balances.
        var mixed = Enumerable.Range(0, 10).Select(i => AccountRow.Sample(i, i < 5 ? 3 : 7) with { Balance = 1000m + i });
        var result = await warehouse.LoadAsync(Load(1, 2, Accounts("mixed", mixed)));

        Assert.Equal(0, result.Inserted);
        Assert.Equal(5, result.Updated);
        var rows = await RowsAsync(warehouse);
        for (var i = 0; i < 10; i++)
        {
            var row = rows[$"acc-{i:D6}"];
            Assert.Equal(i < 5 ? 5L : 7L, row[8]);
            Assert.Equal(i < 5 ? AccountRow.Sample(i, 5).Balance : 1000m + i, row[2]);
        }

        // An entirely older load afterwards changes nothing, even with the watermark moving.
        var older = await warehouse.LoadAsync(Load(2, 3, Accounts("older", Enumerable.Range(0, 10).Select(i => AccountRow.Sample(i, 1) with { Balance = -1m }))));
        Assert.Equal(0, older.Changed);
        Assert.DoesNotContain((await RowsAsync(warehouse)).Values, r => (decimal)r[2]! == -1m);
        Assert.Equal(3, (await warehouse.ReadWatermarkAsync("sink", "accounts"))!.Value);
    }

    [Fact]
    public async Task Deletes_only_flagged_newer_rows_and_never_inserts_a_delete()
    {
        var warehouse = await ReadyAsync();
        await warehouse.LoadAsync(Load(null, 1, Accounts("base", Enumerable.Range(0, 6).Select(i => AccountRow.Sample(i, 5)))));

        var changes = new[]
        {
            AccountRow.Sample(0, 6, deleted: true),  // newer delete: goes
            AccountRow.Sample(1, 4, deleted: true),  // older delete: ignored
            AccountRow.Sample(2, 6),                 // newer, not flagged: updated
            AccountRow.Sample(99, 1, deleted: true), // delete of an unknown key: nothing
        };
        var result = await warehouse.LoadAsync(Load(1, 2, Accounts("deletes", changes)));

        Assert.Equal((0L, 1L, 1L), (result.Inserted, result.Updated, result.Deleted));
        var rows = await RowsAsync(warehouse);
        Assert.Equal(["acc-000001", "acc-000002", "acc-000003", "acc-000004", "acc-000005"], rows.Keys.Order());
        Assert.Equal(5L, rows["acc-000001"][8]);
    }

    [Fact]
    public async Task Source_duplicates_are_reduced_to_the_newest_row_per_key_across_files()
    {
        var warehouse = await ReadyAsync();
        var first = Accounts("d1", [AccountRow.Sample(1, 1) with { Balance = 1m }, AccountRow.Sample(1, 3) with { Balance = 3m }, AccountRow.Sample(2, 1)]);
        var second = Accounts("d2", [AccountRow.Sample(1, 2) with { Balance = 2m }, AccountRow.Sample(2, 9, deleted: true), AccountRow.Sample(2, 4)]);

        var result = await warehouse.LoadAsync(Load(null, 1, first, second));

        // Key 1: version 3 wins. Key 2: its newest row (9) is a delete of a key the table does not hold: nothing.
        Assert.Equal(6, result.SourceRows);
        Assert.Equal(1, result.Inserted);
        var rows = await RowsAsync(warehouse);
        Assert.Single(rows);
        Assert.Equal(3m, rows["acc-000001"][2]);
        Assert.Equal(3L, rows["acc-000001"][8]);
    }

    /// <summary>
    /// Any sequence of loads (keys repeated within and across files, older and newer versions, deletes) ends with the
    /// rows a plain model of the semantics holds, and every load reports the model's inserted, updated and deleted
    /// counts: newest row per key (a delete first at equal versions), applied only when newer than the target.
    /// </summary>
    [Fact]
    public void Loads_match_a_model_of_dedup_and_only_if_newer_with_exact_counts()
    {
        var row = Gen.Choose(0, 24).SelectMany(key => Gen.Choose(1, 6), (key, version) => (key, version))
            .SelectMany(kv => Gen.Frequency((5, Gen.Constant(false)), (1, Gen.Constant(true))), (kv, deleted) => (kv.key, kv.version, deleted));
        var file = Gen.Choose(1, 12).SelectMany(n => Gen.ListOf(row, n), (_, rows) => rows);
        var load = Gen.Choose(1, 3).SelectMany(n => Gen.ListOf(file, n), (_, files) => files);
        var loads = Gen.Choose(1, 3).SelectMany(n => Gen.ListOf(load, n), (_, l) => l).ToArbitrary();

        var run = 0;
        Prop.ForAll(loads, plan =>
        {
            var warehouse = ReadyAsync().GetAwaiter().GetResult();
            var model = new Dictionary<int, long>();
            var watermark = 0;
            foreach (var files in plan)
            {
                var paths = files.Select((rows, i) => Accounts($"p{++run}-{i}", rows.Select(r => AccountRow.Sample(r.key, r.version, r.deleted)))).ToArray();
                var newest = files.SelectMany(f => f).GroupBy(r => r.key)
                    .Select(g => g.OrderByDescending(r => r.version).ThenByDescending(r => r.deleted).First());
                long inserted = 0, updated = 0, deleted = 0;
                foreach (var (key, version, isDelete) in newest)
                {
                    if (model.TryGetValue(key, out var held))
                    {
                        if (version > held && isDelete)
                        {
                            model.Remove(key);
                            deleted++;
                        }
                        else if (version > held)
                        {
                            model[key] = version;
                            updated++;
                        }
                    }
                    else if (!isDelete)
                    {
                        model[key] = version;
                        inserted++;
                    }
                }

                var result = warehouse.LoadAsync(Load(watermark == 0 ? null : watermark, watermark + 1, paths)).GetAwaiter().GetResult();
                watermark++;
                Assert.Equal((inserted, updated, deleted), (result.Inserted, result.Updated, result.Deleted));
                Assert.Equal(files.Sum(f => f.Count), result.SourceRows);
            }

            var rows = RowsAsync(warehouse).GetAwaiter().GetResult();
            Assert.Equal(model.Keys.Select(k => $"acc-{k:D6}").Order(), rows.Keys.Order());
            Assert.All(model, kv => Assert.Equal(kv.Value, (long)rows[$"acc-{kv.Key:D6}"][8]!));
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(15));
    }

    [Fact]
    public async Task Rerunning_the_same_load_changes_zero_rows()
    {
        var warehouse = await ReadyAsync();
        var files = new[]
        {
            Accounts("r1", Enumerable.Range(0, 500).Select(i => AccountRow.Sample(i, 1 + (i % 3)))),
            Accounts("r2", Enumerable.Range(250, 500).Select(i => AccountRow.Sample(i, 2, deleted: i % 10 == 0))),
        };
        var first = await warehouse.LoadAsync(Load(null, 4, files));
        var before = await RowsAsync(warehouse);

        var again = await warehouse.LoadAsync(Load(4, 4, files));

        Assert.True(first.Changed > 0);
        Assert.Equal(0, again.Changed);
        var after = await RowsAsync(warehouse);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        Assert.All(before, kv => Assert.Equal(kv.Value, after[kv.Key]));
    }

    [Fact]
    public async Task A_failing_row_in_any_table_leaves_data_and_watermark_unchanged()
    {
        var warehouse = await ReadyAsync();
        await warehouse.LoadAsync(new WarehouseLoad("sink", 1,
            [new TableChanges(TestTables.Positions, []), new TableChanges(TestTables.Accounts, [Accounts("base", Enumerable.Range(0, 10).Select(i => AccountRow.Sample(i, 1)))])], null));
        var before = await RowsAsync(warehouse);
        var positions = ChangeFileWriter.WritePositions(Folder.File("p.parquet"), [("acc-000001", new DateOnly(2026, 1, 1), 10m, 1, 2)]);
        var bad = ChangeFileWriter.WriteAccountsWithNullCustomer(Folder.File("bad.parquet"),
            Enumerable.Range(0, 20).Select(i => AccountRow.Sample(i, 2) with { Balance = 77m }), nullForAccount: "acc-000015");

        // Positions merge first (fine), then the accounts file's NULL customer fails the whole load.
        var load = new WarehouseLoad("sink", 2, [new TableChanges(TestTables.Positions, [positions]), new TableChanges(TestTables.Accounts, [bad])], 1);
        var error = await Assert.ThrowsAnyAsync<Exception>(() => warehouse.LoadAsync(load));

        Assert.IsNotType<WarehouseFencedException>(error);
        Assert.Equal(1, (await warehouse.ReadWatermarkAsync("sink", "accounts"))!.Value);
        Assert.Equal(1, (await warehouse.ReadWatermarkAsync("sink", "positions"))!.Value);
        var after = await RowsAsync(warehouse);
        Assert.All(before, kv => Assert.Equal(kv.Value, after[kv.Key]));
        Assert.Equal(before.Count, after.Count);
        var positionsPath = Folder.File("positions-export.parquet");
        Assert.Equal(0, await warehouse.ExportAsync(TestTables.TargetOf(TestTables.Positions), positionsPath));
    }

    [Fact]
    public async Task A_load_cancelled_before_its_commit_leaves_data_and_watermark_unchanged()
    {
        var warehouse = await ReadyAsync();
        await warehouse.LoadAsync(Load(null, 1, Accounts("base", Enumerable.Range(0, 10).Select(i => AccountRow.Sample(i, 1)))));
        using var cancel = new CancellationTokenSource();
        OnLoadStep(warehouse, step =>
        {
            if (step == "watermark")
            {
                cancel.Cancel();
            }
        });

        var newer = Accounts("newer", Enumerable.Range(0, 20).Select(i => AccountRow.Sample(i, 2) with { Balance = 5m }));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => warehouse.LoadAsync(Load(1, 2, newer), cancel.Token));

        OnLoadStep(warehouse, _ => { });
        Assert.Equal(1, (await warehouse.ReadWatermarkAsync("sink", "accounts"))!.Value);
        var rows = await RowsAsync(warehouse);
        Assert.Equal(10, rows.Count);
        Assert.All(rows.Values, r => Assert.Equal(1L, r[8]));

        // The same load then commits in full.
        var retried = await warehouse.LoadAsync(Load(1, 2, newer));
        Assert.Equal((10L, 10L), (retried.Inserted, retried.Updated));
    }

    [Fact]
    public async Task A_load_expecting_a_stale_watermark_is_fenced_and_changes_nothing()
    {
        var warehouse = await ReadyAsync();
        await warehouse.LoadAsync(new WarehouseLoad("sink", 1,
            [new TableChanges(TestTables.Positions, []), new TableChanges(TestTables.Accounts, [Accounts("base", Enumerable.Range(0, 10).Select(i => AccountRow.Sample(i, 1)))])], null));
        await warehouse.LoadAsync(new WarehouseLoad("sink", 2,
            [new TableChanges(TestTables.Positions, []), new TableChanges(TestTables.Accounts, [Accounts("second", Enumerable.Range(0, 5).Select(i => AccountRow.Sample(i, 2)))])], 1));
        var before = await RowsAsync(warehouse);

        // A loader that read watermark 1 before the second load committed (a paused sink): newer versions and new keys
        // in both tables, which would all land if it were not fenced.
        var positions = ChangeFileWriter.WritePositions(Folder.File("stale-p.parquet"), [("acc-000001", new DateOnly(2026, 1, 1), 10m, 1, 3)]);
        var stale = new WarehouseLoad("sink", 3,
            [new TableChanges(TestTables.Positions, [positions]), new TableChanges(TestTables.Accounts, [Accounts("stale", Enumerable.Range(0, 20).Select(i => AccountRow.Sample(i, 3) with { Balance = -3m }))])], 1);
        var fenced = await Assert.ThrowsAsync<WarehouseFencedException>(() => warehouse.LoadAsync(stale));

        Assert.Equal(("sink", (long?)1, (long?)2, 3L), (fenced.Pipeline, fenced.ExpectedWatermark, fenced.FoundWatermark, fenced.Watermark));
        Assert.Equal("accounts", fenced.Table); // the first table in name order
        Assert.Equal(warehouse.Engine, fenced.Engine);
        Assert.Contains("expected watermark 1 but found 2", fenced.Message, StringComparison.Ordinal);
        Assert.Equal(2, (await warehouse.ReadWatermarkAsync("sink", "accounts"))!.Value);
        Assert.Equal(2, (await warehouse.ReadWatermarkAsync("sink", "positions"))!.Value);
        var after = await RowsAsync(warehouse);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        Assert.All(before, kv => Assert.Equal(kv.Value, after[kv.Key]));
        Assert.Equal(0, await warehouse.ExportAsync(TestTables.TargetOf(TestTables.Positions), Folder.File("stale-positions.parquet")));

        // The loader that re-reads the watermark loads from there.
        var fresh = await warehouse.LoadAsync(stale with { ExpectedWatermark = 2 });
        Assert.Equal((11L, 10L), (fresh.Inserted, fresh.Updated)); // 10 new accounts and the position; 10 accounts newer
        Assert.Equal(3, (await warehouse.ReadWatermarkAsync("sink", "accounts"))!.Value);
    }

    [Fact]
    public async Task A_replacing_load_makes_the_table_equal_its_files_whatever_the_versions_and_records_the_generation_once()
    {
        var warehouse = await ReadyAsync();
        await warehouse.LoadAsync(Load(null, 50, Accounts("old", Enumerable.Range(0, 10).Select(i => AccountRow.Sample(i, 40)))));
        await warehouse.LoadAsync(new WarehouseLoad("sink", 51, [new TableChanges(TestTables.Positions,
            [ChangeFileWriter.WritePositions(Folder.File("old-p.parquet"), [("acc-000001", new DateOnly(2026, 1, 1), 10m, 1, 45)])])], null));
        Assert.Null(await warehouse.ReadWatermarkAsync("sink", WarehouseLoad.SourceGenerationName));

        // The new state (a rebuilt source whose versions restart at 1): keys 0-3 the same but version, 4-5 changed, 6-9
        // gone, 10-11 new, and 12 present only as a delete; an older duplicate of key 4 that must lose.
        List<AccountRow> state =
        [
            .. Enumerable.Range(0, 4).Select(i => AccountRow.Sample(i, 40)),
            .. Enumerable.Range(4, 2).Select(i => AccountRow.Sample(i, 2) with { Balance = 7m }),
            .. Enumerable.Range(10, 2).Select(i => AccountRow.Sample(i, 2)),
            AccountRow.Sample(12, 2, deleted: true),
            AccountRow.Sample(4, 1) with { Balance = -1m },
        ];
        var replace = new WarehouseLoad("sink", 3,
            [new TableChanges(TestTables.Accounts, [Accounts("state", state)]), new TableChanges(TestTables.Positions, [])], null)
        { Replace = true, SourceGeneration = 1 };

        // Fenced like any load: it expects the watermarks it read.
        await Assert.ThrowsAsync<WarehouseFencedException>(() => warehouse.LoadAsync(replace with { ExpectedWatermark = 49 }));
        Assert.Null(await warehouse.ReadWatermarkAsync("sink", WarehouseLoad.SourceGenerationName));

        // Accounts and positions hold different watermarks here (50, 51): one replace per table group, as the sink does per expected value.
        var accounts = await warehouse.LoadAsync(replace with { Changes = [replace.Changes[0]], ExpectedWatermark = 50 });
        var positions = await warehouse.LoadAsync(replace with { Changes = [replace.Changes[1]], ExpectedWatermark = 51 });
        Assert.Equal((2L, 2L, 4L), (accounts.Inserted, accounts.Updated, accounts.Deleted));
        Assert.Equal((0L, 0L, 1L), (positions.Inserted, positions.Updated, positions.Deleted));
        var rows = await RowsAsync(warehouse);
        Assert.Equal(["acc-000000", "acc-000001", "acc-000002", "acc-000003", "acc-000004", "acc-000005", "acc-000010", "acc-000011"], rows.Keys.Order());
        Assert.Equal(7m, rows["acc-000004"][2]);
        Assert.Equal(2L, rows["acc-000004"][8]);
        Assert.Equal(1, (await warehouse.ReadWatermarkAsync("sink", WarehouseLoad.SourceGenerationName))!.Value);
        Assert.Equal(3, (await warehouse.ReadWatermarkAsync("sink", "accounts"))!.Value);
        Assert.Equal(0, await warehouse.ExportAsync(TestTables.TargetOf(TestTables.Positions), Folder.File("replaced-positions.parquet")));

        // The same state again changes 0 rows; an ordinary load afterwards MERGEs only-if-newer against the new versions.
        var again = await warehouse.LoadAsync(replace with { Changes = [replace.Changes[0]], ExpectedWatermark = 3, SourceGeneration = 2 });
        Assert.Equal(0, again.Changed);
        Assert.Equal(2, (await warehouse.ReadWatermarkAsync("sink", WarehouseLoad.SourceGenerationName))!.Value);
        var next = await warehouse.LoadAsync(Load(3, 4, Accounts("next", [AccountRow.Sample(4, 3) with { Balance = 8m }, AccountRow.Sample(5, 1) with { Balance = 9m }])));
        Assert.Equal((0L, 1L), (next.Inserted, next.Updated));
        Assert.Equal(8m, (await RowsAsync(warehouse))["acc-000004"][2]);
    }

    [Fact]
    public async Task A_first_load_is_fenced_when_a_watermark_exists_and_an_expected_one_when_none_does()
    {
        var warehouse = await ReadyAsync();
        var wrongFirst = await Assert.ThrowsAsync<WarehouseFencedException>(() =>
            warehouse.LoadAsync(Load(5, 6, Accounts("none", [AccountRow.Sample(1, 1)]))));
        Assert.Equal(((long?)5, (long?)null), (wrongFirst.ExpectedWatermark, wrongFirst.FoundWatermark));
        Assert.Null(await warehouse.ReadWatermarkAsync("sink", "accounts"));
        Assert.Empty(await RowsAsync(warehouse));

        await warehouse.LoadAsync(Load(null, 1, Accounts("first", Enumerable.Range(0, 10).Select(i => AccountRow.Sample(i, 1)))));
        var before = await RowsAsync(warehouse);

        var again = await Assert.ThrowsAsync<WarehouseFencedException>(() =>
            warehouse.LoadAsync(Load(null, 2, Accounts("again", Enumerable.Range(0, 20).Select(i => AccountRow.Sample(i, 2) with { Balance = -2m })))));

        Assert.Equal(((long?)null, (long?)1, 2L), (again.ExpectedWatermark, again.FoundWatermark, again.Watermark));
        Assert.Contains("expected watermark none but found 1", again.Message, StringComparison.Ordinal);
        Assert.Equal(1, (await warehouse.ReadWatermarkAsync("sink", "accounts"))!.Value);
        var after = await RowsAsync(warehouse);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        Assert.All(before, kv => Assert.Equal(kv.Value, after[kv.Key]));
    }

    /// <summary>
    /// Two loaders build their loads from the same watermark and commit at the same time (the first to set the watermark
    /// holds its transaction open a moment, so the second runs into it): exactly one commits, the other is fenced,
    /// and the warehouse holds exactly the winner's rows and watermark. For a first load (none expected) and a later one.
    /// </summary>
    [Fact]
    public async Task Two_loads_racing_from_the_same_expected_watermark_commit_exactly_once()
    {
        foreach (var expected in new long?[] { null, 1 })
        {
            var warehouse = await ReadyAsync();
            if (expected is { } start)
            {
                await warehouse.LoadAsync(Load(null, start, Accounts($"base-{start}", Enumerable.Range(0, 10).Select(i => AccountRow.Sample(i, 1)))));
            }

            var holding = 0;
            OnLoadStep(warehouse, step =>
            {
                if (step == "watermark" && Interlocked.Exchange(ref holding, 1) == 0)
                {
                    Thread.Sleep(500);
                }
            });
            var loads = new[] { 2L, 3L }.Select(target =>
                Load(expected, target, Accounts($"race-{expected}-{target}", Enumerable.Range(0, 15).Select(i => AccountRow.Sample(i, target) with { Balance = target })))).ToArray();

            var outcomes = await Task.WhenAll(loads.Select(load => Task.Run(async () =>
            {
                try
                {
                    return (Load: load, Result: (WarehouseLoadResult?)await warehouse.LoadAsync(load), Fenced: (WarehouseFencedException?)null);
                }
                catch (WarehouseFencedException fenced)
                {
                    return (Load: load, Result: null, Fenced: fenced);
                }
            })));
            OnLoadStep(warehouse, _ => { });

            var winner = Assert.Single(outcomes, o => o.Result is not null);
            var loser = Assert.Single(outcomes, o => o.Fenced is not null);
            Assert.Equal((expected, (long?)winner.Load.Watermark, loser.Load.Watermark), (loser.Fenced!.ExpectedWatermark, loser.Fenced.FoundWatermark, loser.Fenced.Watermark));
            Assert.Equal(winner.Load.Watermark, (await warehouse.ReadWatermarkAsync("sink", "accounts"))!.Value);
            var rows = await RowsAsync(warehouse);
            Assert.Equal(15, rows.Count);
            Assert.All(rows.Values, r => Assert.Equal((winner.Load.Watermark, (decimal)winner.Load.Watermark), ((long)r[8]!, (decimal)r[2]!)));
        }
    }

    [Fact]
    public async Task Money_rates_dates_and_utc_timestamps_round_trip_exactly()
    {
        var warehouse = await ReadyAsync();
        var t = new DateTimeOffset(2026, 3, 1, 12, 34, 56, TimeSpan.Zero).AddTicks(1_234_560);
        var rows = new[]
        {
            new AccountRow("a-max", "c", 9999999999999999.99m, 999999999999.999999m, new DateOnly(1970, 1, 1), t, "Gqeberha — Nelson Mandela Bay", -90.0, 1),
            new AccountRow("a-min", "c", -9999999999999999.99m, -0.000001m, new DateOnly(2099, 12, 31), new DateTimeOffset(1970, 1, 1, 0, 0, 0, TimeSpan.Zero), "Zoë 銀行 🏦", 90.0, 1),
            new AccountRow("a-cent", "c", 0.01m, 0.000001m, new DateOnly(2000, 2, 29), new DateTimeOffset(2038, 1, 19, 3, 14, 8, TimeSpan.Zero).AddTicks(10), null, 0.1 + 0.2, 1),
            new AccountRow("a-zero", "c", 0m, 0m, new DateOnly(2026, 1, 25), new DateTimeOffset(1999, 12, 31, 23, 59, 59, TimeSpan.Zero).AddTicks(9_999_990), "", double.Epsilon, 1),
        };
        await warehouse.LoadAsync(Load(null, 1, Accounts("exact", rows)));

        var back = await RowsAsync(warehouse);
        foreach (var expected in rows)
        {
            var row = back[expected.AccountId];
            Assert.Equal(expected.Balance, (decimal)row[2]!);
            Assert.Equal(expected.Rate, (decimal)row[3]!);
            Assert.Equal(expected.OpenedOn, row[4]);
            Assert.Equal(expected.UpdatedAt, (DateTimeOffset)row[5]!);
            Assert.Equal(TimeSpan.Zero, ((DateTimeOffset)row[5]!).Offset);
            Assert.Equal(expected.City, row[6]);
            Assert.Equal(expected.Latitude, (double)row[7]!);
        }
    }

    [Fact]
    public async Task Change_files_whose_types_differ_from_the_table_are_refused()
    {
        var warehouse = await ReadyAsync();
        var wrongScale = ChangeFileWriter.WriteAccounts(Folder.File("scale.parquet"), [AccountRow.Sample(1, 1) with { Balance = 1.2345m }], "DECIMAL(18,4)");

        var error = await Assert.ThrowsAnyAsync<Exception>(() => warehouse.LoadAsync(Load(null, 1, wrongScale)));

        Assert.Contains("balance", error.Message, StringComparison.Ordinal);
        Assert.Null(await warehouse.ReadWatermarkAsync("sink", "accounts"));
    }

    [Fact]
    public async Task Identifiers_from_outside_the_code_are_validated_before_any_sql_runs()
    {
        var warehouse = await ReadyAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => warehouse.ReadWatermarkAsync("sink", "accounts\"; DROP TABLE x; --"));
        await Assert.ThrowsAsync<ArgumentException>(() => warehouse.LoadAsync(new WarehouseLoad("Sink'--", 1, [new TableChanges(TestTables.Accounts, [])], null)));
        Assert.Throws<ArgumentException>(() => new WarehouseTable(new TableSchema("Accounts", TestTables.AccountsSchema.Columns, []), ["account_id"], "version"));
        Assert.Throws<ArgumentException>(() => new WarehouseTable(new TableSchema("a", [new("x y", ColumnType.Long), new("v", ColumnType.Long)], []), ["x y"], "v"));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => OpenAsync("bad schema"));
        var model = new WarehouseModel([TestTables.Accounts], Views: [new WarehouseView("v; drop", _ => "SELECT 1")]);
        await Assert.ThrowsAsync<ArgumentException>(() => warehouse.EnsureSchemaAsync(model));
    }

    [Fact]
    public async Task Reporting_views_are_created_and_read_the_loaded_rows()
    {
        var warehouse = await ReadyAsync();
        var view = new WarehouseView("balances_by_city", d =>
            $"SELECT {d.Quote("city")}, SUM({d.Quote("balance")}) AS {d.Quote("total")}, COUNT(*) AS {d.Quote("accounts")} FROM {d.Table("accounts")} WHERE {d.Quote("city")} IS NOT NULL GROUP BY {d.Quote("city")}");
        await warehouse.EnsureSchemaAsync(Model(view));
        await warehouse.EnsureSchemaAsync(Model(view));
        var rows = Enumerable.Range(0, 200).Select(i => AccountRow.Sample(i, 1)).ToList();
        await warehouse.LoadAsync(Load(null, 1, Accounts("v", rows)));

        var path = Folder.File("view.parquet");
        var relation = new TableSchema("balances_by_city", [new("city", ColumnType.String), new("total", ColumnType.Money), new("accounts", ColumnType.Long)], []);
        await warehouse.ExportAsync(relation, path);

        var expected = rows.Where(r => r.City is not null).GroupBy(r => r.City!).ToDictionary(g => g.Key, g => (g.Sum(r => r.Balance), (long)g.Count()));
        var actual = ChangeFileWriter.ReadParquet(path, "city").ToDictionary(r => (string)r[0]!, r => ((decimal)r[1]!, (long)r[2]!));
        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task Composite_keys_and_an_empty_change_set_work()
    {
        var warehouse = await ReadyAsync();
        var day = new DateOnly(2026, 1, 1);
        var file = ChangeFileWriter.WritePositions(Folder.File("pos.parquet"),
            [("a", day, 1m, 1, 1), ("a", day.AddDays(1), 2m, 2, 1), ("b", day, 3m, 3, 1), ("a", day, 4m, 4, 2)]);

        var result = await warehouse.LoadAsync(new WarehouseLoad("sink", 9, [new TableChanges(TestTables.Positions, [file]), new TableChanges(TestTables.Accounts, [])], null));

        Assert.Equal(3, result.Inserted);
        Assert.Equal(9, (await warehouse.ReadWatermarkAsync("sink", "accounts"))!.Value);
        var path = Folder.File("pos-export.parquet");
        await warehouse.ExportAsync(TestTables.TargetOf(TestTables.Positions), path);
        var rows = ChangeFileWriter.ReadParquet(path, "account_id, as_of");
        Assert.Equal(3, rows.Count);
        Assert.Equal(4m, rows[0][2]);
        Assert.Equal(4, rows[0][3]);
    }
}
