using BaloyiBank.Aggregator;
using BaloyiBank.Delta;
using BaloyiBank.Lake;
using BaloyiBank.Lake.Blob;
using BaloyiBank.Warehouse;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Sink.Tests;

/// <summary>
/// Synapse reads gold where it lies: the sink hands it each changed file's Blob URL, and the pool's <c>COPY INTO</c>
/// (managed identity) stages it. No Synapse runs here, so the generated T-SQL is checked as text for every sink table;
/// the refusal of a folder or plain-http lake is checked at start-up and in the loader.
/// </summary>
public sealed class SynapseStagingTests
{
    private static readonly TSqlDialect Synapse = new("baloyi", synapse: true);

    /// <summary>An ADLS Gen2 account through its blob endpoint, with a SAS that must never reach a URL.</summary>
    private static BlobLakeStore AdlsLake() => new(new BlobLakeOptions
    {
        ServiceUri = "https://baloyibank.blob.core.windows.net",
        Container = "lake",
        Prefix = "prod/",
        Credential = BlobCredentialKinds.Sas,
        SasToken = "sv=2025-01-05&sp=racwdl&sig=not-a-real-signature",
    });

    private static AddFile Add(string path) => new() { Path = path, PartitionValues = new Dictionary<string, string?>(), Size = 1, ModificationTime = 0 };

    private static IReadOnlyList<string> UrlsOf(BlobLakeStore lake, WarehouseTable table)
    {
        using var delta = new DeltaTable(lake, GoldStore.ChangeTablePath("gold", table.Schema));
        return GoldChangeReader.FileUrls(lake, delta, [Add("part-r000002-0001.zstd.parquet"), Add("part-r000001-0001.zstd.parquet")]);
    }

    [Fact]
    public void Each_changed_file_becomes_its_blob_url_in_path_order_without_the_sas()
    {
        using var lake = AdlsLake();
        using var delta = new DeltaTable(lake, GoldStore.ChangeTablePath("gold", GoldTables.DailyTransactionSummary));

        // A Delta add path is URI-encoded in the log; the URL carries the decoded lake path, each segment escaped once.
        var urls = GoldChangeReader.FileUrls(lake, delta, [Add("event_date=2026-01-02/part%20b.parquet"), Add("event_date=2026-01-01/part-a.parquet")]);

        Assert.Equal(
        [
            "https://baloyibank.blob.core.windows.net/lake/prod/gold/changes/daily_transaction_summary/event_date%3D2026-01-01/part-a.parquet",
            "https://baloyibank.blob.core.windows.net/lake/prod/gold/changes/daily_transaction_summary/event_date%3D2026-01-02/part%20b.parquet",
        ], urls);
        Assert.All(urls, u => Assert.DoesNotContain("sig=", u, StringComparison.Ordinal));
    }

    public static TheoryData<string> SinkTables => [.. SinkModel.Tables.Select(t => t.Name)];

    [Theory]
    [MemberData(nameof(SinkTables))]
    public void Copy_into_reads_the_blob_urls_with_the_managed_identity_and_the_merge_applies_the_deduplicated_rows(string name)
    {
        using var lake = AdlsLake();
        var table = SinkModel.Tables.Single(t => t.Name == name);
        var (copy, apply) = Expected[name];

        Assert.Equal(copy, Synapse.CopyInto(table, UrlsOf(lake, table)));
        Assert.Equal(apply, Synapse.Apply(table, Synapse.DedupTable(table)));
    }

