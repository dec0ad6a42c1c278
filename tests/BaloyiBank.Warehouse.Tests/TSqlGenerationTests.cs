using BaloyiBank.Delta;

namespace BaloyiBank.Warehouse.Tests;

/// <summary>
/// No SQL Server or Synapse runs here: the T-SQL is checked as text, statement by statement, for every table
/// shape (HASH/REPLICATE/ROUND_ROBIN, columnstore/heap, with and without a deleted flag, composite keys).
/// </summary>
public sealed class TSqlGenerationTests
{
    private static readonly TSqlDialect SqlServer = new("bank", synapse: false);
    private static readonly TSqlDialect Synapse = new("bank", synapse: true);

    private static WarehouseTable Balances { get; } = new(new TableSchema("account_balances",
    [
        new("account_id", ColumnType.String),
        new("balance", ColumnType.Money),
        new("updated_at", ColumnType.Timestamp),
        new("gold_version", ColumnType.Long),
        new("is_deleted", ColumnType.Boolean),
    ], []), ["account_id"], "gold_version", "is_deleted")
    {
        Distribution = SynapseDistribution.Hash("account_id"),
    };

    private static WarehouseTable Branches { get; } = new(new TableSchema("branches",
    [
        new("branch_id", ColumnType.String),
        new("name", ColumnType.String, Nullable: true),
        new("gold_version", ColumnType.Long),
    ], []), ["branch_id"], "gold_version")
    {
        Distribution = SynapseDistribution.Replicate,
        Index = SynapseIndex.Heap,
        StringLengths = new Dictionary<string, int> { ["branch_id"] = 16, ["name"] = 200 },
    };

    public static TheoryData<string> Shapes => ["balances", "branches", "accounts", "positions", "daily"];

    private static WarehouseTable Shape(string name) => name switch
    {
        "balances" => Balances,
        "branches" => Branches,
        "accounts" => TestTables.Accounts,
        "positions" => TestTables.Positions,
        _ => new WarehouseTable(new TableSchema("daily_totals",
        [
            new("day", ColumnType.Date),
            new("category", ColumnType.String),
            new("total", ColumnType.Money),
            new("transactions", ColumnType.Long),
            new("latitude", ColumnType.Double),
            new("as_of", ColumnType.Timestamp),
            new("payload", ColumnType.Binary, Nullable: true),
            new("rate", ColumnType.Rate),
            new("flag", ColumnType.Boolean),
            new("n", ColumnType.Integer),
        ], []), ["day", "category"], "as_of"),
    };

    [Fact]
    public void Schema_and_control_tables_are_created_only_when_missing()
    {
        Assert.Equal(["IF SCHEMA_ID(N'bank') IS NULL EXEC(N'CREATE SCHEMA [bank]');"], SqlServer.CreateSchema());
        Assert.Equal(
        [
            "IF OBJECT_ID(N'bank._warehouse_migrations', N'U') IS NULL CREATE TABLE [bank].[_warehouse_migrations] ([version] INT NOT NULL, [description] NVARCHAR(400) NOT NULL, [applied_at] DATETIME2(6) NOT NULL, CONSTRAINT [pk_warehouse_migrations] PRIMARY KEY CLUSTERED ([version]));",
            "IF OBJECT_ID(N'bank._warehouse_watermarks', N'U') IS NULL CREATE TABLE [bank].[_warehouse_watermarks] ([pipeline] NVARCHAR(128) NOT NULL, [table_name] NVARCHAR(128) NOT NULL, [watermark] BIGINT NOT NULL, [updated_at] DATETIME2(6) NOT NULL, CONSTRAINT [pk_warehouse_watermarks] PRIMARY KEY CLUSTERED ([pipeline], [table_name]));",
        ], SqlServer.CreateControlTables());
        Assert.Equal(
        [
            "IF OBJECT_ID(N'bank._warehouse_migrations', N'U') IS NULL CREATE TABLE [bank].[_warehouse_migrations] ([version] INT NOT NULL, [description] NVARCHAR(400) NOT NULL, [applied_at] DATETIME2(6) NOT NULL) WITH (DISTRIBUTION = ROUND_ROBIN, HEAP);",
            "IF OBJECT_ID(N'bank._warehouse_watermarks', N'U') IS NULL CREATE TABLE [bank].[_warehouse_watermarks] ([pipeline] NVARCHAR(128) NOT NULL, [table_name] NVARCHAR(128) NOT NULL, [watermark] BIGINT NOT NULL, [updated_at] DATETIME2(6) NOT NULL) WITH (DISTRIBUTION = ROUND_ROBIN, HEAP);",
        ], Synapse.CreateControlTables());
    }

