-- BaloyiBank warehouse on a Synapse dedicated SQL pool: the schema, the sink's control tables, the four MERGE
-- target tables (distribution and index as SinkModel declares them) and the reporting views. This is exactly the
-- DDL the sink ensures on start (TSqlDialect + SinkModel; tests/BaloyiBank.Deploy.Tests checks it statement by
-- statement), so running it first is optional: it lets an administrator create the objects and review them, and
-- lets the sink's identity run without CREATE TABLE rights on a fresh pool only once it exists.
-- Every statement is idempotent. Run against the pool database (sqlcmd -S <ws>.sql.azuresynapse.net -d <pool> -G -i …).
-- The loads themselves (COPY INTO a staging heap, CTAS de-duplication, MERGE or DELETE/UPDATE/INSERT, the
-- watermark's compare-and-set) are generated per load by the sink; see services/platform/BaloyiBank.Warehouse.

IF SCHEMA_ID(N'baloyi') IS NULL EXEC(N'CREATE SCHEMA [baloyi]');
GO

IF OBJECT_ID(N'baloyi._warehouse_migrations', N'U') IS NULL CREATE TABLE [baloyi].[_warehouse_migrations] ([version] INT NOT NULL, [description] NVARCHAR(400) NOT NULL, [applied_at] DATETIME2(6) NOT NULL) WITH (DISTRIBUTION = ROUND_ROBIN, HEAP);
GO

IF OBJECT_ID(N'baloyi._warehouse_watermarks', N'U') IS NULL CREATE TABLE [baloyi].[_warehouse_watermarks] ([pipeline] NVARCHAR(128) NOT NULL, [table_name] NVARCHAR(128) NOT NULL, [watermark] BIGINT NOT NULL, [updated_at] DATETIME2(6) NOT NULL) WITH (DISTRIBUTION = ROUND_ROBIN, HEAP);
GO

IF OBJECT_ID(N'baloyi.account_balances', N'U') IS NULL
CREATE TABLE [baloyi].[account_balances] (
    [account_id] NVARCHAR(256) NOT NULL,
    [customer_id] NVARCHAR(4000) NULL,
    [account_type] NVARCHAR(4000) NULL,
    [currency] NVARCHAR(4000) NOT NULL,
    [opening_balance] DECIMAL(18,2) NULL,
    [overdraft_limit] DECIMAL(18,2) NULL,
    [balance] DECIMAL(18,2) NOT NULL,
    [available_balance] DECIMAL(18,2) NOT NULL,
    [transaction_count] BIGINT NOT NULL,
    [total_credits] DECIMAL(18,2) NOT NULL,
    [total_debits] DECIMAL(18,2) NOT NULL,
    [first_transaction_at] DATETIME2(6) NULL,
    [last_transaction_at] DATETIME2(6) NULL,
    [opened_at] DATETIME2(6) NULL,
    [source_partition] INT NOT NULL,
    [opened_source_offset] BIGINT NULL,
    [last_source_offset] BIGINT NOT NULL,
    [gold_version] BIGINT NOT NULL,
    [updated_at] DATETIME2(6) NOT NULL
)
WITH (DISTRIBUTION = HASH([account_id]), CLUSTERED COLUMNSTORE INDEX);
GO

IF OBJECT_ID(N'baloyi.customer_positions', N'U') IS NULL
CREATE TABLE [baloyi].[customer_positions] (
    [customer_id] NVARCHAR(256) NOT NULL,
    [currency] NVARCHAR(256) NOT NULL,
    [first_name] NVARCHAR(4000) NULL,
    [last_name] NVARCHAR(4000) NULL,
    [segment] NVARCHAR(4000) NULL,
    [city] NVARCHAR(4000) NULL,
    [country] NVARCHAR(4000) NULL,
    [accounts] INT NOT NULL,
    [deposits] DECIMAL(18,2) NOT NULL,
    [loans] INT NOT NULL,
    [loan_principal] DECIMAL(18,2) NOT NULL,
    [loan_principal_repaid] DECIMAL(18,2) NOT NULL,
    [loans_outstanding] DECIMAL(18,2) NOT NULL,
    [loan_interest_paid] DECIMAL(18,2) NOT NULL,
    [net_position] DECIMAL(18,2) NOT NULL,
    [last_activity_at] DATETIME2(6) NULL,
    [gold_version] BIGINT NOT NULL,
    [updated_at] DATETIME2(6) NOT NULL
)
WITH (DISTRIBUTION = HASH([customer_id]), CLUSTERED COLUMNSTORE INDEX);
GO

IF OBJECT_ID(N'baloyi.daily_transaction_summary', N'U') IS NULL
CREATE TABLE [baloyi].[daily_transaction_summary] (
    [event_date] DATE NOT NULL,
    [category] NVARCHAR(256) NOT NULL,
    [country] NVARCHAR(256) NOT NULL,
    [city] NVARCHAR(256) NOT NULL,
    [currency] NVARCHAR(256) NOT NULL,
    [transaction_count] BIGINT NOT NULL,
    [total_amount] DECIMAL(18,2) NOT NULL,
    [net_amount] DECIMAL(18,2) NOT NULL,
    [avg_amount] DECIMAL(18,2) NOT NULL,
    [min_amount] DECIMAL(18,2) NOT NULL,
    [max_amount] DECIMAL(18,2) NOT NULL,
    [distinct_accounts] BIGINT NOT NULL,
    [latitude_micro_sum] BIGINT NOT NULL,
    [longitude_micro_sum] BIGINT NOT NULL,
    [gold_version] BIGINT NOT NULL,
    [updated_at] DATETIME2(6) NOT NULL
)
WITH (DISTRIBUTION = REPLICATE, CLUSTERED COLUMNSTORE INDEX);
GO

IF OBJECT_ID(N'baloyi.loan_status', N'U') IS NULL
CREATE TABLE [baloyi].[loan_status] (
    [loan_id] NVARCHAR(256) NOT NULL,
    [customer_id] NVARCHAR(4000) NULL,
    [account_id] NVARCHAR(4000) NULL,
    [product] NVARCHAR(4000) NULL,
    [currency] NVARCHAR(4000) NULL,
    [principal] DECIMAL(18,2) NULL,
    [annual_interest_rate] DECIMAL(18,6) NULL,
    [term_months] INT NULL,
    [monthly_instalment] DECIMAL(18,2) NULL,
    [first_due_date] DATE NULL,
    [disbursed_at] DATETIME2(6) NULL,
    [instalments_paid] BIGINT NOT NULL,
    [paid_to_date] DECIMAL(18,2) NOT NULL,
    [principal_repaid] DECIMAL(18,2) NOT NULL,
    [interest_paid] DECIMAL(18,2) NOT NULL,
    [outstanding] DECIMAL(18,2) NULL,
    [last_payment_at] DATETIME2(6) NULL,
    [next_due_date] DATE NULL,
    [days_past_due] INT NULL,
    [as_of_date] DATE NULL,
    [source_partition] INT NOT NULL,
    [disbursed_source_offset] BIGINT NULL,
    [last_source_offset] BIGINT NOT NULL,
    [gold_version] BIGINT NOT NULL,
    [updated_at] DATETIME2(6) NOT NULL
)
WITH (DISTRIBUTION = HASH([loan_id]), CLUSTERED COLUMNSTORE INDEX);
GO

IF OBJECT_ID(N'baloyi.transaction_trends_daily', N'V') IS NOT NULL DROP VIEW [baloyi].[transaction_trends_daily];
GO

CREATE VIEW [baloyi].[transaction_trends_daily] AS SELECT [event_date], [category], [country], [currency], SUM([transaction_count]) AS [transaction_count], SUM([total_amount]) AS [total_amount], SUM([net_amount]) AS [net_amount], MIN([min_amount]) AS [min_amount], MAX([max_amount]) AS [max_amount] FROM [baloyi].[daily_transaction_summary] GROUP BY [event_date], [category], [country], [currency];
GO

IF OBJECT_ID(N'baloyi.totals_by_category', N'V') IS NOT NULL DROP VIEW [baloyi].[totals_by_category];
GO

CREATE VIEW [baloyi].[totals_by_category] AS SELECT [category], [event_date], [country], [currency], SUM([transaction_count]) AS [transaction_count], SUM([total_amount]) AS [total_amount], SUM([net_amount]) AS [net_amount], MIN([min_amount]) AS [min_amount], MAX([max_amount]) AS [max_amount] FROM [baloyi].[daily_transaction_summary] GROUP BY [category], [event_date], [country], [currency];
GO

IF OBJECT_ID(N'baloyi.amounts_by_place', N'V') IS NOT NULL DROP VIEW [baloyi].[amounts_by_place];
GO

CREATE VIEW [baloyi].[amounts_by_place] AS SELECT [country], [city], [event_date], [category], [currency], SUM([transaction_count]) AS [transaction_count], SUM([total_amount]) AS [total_amount], SUM([net_amount]) AS [net_amount], MIN([min_amount]) AS [min_amount], MAX([max_amount]) AS [max_amount], SUM([latitude_micro_sum]) AS [latitude_micro_sum], SUM([longitude_micro_sum]) AS [longitude_micro_sum], CAST(SUM([latitude_micro_sum]) AS FLOAT) / NULLIF(SUM([transaction_count]), 0) / 1000000 AS [latitude], CAST(SUM([longitude_micro_sum]) AS FLOAT) / NULLIF(SUM([transaction_count]), 0) / 1000000 AS [longitude] FROM [baloyi].[daily_transaction_summary] GROUP BY [country], [city], [event_date], [category], [currency];
GO

IF OBJECT_ID(N'baloyi.top_customers_by_net_position', N'V') IS NOT NULL DROP VIEW [baloyi].[top_customers_by_net_position];
GO

CREATE VIEW [baloyi].[top_customers_by_net_position] AS SELECT [currency], [position_rank], [country_rank], [customer_id], [first_name], [last_name], [segment], [country], [city], [deposits], [loans_outstanding], [net_position] FROM (SELECT [currency], [customer_id], [first_name], [last_name], [segment], [country], [city], [deposits], [loans_outstanding], [net_position], ROW_NUMBER() OVER (PARTITION BY [currency] ORDER BY [net_position] DESC, [customer_id]) AS [position_rank], ROW_NUMBER() OVER (PARTITION BY [currency], [country] ORDER BY [net_position] DESC, [customer_id]) AS [country_rank] FROM [baloyi].[customer_positions]) [ranked] WHERE [position_rank] <= 100 OR [country_rank] <= 100;
GO