    [Fact]
    public void Each_load_stages_into_tables_of_its_own_and_drops_them()
    {
        var table = SinkModel.Tables[0];
        var (one, two) = (TSqlDialect.NewLoadTag(), TSqlDialect.NewLoadTag());
        Assert.NotEqual(one, two);
        Assert.Matches("^l[0-9a-f]{12}$", one);

        // A stale loader's staging (tag one) and the active loader's (tag two) never share a table.
        Assert.Equal($"[baloyi].[_stage_{table.Name}_{one}]", Synapse.StagingTable(table, one));
        Assert.NotEqual(Synapse.StagingTable(table, one), Synapse.StagingTable(table, two));
        Assert.NotEqual(Synapse.DedupTable(table, one), Synapse.DedupTable(table, two));
        Assert.StartsWith($"IF OBJECT_ID(N'baloyi._stage_{table.Name}_{one}', N'U') IS NOT NULL DROP TABLE [baloyi].[_stage_{table.Name}_{one}];\nCREATE TABLE [baloyi].[_stage_{table.Name}_{one}] (", Synapse.CreateStagingTable(table, one), StringComparison.Ordinal);
        Assert.StartsWith($"COPY INTO [baloyi].[_stage_{table.Name}_{one}] (", Synapse.CopyInto(table, ["https://a.blob.core.windows.net/lake/gold/x.parquet"], one), StringComparison.Ordinal);
        Assert.All(Synapse.Deduplicate(table, one), sql => Assert.DoesNotContain($"_{two}]", sql, StringComparison.Ordinal));
        Assert.Contains($"FROM [baloyi].[_stage_{table.Name}_{one}]", Synapse.Deduplicate(table, one)[1], StringComparison.Ordinal);
        Assert.Equal(
        [
            $"IF OBJECT_ID(N'baloyi._stage_{table.Name}_{one}', N'U') IS NOT NULL DROP TABLE [baloyi].[_stage_{table.Name}_{one}];",
            $"IF OBJECT_ID(N'baloyi._dedup_{table.Name}_{one}', N'U') IS NOT NULL DROP TABLE [baloyi].[_dedup_{table.Name}_{one}];",
        ], Synapse.DropStaging(table, one));
        Assert.Throws<ArgumentException>(() => Synapse.StagingTable(table, "x'; DROP TABLE t;--"));
    }

    [Fact]
    public void A_synapse_warehouse_is_refused_over_a_folder_lake_or_a_plain_http_blob_endpoint()
    {
        var synapse = new WarehouseOptions { Kind = "synapse", ConnectionString = "Server=tcp:pool.sql.azuresynapse.net,1433;Database=gold" };
        static ValidateOptionsResult Check(WarehouseOptions warehouse, string lakeKind, string serviceUri) =>
            new SinkLakeValidator(Options.Create(warehouse), Options.Create(new LakeOptions { Kind = lakeKind }), Options.Create(new BlobLakeOptions { ServiceUri = serviceUri }))
                .Validate(null, new SinkOptions());

        var folder = Check(synapse, "folder", "");
        Assert.True(folder.Failed);
        var message = Assert.Single(folder.Failures!);
        Assert.StartsWith("Warehouse:Kind is synapse but Lake:Kind is 'folder'", message, StringComparison.Ordinal);
        Assert.Contains("Fix: set Lake__Kind=blob and Lake__Blob__ServiceUri=https://", message, StringComparison.Ordinal);
        var http = Check(synapse, "blob", "http://127.0.0.1:10000/devstoreaccount1");
        Assert.True(http.Failed);
        Assert.Contains("Lake:Blob:ServiceUri is 'http://127.0.0.1:10000/devstoreaccount1', not https", Assert.Single(http.Failures!), StringComparison.Ordinal);
        Assert.True(Check(synapse, "blob", "https://baloyibank.blob.core.windows.net").Succeeded);
        Assert.True(Check(new WarehouseOptions(), "folder", "").Succeeded);
        Assert.True(Check(new WarehouseOptions { Kind = "sqlserver", ConnectionString = "Server=tcp:x,1433" }, "folder", "").Succeeded);
    }