    [Fact]
    public void Sql_server_tables_get_a_clustered_primary_key_and_exact_types()
    {
        Assert.Equal("""
            IF OBJECT_ID(N'bank.account_balances', N'U') IS NULL
            CREATE TABLE [bank].[account_balances] (
                [account_id] NVARCHAR(256) NOT NULL,
                [balance] DECIMAL(18,2) NOT NULL,
                [updated_at] DATETIME2(6) NOT NULL,
                [gold_version] BIGINT NOT NULL,
                CONSTRAINT [pk_account_balances] PRIMARY KEY CLUSTERED ([account_id])
            );
            """, SqlServer.CreateTable(Balances));
        Assert.Equal("""
            IF OBJECT_ID(N'bank.branches', N'U') IS NULL
            CREATE TABLE [bank].[branches] (
                [branch_id] NVARCHAR(16) NOT NULL,
                [name] NVARCHAR(200) NULL,
                [gold_version] BIGINT NOT NULL,
                CONSTRAINT [pk_branches] PRIMARY KEY CLUSTERED ([branch_id])
            );
            """, SqlServer.CreateTable(Branches));
    }

    [Fact]
    public void Synapse_tables_carry_distribution_and_index_and_no_enforced_key()
    {
        Assert.Equal("""
            IF OBJECT_ID(N'bank.account_balances', N'U') IS NULL
            CREATE TABLE [bank].[account_balances] (
                [account_id] NVARCHAR(256) NOT NULL,
                [balance] DECIMAL(18,2) NOT NULL,
                [updated_at] DATETIME2(6) NOT NULL,
                [gold_version] BIGINT NOT NULL
            )
            WITH (DISTRIBUTION = HASH([account_id]), CLUSTERED COLUMNSTORE INDEX);
            """, Synapse.CreateTable(Balances));
        Assert.EndsWith(")\nWITH (DISTRIBUTION = REPLICATE, HEAP);", Synapse.CreateTable(Branches), StringComparison.Ordinal);
        Assert.EndsWith(")\nWITH (DISTRIBUTION = ROUND_ROBIN, CLUSTERED COLUMNSTORE INDEX);", Synapse.CreateTable(Shape("daily")), StringComparison.Ordinal);
        Assert.Contains("[payload] VARBINARY(8000) NULL", Synapse.CreateTable(Shape("daily")), StringComparison.Ordinal);
        Assert.Contains("[latitude] FLOAT NOT NULL", Synapse.CreateTable(Shape("daily")), StringComparison.Ordinal);
        Assert.Contains("[rate] DECIMAL(18,6) NOT NULL", Synapse.CreateTable(Shape("daily")), StringComparison.Ordinal);
        Assert.Contains("[flag] BIT NOT NULL", Synapse.CreateTable(Shape("daily")), StringComparison.Ordinal);
        Assert.Contains("[day] DATE NOT NULL", Synapse.CreateTable(Shape("daily")), StringComparison.Ordinal);
        Assert.Contains("[n] INT NOT NULL", Synapse.CreateTable(Shape("daily")), StringComparison.Ordinal);
    }

