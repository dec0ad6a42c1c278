using System.Globalization;
using BaloyiBank.Delta;
using BaloyiBank.Sink;
using BaloyiBank.Warehouse;
using BaloyiBank.Warehouse.Tests;
using DuckDB.NET.Data;

namespace BaloyiBank.Sink.Tests;

/// <summary>
/// The reporting views and the dashboards' queries over them (<see cref="ReportingQueries"/>) on DuckDB and on a real
/// PostgreSQL, checked against gold's current daily summary and customer positions summed independently with DuckDB:
/// unfiltered, narrowed by every filter, per currency, with each place's centroid from gold's latitude/longitude sums.
/// </summary>
public sealed class ReportingViewTests(PostgresServer postgres) : IClassFixture<PostgresServer>
{
    [Theory]
    [InlineData("duckdb")]
    [InlineData("postgres")]
    public async Task Every_dashboard_query_over_the_views_equals_gold_summed_directly_with_and_without_filters(string engine)
    {
        await using var rig = await GoldRig.CreateAsync();
        await rig.AddGoldAsync(50_000);
        var schema = "report_" + Guid.NewGuid().ToString("N")[..10];
        var options = engine == "duckdb"
            ? new WarehouseOptions { Kind = "duckdb", DuckDbPath = Path.Combine(rig.Root, "warehouse.duckdb"), Schema = schema }
            : new WarehouseOptions { Kind = "postgres", ConnectionString = postgres.ConnectionString, Schema = schema };
        await using (var warehouse = WarehouseFactory.Create(options))
        {
            using var loader = new SinkLoader(rig.Lake, warehouse, GoldRig.SinkOptions);
            await loader.LoadAsync();
        }

        using var gold = new DuckDBConnection("Data Source=:memory:");
        gold.Open();
        var daily = await CurrentGoldAsync(rig, GoldTables.DailyTransactionSummary);
        var positions = await CurrentGoldAsync(rig, GoldTables.CustomerPositions);
        using var report = engine == "duckdb" ? ReportingQueries.OpenDuckDb(options.DuckDbPath, schema) : ReportingQueries.OpenPostgres(postgres.ConnectionString, schema);

        var facets = report.Facets();
        Assert.Equal(Strings(gold, $"SELECT DISTINCT currency FROM {daily} ORDER BY 1"), facets.Currencies);
        Assert.Equal(Strings(gold, $"SELECT DISTINCT category FROM {daily} ORDER BY 1"), facets.Categories);
        Assert.Equal(Strings(gold, $"SELECT DISTINCT country FROM {daily} ORDER BY 1"), facets.Countries);
        Assert.True(facets.Currencies.Count > 0 && facets.Categories.Count > 1 && facets.Countries.Count > 0,
            $"the generated bank should have transactions in several categories: {string.Join(", ", facets.Currencies)}; {string.Join(", ", facets.Categories)}");

        // A filter on everything the page filters by, picked from the data so it selects something and not everything.
        var pick = Strings(gold, $"SELECT category || '|' || country || '|' || currency || '|' || CAST(min(event_date) AS VARCHAR) || '|' || CAST(max(event_date) AS VARCHAR) " +
            $"FROM {daily} GROUP BY category, country, currency ORDER BY count(DISTINCT event_date) DESC, sum(transaction_count) DESC LIMIT 1")[0].Split('|');
        var narrow = new ReportFilter(DateOnly.Parse(pick[3], CultureInfo.InvariantCulture), DateOnly.Parse(pick[4], CultureInfo.InvariantCulture), pick[0], pick[1], pick[2]);
        var where = $"event_date BETWEEN DATE '{pick[3]}' AND DATE '{pick[4]}' AND category = '{pick[0]}' AND country = '{pick[1]}' AND currency = '{pick[2]}'";

        foreach (var (filter, condition) in new[] { (new ReportFilter(), "true"), (narrow, where) })
        {
            var trends = report.Trends(filter).Select(t => $"{t.Date:yyyy-MM-dd} {t.Currency} {t.TransactionCount} {t.TotalAmount:F2} {t.NetAmount:F2}").ToList();
            Assert.Equal(Strings(gold, $"SELECT strftime(event_date, '%Y-%m-%d') || ' ' || currency || ' ' || sum(transaction_count) || ' ' || printf('%.2f', sum(total_amount)) || ' ' || " +
                $"printf('%.2f', sum(net_amount)) FROM {daily} WHERE {condition} GROUP BY event_date, currency ORDER BY event_date, currency"), trends);
            Assert.NotEmpty(trends);

            var categories = report.Categories(filter).Select(c => $"{c.Category} {c.Currency} {c.TransactionCount} {c.TotalAmount:F2} {c.NetAmount:F2}").Order(StringComparer.Ordinal).ToList();
            Assert.Equal(Strings(gold, $"SELECT category || ' ' || currency || ' ' || sum(transaction_count) || ' ' || printf('%.2f', sum(total_amount)) || ' ' || printf('%.2f', sum(net_amount)) " +
                $"FROM {daily} WHERE {condition} GROUP BY category, currency").Order(StringComparer.Ordinal), categories);

            var places = report.Places(filter);
            var expected = Rows(gold, $"SELECT country, city, currency, CAST(sum(transaction_count) AS BIGINT), sum(total_amount), sum(latitude_micro_sum) / sum(transaction_count) / 1e6, " +
                $"sum(longitude_micro_sum) / sum(transaction_count) / 1e6 FROM {daily} WHERE {condition} GROUP BY ALL");
            Assert.Equal(expected.Count, places.Count);
            foreach (var place in places)
            {
                var row = expected[$"{place.Country}|{place.City}|{place.Currency}"];
                Assert.Equal(Convert.ToInt64(row[3], CultureInfo.InvariantCulture), place.TransactionCount);
                Assert.Equal(Convert.ToDecimal(row[4], CultureInfo.InvariantCulture), place.TotalAmount);
                Assert.Equal(Convert.ToDouble(row[5], CultureInfo.InvariantCulture), place.Latitude, 9);
                Assert.Equal(Convert.ToDouble(row[6], CultureInfo.InvariantCulture), place.Longitude, 9);
                Assert.InRange(place.Latitude, -90, 90);
                Assert.InRange(place.Longitude, -180, 180);
            }
        }

        // The narrow filter really narrows: fewer transactions than the whole.
        Assert.True(report.Trends(narrow).Sum(t => t.TransactionCount) < report.Trends(new()).Sum(t => t.TransactionCount));

        // Top customers per currency, and with a country the top of that country; never a sum across currencies.
        foreach (var (filter, condition) in new[] { (new ReportFilter(), "true"), (new ReportFilter(Country: narrow.Country, Currency: narrow.Currency), $"country = '{narrow.Country}' AND currency = '{narrow.Currency}'") })
        {
            var top = report.TopCustomers(filter, 10).Select(c => $"{c.Currency} {c.Rank} {c.CustomerId} {c.NetPosition:F2}").ToList();
            var partition = filter.Country is null ? "currency" : "currency, country";
            Assert.Equal(Strings(gold, $"SELECT currency || ' ' || r || ' ' || customer_id || ' ' || printf('%.2f', net_position) FROM (SELECT *, row_number() OVER " +
                $"(PARTITION BY {partition} ORDER BY net_position DESC, customer_id) AS r FROM {positions}) WHERE r <= 10 AND {condition} ORDER BY currency, r"), top);
            Assert.NotEmpty(top);
        }
    }