    [Fact]
    public async Task The_sink_service_does_not_start_with_synapse_over_a_folder_lake()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Lake:Kind"] = "folder",
            ["Lake:Folder:Root"] = Path.Combine(Path.GetTempPath(), "baloyi-sink-synapse-" + Guid.NewGuid().ToString("N")),
            ["Warehouse:Kind"] = "synapse",
            ["Warehouse:ConnectionString"] = "Server=tcp:127.0.0.1,1;Database=gold",
        });
        builder.Services.AddLake(builder.Configuration).AddBlobLake(builder.Configuration);
        builder.Services.AddSink(builder.Configuration);
        using var host = builder.Build();

        var refused = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(refused.Failures, f => f.StartsWith("Warehouse:Kind is synapse but Lake:Kind is 'folder'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_loader_refuses_a_synapse_warehouse_over_a_folder_lake()
    {
        var folder = Path.Combine(Path.GetTempPath(), "baloyi-sink-synapse-" + Guid.NewGuid().ToString("N"));
        await using var warehouse = new SqlServerWarehouse("Server=tcp:127.0.0.1,1;Database=gold", synapse: true);

        var refused = Assert.Throws<InvalidOperationException>(() => new SinkLoader(new FolderLakeStore(folder), warehouse, new SinkOptions()));

        Assert.StartsWith("Warehouse:Kind is synapse but the folder lake", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>Per sink table: the COPY INTO over its two changed files, and the statements applying the de-duplicated rows.</summary>
    private static readonly Dictionary<string, (string Copy, string[] Apply)> Expected = new()
    {
        ["account_balances"] = (
            """
            COPY INTO [baloyi].[_stage_account_balances] ([account_id], [customer_id], [account_type], [currency], [opening_balance], [overdraft_limit], [balance], [available_balance], [transaction_count], [total_credits], [total_debits], [first_transaction_at], [last_transaction_at], [opened_at], [source_partition], [opened_source_offset], [last_source_offset], [gold_version], [updated_at])
            FROM 'https://baloyibank.blob.core.windows.net/lake/prod/gold/changes/account_balances/part-r000001-0001.zstd.parquet', 'https://baloyibank.blob.core.windows.net/lake/prod/gold/changes/account_balances/part-r000002-0001.zstd.parquet'
            WITH (FILE_TYPE = 'PARQUET', CREDENTIAL = (IDENTITY = 'Managed Identity'), AUTO_CREATE_TABLE = 'OFF');
            """,
            [
                """
                MERGE INTO [baloyi].[account_balances] AS t
                USING [baloyi].[_dedup_account_balances] AS s
                ON t.[account_id] = s.[account_id]
                WHEN MATCHED AND s.[gold_version] > t.[gold_version] THEN UPDATE SET [customer_id] = s.[customer_id], [account_type] = s.[account_type], [currency] = s.[currency], [opening_balance] = s.[opening_balance], [overdraft_limit] = s.[overdraft_limit], [balance] = s.[balance], [available_balance] = s.[available_balance], [transaction_count] = s.[transaction_count], [total_credits] = s.[total_credits], [total_debits] = s.[total_debits], [first_transaction_at] = s.[first_transaction_at], [last_transaction_at] = s.[last_transaction_at], [opened_at] = s.[opened_at], [source_partition] = s.[source_partition], [opened_source_offset] = s.[opened_source_offset], [last_source_offset] = s.[last_source_offset], [gold_version] = s.[gold_version], [updated_at] = s.[updated_at]
                WHEN NOT MATCHED BY TARGET THEN INSERT ([account_id], [customer_id], [account_type], [currency], [opening_balance], [overdraft_limit], [balance], [available_balance], [transaction_count], [total_credits], [total_debits], [first_transaction_at], [last_transaction_at], [opened_at], [source_partition], [opened_source_offset], [last_source_offset], [gold_version], [updated_at]) VALUES (s.[account_id], s.[customer_id], s.[account_type], s.[currency], s.[opening_balance], s.[overdraft_limit], s.[balance], s.[available_balance], s.[transaction_count], s.[total_credits], s.[total_debits], s.[first_transaction_at], s.[last_transaction_at], s.[opened_at], s.[source_partition], s.[opened_source_offset], s.[last_source_offset], s.[gold_version], s.[updated_at]);
                """,
            ]),
        ["customer_positions"] = (
            """
            COPY INTO [baloyi].[_stage_customer_positions] ([customer_id], [currency], [first_name], [last_name], [segment], [city], [country], [accounts], [deposits], [loans], [loan_principal], [loan_principal_repaid], [loans_outstanding], [loan_interest_paid], [net_position], [last_activity_at], [gold_version], [updated_at])
            FROM 'https://baloyibank.blob.core.windows.net/lake/prod/gold/changes/customer_positions/part-r000001-0001.zstd.parquet', 'https://baloyibank.blob.core.windows.net/lake/prod/gold/changes/customer_positions/part-r000002-0001.zstd.parquet'
            WITH (FILE_TYPE = 'PARQUET', CREDENTIAL = (IDENTITY = 'Managed Identity'), AUTO_CREATE_TABLE = 'OFF');
            """,
            [
                """
                MERGE INTO [baloyi].[customer_positions] AS t
                USING [baloyi].[_dedup_customer_positions] AS s
                ON t.[customer_id] = s.[customer_id] AND t.[currency] = s.[currency]
                WHEN MATCHED AND s.[gold_version] > t.[gold_version] THEN UPDATE SET [first_name] = s.[first_name], [last_name] = s.[last_name], [segment] = s.[segment], [city] = s.[city], [country] = s.[country], [accounts] = s.[accounts], [deposits] = s.[deposits], [loans] = s.[loans], [loan_principal] = s.[loan_principal], [loan_principal_repaid] = s.[loan_principal_repaid], [loans_outstanding] = s.[loans_outstanding], [loan_interest_paid] = s.[loan_interest_paid], [net_position] = s.[net_position], [last_activity_at] = s.[last_activity_at], [gold_version] = s.[gold_version], [updated_at] = s.[updated_at]
                WHEN NOT MATCHED BY TARGET THEN INSERT ([customer_id], [currency], [first_name], [last_name], [segment], [city], [country], [accounts], [deposits], [loans], [loan_principal], [loan_principal_repaid], [loans_outstanding], [loan_interest_paid], [net_position], [last_activity_at], [gold_version], [updated_at]) VALUES (s.[customer_id], s.[currency], s.[first_name], s.[last_name], s.[segment], s.[city], s.[country], s.[accounts], s.[deposits], s.[loans], s.[loan_principal], s.[loan_principal_repaid], s.[loans_outstanding], s.[loan_interest_paid], s.[net_position], s.[last_activity_at], s.[gold_version], s.[updated_at]);
                """,
            ]),
        ["daily_transaction_summary"] = (
            """
            COPY INTO [baloyi].[_stage_daily_transaction_summary] ([event_date], [category], [country], [city], [currency], [transaction_count], [total_amount], [net_amount], [avg_amount], [min_amount], [max_amount], [distinct_accounts], [latitude_micro_sum], [longitude_micro_sum], [gold_version], [updated_at])
            FROM 'https://baloyibank.blob.core.windows.net/lake/prod/gold/changes/daily_transaction_summary/part-r000001-0001.zstd.parquet', 'https://baloyibank.blob.core.windows.net/lake/prod/gold/changes/daily_transaction_summary/part-r000002-0001.zstd.parquet'
            WITH (FILE_TYPE = 'PARQUET', CREDENTIAL = (IDENTITY = 'Managed Identity'), AUTO_CREATE_TABLE = 'OFF');
            """,
            [
                "UPDATE [baloyi].[daily_transaction_summary] SET [transaction_count] = s.[transaction_count], [total_amount] = s.[total_amount], [net_amount] = s.[net_amount], [avg_amount] = s.[avg_amount], [min_amount] = s.[min_amount], [max_amount] = s.[max_amount], [distinct_accounts] = s.[distinct_accounts], [latitude_micro_sum] = s.[latitude_micro_sum], [longitude_micro_sum] = s.[longitude_micro_sum], [gold_version] = s.[gold_version], [updated_at] = s.[updated_at] FROM [baloyi].[_dedup_daily_transaction_summary] AS s WHERE s.[event_date] = [baloyi].[daily_transaction_summary].[event_date] AND s.[category] = [baloyi].[daily_transaction_summary].[category] AND s.[country] = [baloyi].[daily_transaction_summary].[country] AND s.[city] = [baloyi].[daily_transaction_summary].[city] AND s.[currency] = [baloyi].[daily_transaction_summary].[currency] AND s.[gold_version] > [baloyi].[daily_transaction_summary].[gold_version];",
                "INSERT INTO [baloyi].[daily_transaction_summary] ([event_date], [category], [country], [city], [currency], [transaction_count], [total_amount], [net_amount], [avg_amount], [min_amount], [max_amount], [distinct_accounts], [latitude_micro_sum], [longitude_micro_sum], [gold_version], [updated_at]) SELECT s.[event_date], s.[category], s.[country], s.[city], s.[currency], s.[transaction_count], s.[total_amount], s.[net_amount], s.[avg_amount], s.[min_amount], s.[max_amount], s.[distinct_accounts], s.[latitude_micro_sum], s.[longitude_micro_sum], s.[gold_version], s.[updated_at] FROM [baloyi].[_dedup_daily_transaction_summary] AS s WHERE NOT EXISTS (SELECT 1 FROM [baloyi].[daily_transaction_summary] AS t WHERE t.[event_date] = s.[event_date] AND t.[category] = s.[category] AND t.[country] = s.[country] AND t.[city] = s.[city] AND t.[currency] = s.[currency]);",
            ]),
        ["loan_status"] = (
            """
            COPY INTO [baloyi].[_stage_loan_status] ([loan_id], [customer_id], [account_id], [product], [currency], [principal], [annual_interest_rate], [term_months], [monthly_instalment], [first_due_date], [disbursed_at], [instalments_paid], [paid_to_date], [principal_repaid], [interest_paid], [outstanding], [last_payment_at], [next_due_date], [days_past_due], [as_of_date], [source_partition], [disbursed_source_offset], [last_source_offset], [gold_version], [updated_at])
            FROM 'https://baloyibank.blob.core.windows.net/lake/prod/gold/changes/loan_status/part-r000001-0001.zstd.parquet', 'https://baloyibank.blob.core.windows.net/lake/prod/gold/changes/loan_status/part-r000002-0001.zstd.parquet'
            WITH (FILE_TYPE = 'PARQUET', CREDENTIAL = (IDENTITY = 'Managed Identity'), AUTO_CREATE_TABLE = 'OFF');
            """,
            [
                """
                MERGE INTO [baloyi].[loan_status] AS t
                USING [baloyi].[_dedup_loan_status] AS s
                ON t.[loan_id] = s.[loan_id]
                WHEN MATCHED AND s.[gold_version] > t.[gold_version] THEN UPDATE SET [customer_id] = s.[customer_id], [account_id] = s.[account_id], [product] = s.[product], [currency] = s.[currency], [principal] = s.[principal], [annual_interest_rate] = s.[annual_interest_rate], [term_months] = s.[term_months], [monthly_instalment] = s.[monthly_instalment], [first_due_date] = s.[first_due_date], [disbursed_at] = s.[disbursed_at], [instalments_paid] = s.[instalments_paid], [paid_to_date] = s.[paid_to_date], [principal_repaid] = s.[principal_repaid], [interest_paid] = s.[interest_paid], [outstanding] = s.[outstanding], [last_payment_at] = s.[last_payment_at], [next_due_date] = s.[next_due_date], [days_past_due] = s.[days_past_due], [as_of_date] = s.[as_of_date], [source_partition] = s.[source_partition], [disbursed_source_offset] = s.[disbursed_source_offset], [last_source_offset] = s.[last_source_offset], [gold_version] = s.[gold_version], [updated_at] = s.[updated_at]
                WHEN NOT MATCHED BY TARGET THEN INSERT ([loan_id], [customer_id], [account_id], [product], [currency], [principal], [annual_interest_rate], [term_months], [monthly_instalment], [first_due_date], [disbursed_at], [instalments_paid], [paid_to_date], [principal_repaid], [interest_paid], [outstanding], [last_payment_at], [next_due_date], [days_past_due], [as_of_date], [source_partition], [disbursed_source_offset], [last_source_offset], [gold_version], [updated_at]) VALUES (s.[loan_id], s.[customer_id], s.[account_id], s.[product], s.[currency], s.[principal], s.[annual_interest_rate], s.[term_months], s.[monthly_instalment], s.[first_due_date], s.[disbursed_at], s.[instalments_paid], s.[paid_to_date], s.[principal_repaid], s.[interest_paid], s.[outstanding], s.[last_payment_at], s.[next_due_date], s.[days_past_due], s.[as_of_date], s.[source_partition], s.[disbursed_source_offset], s.[last_source_offset], s.[gold_version], s.[updated_at]);
                """,
            ]),
    };
}