    [Fact]
    public void Sql_server_merges_from_the_session_staging_table_by_version_with_deletes()
    {
        Assert.Equal(["""
            MERGE INTO [bank].[account_balances] AS t
            USING #stage_1 AS s
            ON t.[account_id] = s.[account_id]
            WHEN MATCHED AND s.[gold_version] > t.[gold_version] AND s.[is_deleted] = 1 THEN DELETE
            WHEN MATCHED AND s.[gold_version] > t.[gold_version] THEN UPDATE SET [balance] = s.[balance], [updated_at] = s.[updated_at], [gold_version] = s.[gold_version]
            WHEN NOT MATCHED BY TARGET AND s.[is_deleted] = 0 THEN INSERT ([account_id], [balance], [updated_at], [gold_version]) VALUES (s.[account_id], s.[balance], s.[updated_at], s.[gold_version]);
            """], SqlServer.Apply(Balances, TSqlDialect.TempStagingName(1)));
        Assert.Equal(["""
            MERGE INTO [bank].[branches] AS t
            USING #stage_2 AS s
            ON t.[branch_id] = s.[branch_id]
            WHEN MATCHED AND s.[gold_version] > t.[gold_version] THEN UPDATE SET [name] = s.[name], [gold_version] = s.[gold_version]
            WHEN NOT MATCHED BY TARGET THEN INSERT ([branch_id], [name], [gold_version]) VALUES (s.[branch_id], s.[name], s.[gold_version]);
            """], SqlServer.Apply(Branches, TSqlDialect.TempStagingName(2)));
        Assert.Equal("CREATE TABLE #stage_1 ([account_id] NVARCHAR(256) NOT NULL, [balance] DECIMAL(18,2) NOT NULL, [updated_at] DATETIME2(6) NOT NULL, [gold_version] BIGINT NOT NULL, [is_deleted] BIT NOT NULL);",
            SqlServer.CreateTempStaging(Balances, 1));
        Assert.Equal("IF OBJECT_ID(N'tempdb..#stage_1') IS NOT NULL DROP TABLE #stage_1;", TSqlDialect.DropTempStaging(1));
    }

    [Fact]
    public void Synapse_merges_into_a_hash_target_and_splits_the_statement_for_replicated_targets()
    {
        Assert.Equal(["""
            MERGE INTO [bank].[account_balances] AS t
            USING [bank].[_dedup_account_balances] AS s
            ON t.[account_id] = s.[account_id]
            WHEN MATCHED AND s.[gold_version] > t.[gold_version] AND s.[is_deleted] = 1 THEN DELETE
            WHEN MATCHED AND s.[gold_version] > t.[gold_version] THEN UPDATE SET [balance] = s.[balance], [updated_at] = s.[updated_at], [gold_version] = s.[gold_version]
            WHEN NOT MATCHED BY TARGET AND s.[is_deleted] = 0 THEN INSERT ([account_id], [balance], [updated_at], [gold_version]) VALUES (s.[account_id], s.[balance], s.[updated_at], s.[gold_version]);
            """], Synapse.Apply(Balances, Synapse.DedupTable(Balances)));

        // MERGE … WHEN NOT MATCHED needs a HASH-distributed target in a dedicated pool.
        Assert.Equal(
        [
            "UPDATE [bank].[branches] SET [name] = s.[name], [gold_version] = s.[gold_version] FROM [bank].[_dedup_branches] AS s WHERE s.[branch_id] = [bank].[branches].[branch_id] AND s.[gold_version] > [bank].[branches].[gold_version];",
            "INSERT INTO [bank].[branches] ([branch_id], [name], [gold_version]) SELECT s.[branch_id], s.[name], s.[gold_version] FROM [bank].[_dedup_branches] AS s WHERE NOT EXISTS (SELECT 1 FROM [bank].[branches] AS t WHERE t.[branch_id] = s.[branch_id]);",
        ], Synapse.Apply(Branches, Synapse.DedupTable(Branches)));

        var roundRobinWithDeletes = Balances with { Distribution = SynapseDistribution.RoundRobin };
        Assert.Equal(
        [
            "DELETE FROM [bank].[account_balances] WHERE EXISTS (SELECT 1 FROM [bank].[_dedup_account_balances] AS s WHERE s.[account_id] = [bank].[account_balances].[account_id] AND s.[gold_version] > [bank].[account_balances].[gold_version] AND s.[is_deleted] = 1);",
            "UPDATE [bank].[account_balances] SET [balance] = s.[balance], [updated_at] = s.[updated_at], [gold_version] = s.[gold_version] FROM [bank].[_dedup_account_balances] AS s WHERE s.[account_id] = [bank].[account_balances].[account_id] AND s.[gold_version] > [bank].[account_balances].[gold_version] AND s.[is_deleted] = 0;",
            "INSERT INTO [bank].[account_balances] ([account_id], [balance], [updated_at], [gold_version]) SELECT s.[account_id], s.[balance], s.[updated_at], s.[gold_version] FROM [bank].[_dedup_account_balances] AS s WHERE NOT EXISTS (SELECT 1 FROM [bank].[account_balances] AS t WHERE t.[account_id] = s.[account_id]) AND s.[is_deleted] = 0;",
        ], Synapse.Apply(roundRobinWithDeletes, Synapse.DedupTable(roundRobinWithDeletes)));
    }