    [Theory]
    [InlineData("duckdb")]
    [InlineData("postgres")]
    public async Task A_warehouse_created_before_the_place_sums_gets_them_from_migration_1_and_its_views_work(string engine)
    {
        await using var rig = await GoldRig.CreateAsync();
        var schema = "old_" + Guid.NewGuid().ToString("N")[..10];
        var options = engine == "duckdb"
            ? new WarehouseOptions { Kind = "duckdb", DuckDbPath = Path.Combine(rig.Root, "old.duckdb"), Schema = schema }
            : new WarehouseOptions { Kind = "postgres", ConnectionString = postgres.ConnectionString, Schema = schema };
        var sums = new[] { GoldTables.LatitudeMicroSumColumn, GoldTables.LongitudeMicroSumColumn };
        var before = new TableSchema(GoldTables.DailyTransactionSummary.Name, [.. GoldTables.DailyTransactionSummary.Columns.Where(c => !sums.Contains(c.Name))], []);
        await using (var warehouse = WarehouseFactory.Create(options))
        {
            await warehouse.EnsureSchemaAsync(new WarehouseModel([new WarehouseTable(before, GoldTables.KeyOf(before), GoldTables.VersionColumn)]));
            Assert.Equal([1], (await warehouse.EnsureSchemaAsync(SinkModel.Model)).MigrationsApplied);
            Assert.Empty((await warehouse.EnsureSchemaAsync(SinkModel.Model)).MigrationsApplied);

            // A load after the migration fills the new columns; the views answer from them.
            await rig.AddGoldAsync(5_000);
            using var loader = new SinkLoader(rig.Lake, warehouse, GoldRig.SinkOptions);
            await loader.LoadAsync();
        }

        using var report = engine == "duckdb" ? ReportingQueries.OpenDuckDb(options.DuckDbPath, schema) : ReportingQueries.OpenPostgres(postgres.ConnectionString, schema);
        var places = report.Places(new());
        Assert.NotEmpty(places);
        Assert.All(places, p => Assert.True(p.Latitude is >= -90 and <= 90 and not 0 && p.Longitude is >= -180 and <= 180 and not 0, $"{p}"));
    }

    private static async Task<string> CurrentGoldAsync(GoldRig rig, TableSchema schema)
    {
        using var table = new DeltaTable(rig.Lake, GoldTables.TablePath("gold", schema));
        var snapshot = await table.LoadAsync();
        var readSet = await table.GetReadSetAsync(snapshot, Path.Combine(rig.Root, "expected", schema.Name));
        return $"(SELECT * FROM {readSet.ToSql()})";
    }

    private static List<string> Strings(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        List<string> values = [];
        while (reader.Read())
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }

    private static Dictionary<string, object[]> Rows(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        Dictionary<string, object[]> rows = [];
        while (reader.Read())
        {
            var values = new object[reader.FieldCount];
            reader.GetValues(values);
            rows[$"{values[0]}|{values[1]}|{values[2]}"] = values;
        }

        return rows;
    }
}
