using System.Globalization;
using System.Text.Json;
using DuckDB.NET.Data;

namespace BaloyiBank.Delta.Tests;

/// <summary>Every file the table writes, checked field by field against PROTOCOL.md, from the raw bytes.</summary>
public sealed class ProtocolConformanceTests : IDisposable
{
    private readonly TestLake lake = new();

    public void Dispose() => lake.Dispose();

    [Fact]
    public async Task Every_commit_checkpoint_and_last_checkpoint_follows_the_protocol()
    {
        using var table = lake.Table();
        var snapshot = await table.CreateAsync(TransactionRows.Schema);
        DeltaSnapshot? atCheckpoint = null;
        for (var batch = 0; batch < 12; batch++)
        {
            (var result, _) = await TransactionRows.WriteBatchAsync(table, snapshot, partition: batch % 3, first: batch * 100, count: 40);
            snapshot = result.Snapshot;
            atCheckpoint = snapshot.Version == 10 ? snapshot : atCheckpoint;
        }

        Assert.Equal(12, snapshot.Version);
        var log = Path.Combine(lake.Store.Location, "silver/transactions/_delta_log");
        var commits = Directory.GetFiles(log, "*.json").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(13, commits.Count);
        for (var version = 0; version < commits.Count; version++)
        {
            Assert.Equal($"{version:D20}.json", Path.GetFileName(commits[version]));
            var lines = File.ReadAllLines(commits[version]).Where(l => l.Length > 0).ToList();
            var actions = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.All(actions, a => Assert.Single(a.EnumerateObject()));
            var kinds = actions.Select(a => a.EnumerateObject().Single().Name).ToList();
            Assert.Equal("commitInfo", kinds[0]);
            foreach (var action in actions)
            {
                var property = action.EnumerateObject().Single();
                switch (property.Name)
                {
                    case "protocol": AssertProtocol(property.Value); break;
                    case "metaData": AssertMetadata(property.Value); break;
                    case "add": AssertAdd(property.Value); break;
                    case "txn": AssertTxn(property.Value); break;
                    case "commitInfo": AssertCommitInfo(property.Value, version); break;
                    default: Assert.Fail($"Unexpected action {property.Name} in version {version}"); break;
                }
            }

            if (version == 0)
            {
                Assert.Equal(["commitInfo", "protocol", "metaData"], kinds);
            }
            else
            {
                Assert.Equal(1, kinds.Count(k => k == "txn"));
                Assert.InRange(kinds.Count(k => k == "add"), 1, 2);
                Assert.DoesNotContain("metaData", kinds);
            }
        }

        // Data files: money as DECIMAL(18,2), instants as microsecond timestamps adjusted to UTC, zstd.
        // Read with DuckDB.NET: independent of the DuckDB that wrote the files.
        using (var types = Reader())
        {
            var dataFile = lake.FileOf(table.LakePathOf(snapshot.Files.Values.First().DataPath));
            Assert.Equal("DecimalType(scale=2, precision=18)", Scalar<string>(types, $"SELECT logical_type FROM parquet_schema('{dataFile}') WHERE name = 'amount'"));
            Assert.Equal("DecimalType(scale=6, precision=18)", Scalar<string>(types, $"SELECT logical_type FROM parquet_schema('{dataFile}') WHERE name = 'fx_rate'"));
            Assert.StartsWith("TimestampType(isAdjustedToUTC=1, unit=TimeUnit(MILLIS=<null>, MICROS=MicroSeconds()", Scalar<string>(types, $"SELECT logical_type FROM parquet_schema('{dataFile}') WHERE name = 'booked_at'"), StringComparison.Ordinal);
            Assert.Equal("ZSTD", Scalar<string>(types, $"SELECT DISTINCT compression FROM parquet_metadata('{dataFile}') WHERE path_in_schema = 'amount'"));
        }

        // Checkpoint at version 10: the required struct columns, readable by DuckDB, one row per action.
        var checkpoint = Path.Combine(log, $"{10:D20}.checkpoint.parquet");
        Assert.True(File.Exists(checkpoint));
        using var inspect = Reader();
        var topLevel = Column<string>(inspect, $"SELECT name FROM parquet_schema('{checkpoint}') WHERE name IN ('txn','add','remove','metaData','protocol')");
        Assert.Equal(["add", "metaData", "protocol", "remove", "txn"], topLevel.Order(StringComparer.Ordinal));
        var addPaths = Column<string>(inspect, $"SELECT \"add\".path FROM read_parquet('{checkpoint}') WHERE \"add\" IS NOT NULL ORDER BY 1");
        Assert.NotNull(atCheckpoint);
        var files = atCheckpoint.Files.Count;
        Assert.Equal(atCheckpoint.Files.Keys.Order(StringComparer.Ordinal), addPaths);
        Assert.Equal(1L, Scalar<long>(inspect, $"SELECT count(*) FROM read_parquet('{checkpoint}') WHERE protocol IS NOT NULL AND protocol.minReaderVersion = 1 AND protocol.minWriterVersion = 2"));
        Assert.Equal(1L, Scalar<long>(inspect, $"SELECT count(*) FROM read_parquet('{checkpoint}') WHERE metaData IS NOT NULL AND metaData.format.provider = 'parquet' AND metaData.partitionColumns = ['event_date']"));
        Assert.Equal(3L, Scalar<long>(inspect, $"SELECT count(*) FROM read_parquet('{checkpoint}') WHERE txn IS NOT NULL"));
        Assert.Equal(files, Scalar<long>(inspect, $"SELECT count(*) FROM read_parquet('{checkpoint}') WHERE \"add\".partitionValues['event_date'] IS NOT NULL AND \"add\".stats LIKE '{{\"numRecords\":%'"));
        var mapType = Scalar<string>(inspect, $"SELECT converted_type FROM parquet_schema('{checkpoint}') WHERE name = 'partitionValues'");
        Assert.Equal("MAP", mapType);
        var rows = Scalar<long>(inspect, $"SELECT count(*) FROM read_parquet('{checkpoint}')");
        Assert.Equal(2 + 3 + files, rows);

        using var last = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(log, "_last_checkpoint")));
        Assert.Equal(10, last.RootElement.GetProperty("version").GetInt64());
        Assert.Equal(rows, last.RootElement.GetProperty("size").GetInt64());
        Assert.Equal(new FileInfo(checkpoint).Length, last.RootElement.GetProperty("sizeInBytes").GetInt64());
        Assert.Equal(files, last.RootElement.GetProperty("numOfAddFiles").GetInt64());
    }

    [Fact]
    public void Schema_string_round_trips_every_column_type()
    {
        var schemaString = DeltaSchema.ToSchemaString(TransactionRows.Schema);
        var parsed = DeltaSchema.Parse(schemaString, "transactions", ["event_date"]);
        Assert.Equal(TransactionRows.Schema.Columns, parsed.Columns);
        Assert.Equal(TransactionRows.Schema.PartitionColumns, parsed.PartitionColumns);

        using var document = JsonDocument.Parse(schemaString);
        var types = document.RootElement.GetProperty("fields").EnumerateArray().Select(f => f.GetProperty("type").GetString()).ToList();
        Assert.Equal(["string", "string", "decimal(18,2)", "timestamp", "date", "string", "decimal(18,2)", "long", "decimal(18,6)", "boolean", "binary"], types);
    }

    [Fact]
    public void Unsupported_schemas_are_refused_with_the_reason()
    {
        const string nested = """{"type":"struct","fields":[{"name":"a","type":{"type":"struct","fields":[]},"nullable":true,"metadata":{}}]}""";
        Assert.Contains("nested type", Assert.Throws<DeltaProtocolException>(() => DeltaSchema.Parse(nested, "t", [])).Message, StringComparison.Ordinal);
        const string invariant = """{"type":"struct","fields":[{"name":"x","type":"integer","nullable":true,"metadata":{"delta.invariants":"{}"}}]}""";
        Assert.Contains("column metadata", Assert.Throws<DeltaProtocolException>(() => DeltaSchema.Parse(invariant, "t", [])).Message, StringComparison.Ordinal);
        const string shortType = """{"type":"struct","fields":[{"name":"x","type":"short","nullable":true,"metadata":{}}]}""";
        Assert.Contains("'short'", Assert.Throws<DeltaProtocolException>(() => DeltaSchema.Parse(shortType, "t", [])).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => DeltaSchema.Validate(new TableSchema("t", [new("bad name", ColumnType.String)], [])));
    }

    private static void AssertProtocol(JsonElement protocol)
    {
        Assert.Equal(JsonValueKind.Number, protocol.GetProperty("minReaderVersion").ValueKind);
        Assert.Equal(1, protocol.GetProperty("minReaderVersion").GetInt32());
        Assert.Equal(2, protocol.GetProperty("minWriterVersion").GetInt32());
        Assert.False(protocol.TryGetProperty("readerFeatures", out _));
        Assert.False(protocol.TryGetProperty("writerFeatures", out _));
    }

    private static void AssertMetadata(JsonElement metadata)
    {
        Assert.True(Guid.TryParse(metadata.GetProperty("id").GetString(), out _));
        var format = metadata.GetProperty("format");
        Assert.Equal("parquet", format.GetProperty("provider").GetString());
        Assert.Equal(JsonValueKind.Object, format.GetProperty("options").ValueKind);
        Assert.Equal(JsonValueKind.Object, metadata.GetProperty("configuration").ValueKind);
        Assert.Equal(["event_date"], metadata.GetProperty("partitionColumns").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(JsonValueKind.Number, metadata.GetProperty("createdTime").ValueKind);
        var schemaString = metadata.GetProperty("schemaString").GetString()!;
        Assert.DoesNotContain('\n', schemaString);
        using var schema = JsonDocument.Parse(schemaString);
        Assert.Equal("struct", schema.RootElement.GetProperty("type").GetString());
        foreach (var field in schema.RootElement.GetProperty("fields").EnumerateArray())
        {
            Assert.Equal(JsonValueKind.String, field.GetProperty("name").ValueKind);
            Assert.Equal(JsonValueKind.String, field.GetProperty("type").ValueKind);
            Assert.True(field.GetProperty("nullable").ValueKind is JsonValueKind.True or JsonValueKind.False);
            Assert.Equal(JsonValueKind.Object, field.GetProperty("metadata").ValueKind);
        }

        var parsed = DeltaSchema.Parse(schemaString, "transactions", ["event_date"]);
        Assert.Equal(TransactionRows.Schema.Columns, parsed.Columns);
    }

    private static void AssertAdd(JsonElement add)
    {
        var path = add.GetProperty("path").GetString()!;
        Assert.Matches(@"^event_date=\d{4}-\d{2}-\d{2}/part-p\d{4}-o\d{12}-\d{12}\.zstd\.parquet$", path);
        var values = add.GetProperty("partitionValues");
        Assert.Equal(JsonValueKind.Object, values.ValueKind);
        var date = values.GetProperty("event_date").GetString()!;
        Assert.StartsWith($"event_date={date}/", path, StringComparison.Ordinal);
        Assert.True(add.GetProperty("size").GetInt64() > 0);
        Assert.True(add.GetProperty("modificationTime").GetInt64() > 1_700_000_000_000);
        Assert.Equal(JsonValueKind.True, add.GetProperty("dataChange").ValueKind);

        Assert.Equal(JsonValueKind.String, add.GetProperty("stats").ValueKind);
        using var stats = JsonDocument.Parse(add.GetProperty("stats").GetString()!);
        var root = stats.RootElement;
        var records = root.GetProperty("numRecords").GetInt64();
        Assert.True(records > 0);
        var min = root.GetProperty("minValues");
        var max = root.GetProperty("maxValues");
        var nulls = root.GetProperty("nullCount");
        // Stats cover data columns only; the partition column's value is in partitionValues.
        Assert.False(nulls.TryGetProperty("event_date", out _));
        Assert.Equal(10, nulls.EnumerateObject().Count());
        Assert.All(nulls.EnumerateObject(), n => Assert.InRange(n.Value.GetInt64(), 0, records));
        Assert.Equal(0, nulls.GetProperty("amount").GetInt64());
        Assert.Equal(JsonValueKind.Number, min.GetProperty("amount").ValueKind);
        Assert.True(min.GetProperty("amount").GetDecimal() <= max.GetProperty("amount").GetDecimal());
        Assert.Equal(JsonValueKind.Number, min.GetProperty("sequence").ValueKind);
        var earliest = min.GetProperty("booked_at").GetString()!;
        var latest = max.GetProperty("booked_at").GetString()!;
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", earliest);
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", latest);
        Assert.True(DateTimeOffset.Parse(earliest, CultureInfo.InvariantCulture) <= DateTimeOffset.Parse(latest, CultureInfo.InvariantCulture));
        // No bounds for booleans and binary (Spark keeps none either).
        Assert.False(min.TryGetProperty("reversal", out _));
        Assert.False(max.TryGetProperty("payload", out _));
    }

    private static void AssertTxn(JsonElement txn)
    {
        Assert.StartsWith("cleansing-p", txn.GetProperty("appId").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Number, txn.GetProperty("version").ValueKind);
        Assert.Equal(JsonValueKind.Number, txn.GetProperty("lastUpdated").ValueKind);
    }

    private static void AssertCommitInfo(JsonElement info, int version)
    {
        Assert.Equal(JsonValueKind.Number, info.GetProperty("timestamp").ValueKind);
        Assert.Equal(version == 0 ? "CREATE TABLE" : "STREAMING UPDATE", info.GetProperty("operation").GetString());
        Assert.Equal(JsonValueKind.Object, info.GetProperty("operationParameters").ValueKind);
        Assert.All(info.GetProperty("operationParameters").EnumerateObject(), p => Assert.Equal(JsonValueKind.String, p.Value.ValueKind));
        Assert.Equal(JsonValueKind.True, info.GetProperty("isBlindAppend").ValueKind);
        Assert.Equal("BaloyiBank.Streaming/1.0", info.GetProperty("engineInfo").GetString());
    }

    private static DuckDBConnection Reader()
    {
        var connection = new DuckDBConnection(DuckDBConnectionStringBuilder.InMemoryConnectionString);
        connection.Open();
        return connection;
    }

    private static T Scalar<T>(DuckDBConnection connection, string sql) => Column<T>(connection, sql).First();

    private static List<T> Column<T>(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var result = command.ExecuteReader();
        List<T> values = [];
        while (result.Read())
        {
            values.Add(result.GetFieldValue<T>(0));
        }

        return values;
    }
}