    [Fact]
    public void Synapse_stages_with_copy_into_under_the_managed_identity_then_deduplicates_with_ctas()
    {
        Assert.Equal("IF OBJECT_ID(N'bank._stage_account_balances_l0123456789ab', N'U') IS NOT NULL DROP TABLE [bank].[_stage_account_balances_l0123456789ab];\n"
            + "CREATE TABLE [bank].[_stage_account_balances_l0123456789ab] ([account_id] NVARCHAR(256) NOT NULL, [balance] DECIMAL(18,2) NOT NULL, [updated_at] DATETIME2(6) NOT NULL, [gold_version] BIGINT NOT NULL, [is_deleted] BIT NOT NULL) WITH (DISTRIBUTION = ROUND_ROBIN, HEAP);",
            Synapse.CreateStagingTable(Balances, "l0123456789ab"));
        Assert.Equal("""
            COPY INTO [bank].[_stage_account_balances] ([account_id], [balance], [updated_at], [gold_version], [is_deleted])
            FROM 'https://bank.dfs.core.windows.net/lake/gold/account_balances/part-00001.parquet', 'https://bank.dfs.core.windows.net/lake/gold/account_balances/part-00002.parquet'
            WITH (FILE_TYPE = 'PARQUET', CREDENTIAL = (IDENTITY = 'Managed Identity'), AUTO_CREATE_TABLE = 'OFF');
            """, Synapse.CopyInto(Balances,
            ["https://bank.dfs.core.windows.net/lake/gold/account_balances/part-00001.parquet", "https://bank.dfs.core.windows.net/lake/gold/account_balances/part-00002.parquet"]));
        Assert.Equal(
        [
            "IF OBJECT_ID(N'bank._dedup_account_balances', N'U') IS NOT NULL DROP TABLE [bank].[_dedup_account_balances];",
            """
            CREATE TABLE [bank].[_dedup_account_balances] WITH (DISTRIBUTION = HASH([account_id]), HEAP) AS
            SELECT [account_id], [balance], [updated_at], [gold_version], [is_deleted] FROM (
                SELECT [account_id], [balance], [updated_at], [gold_version], [is_deleted], ROW_NUMBER() OVER (PARTITION BY [account_id] ORDER BY [gold_version] DESC, [is_deleted] DESC) AS [_rn] FROM [bank].[_stage_account_balances]
            ) AS d WHERE d.[_rn] = 1;
            """,
        ], Synapse.Deduplicate(Balances));
        Assert.Contains("WITH (DISTRIBUTION = ROUND_ROBIN, HEAP) AS", Synapse.Deduplicate(Branches)[1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://bank.dfs.core.windows.net/x.parquet")]
    [InlineData("/lake/gold/x.parquet")]
    [InlineData("https://bank.dfs.core.windows.net/x'; DROP TABLE t; --.parquet")]
    [InlineData("https://bank.dfs.core.windows.net/x\n.parquet")]
    public void Copy_into_refuses_anything_but_a_plain_https_url(string url) =>
        Assert.Throws<ArgumentException>(() => Synapse.CopyInto(Balances, [url]));

    [Fact]
    public void A_replacing_load_deletes_absent_keys_through_an_alias_and_updates_only_rows_that_differ()
    {
        Assert.Equal(
            "DELETE t FROM [bank].[account_balances] AS t WHERE NOT EXISTS (SELECT 1 FROM #stage_1 AS s WHERE t.[account_id] = s.[account_id] AND s.[is_deleted] = 0)",
            SqlServer.DeleteAbsent(Balances, "#stage_1"));
        var merge = SqlServer.ReplaceMerge(Balances, "#stage_1");
        Assert.StartsWith("MERGE INTO [bank].[account_balances] AS t\nUSING #stage_1 AS s\nON t.[account_id] = s.[account_id]\n", merge, StringComparison.Ordinal);
        Assert.Contains("WHEN MATCHED AND s.[is_deleted] = 0 AND (t.[balance] <> s.[balance] OR (t.[balance] IS NULL AND s.[balance] IS NOT NULL) OR (t.[balance] IS NOT NULL AND s.[balance] IS NULL) OR ", merge, StringComparison.Ordinal);
        Assert.DoesNotContain("s.[gold_version] > t.[gold_version]", merge, StringComparison.Ordinal);
        Assert.EndsWith("WHEN NOT MATCHED BY TARGET AND s.[is_deleted] = 0 THEN INSERT ([account_id], [balance], [updated_at], [gold_version]) VALUES (s.[account_id], s.[balance], s.[updated_at], s.[gold_version]);", merge, StringComparison.Ordinal);
        Assert.Equal("INSERT INTO [bank].[_warehouse_watermarks] ([pipeline], [table_name], [watermark], [updated_at]) VALUES (@p1, @p2, @p3, @p4)", SqlServer.InsertWatermark());
    }

    [Fact]
    public void Counts_watermark_and_views_are_parameterized_and_portable_to_dedicated_pools()
    {
        Assert.Equal("""
            SELECT
                COALESCE(SUM(CASE WHEN t.[account_id] IS NULL AND s.[is_deleted] = 0 THEN CAST(1 AS BIGINT) ELSE 0 END), 0) AS inserted,
                COALESCE(SUM(CASE WHEN t.[account_id] IS NOT NULL AND s.[gold_version] > t.[gold_version] AND s.[is_deleted] = 0 THEN CAST(1 AS BIGINT) ELSE 0 END), 0) AS updated,
                COALESCE(SUM(CASE WHEN t.[account_id] IS NOT NULL AND s.[gold_version] > t.[gold_version] AND s.[is_deleted] = 1 THEN CAST(1 AS BIGINT) ELSE 0 END), 0) AS deleted,
                COUNT_BIG(*) AS staged
            FROM #stage_1 AS s
            LEFT JOIN [bank].[account_balances] AS t ON t.[account_id] = s.[account_id]
            """, SqlServer.MergeCounts(Balances, "#stage_1"));
        // The fence: a compare-and-set from the expected watermark, the same text on both flavours.
        foreach (var dialect in new[] { SqlServer, Synapse })
        {
            Assert.Equal(
                "UPDATE [bank].[_warehouse_watermarks] SET [watermark] = @p3, [updated_at] = @p4 WHERE [pipeline] = @p1 AND [table_name] = @p2 AND [watermark] = @p5",
                dialect.AdvanceWatermark());
        }

        // A first watermark only where none exists: SQL Server holds the key-range lock to the commit (a racing first
        // load waits, then finds the row); Synapse has no locking hints and checks the outcome by reading it back.
        Assert.Equal(
            "INSERT INTO [bank].[_warehouse_watermarks] ([pipeline], [table_name], [watermark], [updated_at]) SELECT @p1, @p2, @p3, @p4 "
            + "WHERE NOT EXISTS (SELECT 1 FROM [bank].[_warehouse_watermarks] WITH (UPDLOCK, HOLDLOCK) WHERE [pipeline] = @p1 AND [table_name] = @p2);",
            SqlServer.InsertFirstWatermark());
        Assert.Equal(
            "INSERT INTO [bank].[_warehouse_watermarks] ([pipeline], [table_name], [watermark], [updated_at]) SELECT @p1, @p2, @p3, @p4 "
            + "WHERE NOT EXISTS (SELECT 1 FROM [bank].[_warehouse_watermarks] WHERE [pipeline] = @p1 AND [table_name] = @p2);",
            Synapse.InsertFirstWatermark());
        Assert.Equal("SELECT COUNT_BIG(*), MAX([watermark]) FROM [bank].[_warehouse_watermarks] WHERE [pipeline] = @p1 AND [table_name] = @p2", Synapse.CountWatermark());
        Assert.DoesNotContain("@@ROWCOUNT", Synapse.AdvanceWatermark() + Synapse.InsertFirstWatermark() + Synapse.CountWatermark(), StringComparison.Ordinal);
        Assert.Equal("SELECT [watermark], [updated_at] FROM [bank].[_warehouse_watermarks] WHERE [pipeline] = @p1 AND [table_name] = @p2", Synapse.SelectWatermark());
        Assert.Equal("INSERT INTO [bank].[_warehouse_migrations] ([version], [description], [applied_at]) VALUES (@p1, @p2, @p3)", SqlServer.InsertMigration());
        Assert.Equal(
        [
            "IF OBJECT_ID(N'bank.totals', N'V') IS NOT NULL DROP VIEW [bank].[totals];",
            "CREATE VIEW [bank].[totals] AS SELECT SUM([balance]) AS [total] FROM [bank].[account_balances];",
        ], Synapse.CreateView(new WarehouseView("totals", d => $"SELECT SUM({d.Quote("balance")}) AS {d.Quote("total")} FROM {d.Table("account_balances")}")));
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Every_table_shape_gets_complete_ddl_and_merge_on_both_flavours(string shape)
    {
        var table = Shape(shape);
        foreach (var dialect in new[] { SqlServer, Synapse })
        {
            var ddl = dialect.CreateTable(table);
            foreach (var column in table.TargetColumns)
            {
                Assert.Contains($"[{column.Name}] {dialect.TypeName(column, table)} {(column.Nullable ? "NULL" : "NOT NULL")}", ddl, StringComparison.Ordinal);
            }

            if (table.DeletedColumn is { } deleted)
            {
                Assert.DoesNotContain($"[{deleted}]", ddl, StringComparison.Ordinal);
            }

            Assert.Equal(ddl.Count(c => c == '('), ddl.Count(c => c == ')'));
            var source = dialect.IsSynapse ? dialect.DedupTable(table) : TSqlDialect.TempStagingName(1);
            var statements = dialect.Apply(table, source);
            Assert.All(statements, s => Assert.EndsWith(";", s, StringComparison.Ordinal));
            var all = string.Join("\n", statements);
            var target = dialect.IsSynapse && table.Distribution is not HashDistribution ? dialect.Table(table.Name) : "t";
            Assert.Contains($"s.[{table.VersionColumn}] > {target}.[{table.VersionColumn}]", all, StringComparison.Ordinal);
            foreach (var key in table.KeyColumns)
            {
                Assert.True(all.Contains($"t.[{key}] = s.[{key}]", StringComparison.Ordinal) || all.Contains($"s.[{key}] = {target}.[{key}]", StringComparison.Ordinal), $"{shape}: key {key} is not matched");
            }

            Assert.Equal(dialect.IsSynapse && table.Distribution is not HashDistribution, !all.StartsWith("MERGE", StringComparison.Ordinal));
            if (dialect.IsSynapse)
            {
                Assert.Contains(table.Distribution switch
                {
                    HashDistribution h => $"DISTRIBUTION = HASH([{h.Column}])",
                    ReplicateDistribution => "DISTRIBUTION = REPLICATE",
                    _ => "DISTRIBUTION = ROUND_ROBIN",
                }, ddl, StringComparison.Ordinal);
                Assert.DoesNotContain("PRIMARY KEY", ddl, StringComparison.Ordinal);
            }
            else
            {
                Assert.Contains($"PRIMARY KEY CLUSTERED ({string.Join(", ", table.KeyColumns.Select(k => $"[{k}]"))})", ddl, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void Table_descriptions_are_checked_before_any_sql_is_generated()
    {
        var columns = Balances.Schema;
        Assert.Throws<ArgumentException>(() => new WarehouseTable(columns, [], "gold_version"));
        Assert.Throws<ArgumentException>(() => new WarehouseTable(columns, ["account_id"], "balance"));
        Assert.Throws<ArgumentException>(() => new WarehouseTable(columns, ["account_id"], "gold_version", "balance"));
        Assert.Throws<ArgumentException>(() => new WarehouseTable(columns, ["missing"], "gold_version"));
        Assert.Throws<ArgumentException>(() => (Balances with { Distribution = SynapseDistribution.Hash("is_deleted") }).Validate());
        Assert.Throws<ArgumentException>(() => (Balances with { StringLengths = new Dictionary<string, int> { ["balance"] = 10 } }).Validate());
        Assert.Throws<ArgumentException>(() => new TSqlDialect("Bank]; DROP", synapse: true));
        Assert.Throws<ArgumentException>(() => SqlServer.Quote("a]b"));
    }
}
