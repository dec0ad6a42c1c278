-- Serverless SQL views over the gold Delta tables in the lake: what Power BI or an analyst reads without the
-- dedicated pool (and what the warehouse can be checked against). Each gold/<table> is a Delta table holding exactly
-- one row per key (the current state as of the aggregator round its latest commit records), so a view is a plain
-- read of it; FORMAT = 'DELTA' replays the Delta log, so files replaced by a refresh are never read. The change
-- tables the sink loads live apart, under gold/changes/ (tests/BaloyiBank.Deploy.Tests checks columns and types
-- against GoldTables).
-- Generations: the views read gold generation 0 (gold/<table>). After a gold rebuild switched the layer
-- (gold/_generations/switch-gNNNN.json; `baloyi replay --layer gold`, or the aggregator following a silver replay),
-- the live tables are gold/gNNNN/<table>: re-create the views with that prefix in each BULK path.
-- Run on the workspace's serverless endpoint (<ws>-ondemand.sql.azuresynapse.net) as the Entra administrator:
--   sqlcmd -S <ws>-ondemand.sql.azuresynapse.net -d master -G -v StorageAccount=<account> -i deploy/synapse/serverless-gold.sql
-- The data source has no credential: a reader's own Entra identity reads the files (give readers Storage Blob
-- Data Reader on the lake container).

IF DB_ID(N'baloyi_gold') IS NULL CREATE DATABASE [baloyi_gold] COLLATE Latin1_General_100_BIN2_UTF8;
GO

USE [baloyi_gold];
GO

IF NOT EXISTS (SELECT 1 FROM sys.external_data_sources WHERE name = N'lake')
    CREATE EXTERNAL DATA SOURCE [lake] WITH (LOCATION = N'https://$(StorageAccount).dfs.core.windows.net/lake');
GO

IF SCHEMA_ID(N'gold') IS NULL EXEC(N'CREATE SCHEMA [gold]');
GO

CREATE OR ALTER VIEW [gold].[account_balances] AS
SELECT [account_id], [customer_id], [account_type], [currency], [opening_balance], [overdraft_limit], [balance], [available_balance], [transaction_count], [total_credits], [total_debits], [first_transaction_at], [last_transaction_at], [opened_at], [source_partition], [opened_source_offset], [last_source_offset], [gold_version], [updated_at]
FROM OPENROWSET(BULK 'gold/account_balances/', DATA_SOURCE = 'lake', FORMAT = 'DELTA')
    WITH (
        [account_id] VARCHAR(4000) COLLATE Latin1_General_100_BIN2_UTF8,
        [customer_id] VARCHAR(4000) COLLATE Latin1_General_100_BIN2_UTF8,
        [account_type] VARCHAR(4000) COLLATE Latin1_General_100_BIN2_UTF8,
        [currency] VARCHAR(4000) COLLATE Latin1_General_100_BIN2_UTF8,
        [opening_balance] DECIMAL(18,2),
        [overdraft_limit] DECIMAL(18,2),
        [balance] DECIMAL(18,2),
        [available_balance] DECIMAL(18,2),
        [transaction_count] BIGINT,
        [total_credits] DECIMAL(18,2),
        [total_debits] DECIMAL(18,2),
        [first_transaction_at] DATETIME2(6),
        [last_transaction_at] DATETIME2(6),
        [opened_at] DATETIME2(6),
        [source_partition] INT,
        [opened_source_offset] BIGINT,
        [last_source_offset] BIGINT,
        [gold_version] BIGINT,
        [updated_at] DATETIME2(6)
    ) AS r;
GO

CREATE OR ALTER VIEW [gold].[customer_positions] AS
SELECT [customer_id], [currency], [first_name], [last_name], [segment], [city], [country], [accounts], [deposits], [loans], [loan_principal], [loan_principal_repaid], [loans_outstanding], [loan_interest_paid], [net_position], [last_activity_at], [gold_version], [updated_at]
FROM OPENROWSET(BULK 'gold/customer_positions/', DATA_SOURCE = 'lake', FORMAT = 'DELTA')
    WITH (
        [customer_id] VARCHAR(4000) COLLATE Latin1_General_100_BIN2_UTF8,
        [currency] VARCHAR(4000) COLLATE Latin1_General_100_BIN2_UTF8,
        [first_name] VARCHAR(4000) COLLATE Latin1_General_100_BIN2_UTF8,
        [last_name] VARCHAR(4000) COLLATE Latin1_General_100_BIN2_UTF8,
        [segment] VARCHAR(4000) COLLATE Latin1_General_100_BIN2_UTF8,
        [city] VARCHAR(4000) COLLATE Latin1_General_100_BIN2_UTF8,
        [country] VARCHAR(4000) COLLATE Latin1_General_100_BIN2_UTF8,
        [accounts] INT,
        [deposits] DECIMAL(18,2),
        [loans] INT,
        [loan_principal] DECIMAL(18,2),
        [loan_principal_repaid] DECIMAL(18,2),
        [loans_outstanding] DECIMAL(18,2),
        [loan_interest_paid] DECIMAL(18,2),
        [net_position] DECIMAL(18,2),
        [last_activity_at] DATETIME2(6),
        [gold_version] BIGINT,
        [updated_at] DATETIME2(6)
    ) AS r;
GO

CREATE OR ALTER VIEW [gold].[daily_transaction_summary] AS
SELECT [event_date], [category], [country], [city], [currency], [transaction_count], [total_amount], [net_amount], [avg_amount], [min_amount], [max_amount], [distinct_accounts], [latitude_micro_sum], [longitude_micro_sum], [gold_version], [updated_at]
FROM OPENROWSET(BULK 'gold/daily_transaction_summary/', DATA_SOURCE = 'lake', FORMAT = 'DELTA')
    WITH (
        [event_date] DATE,
        [category] VARCHAR(4000) COLLATE Latin1_General_100_BIN2_UTF8,
        [country] VARCHAR(4000) COLLATE Latin1_General_100_BIN2_UTF8,
        [city] VARCHAR(4000) COLLATE Latin1_General_100_BIN2_UTF8,
        [currency] VARCHAR(4000) COLLATE Latin1_General_100_BIN2_UTF8,
        [transaction_count] BIGINT,
        [total_amount] DECIMAL(18,2),
        [net_amount] DECIMAL(18,2),
        [avg_amount] DECIMAL(18,2),
        [min_amount] DECIMAL(18,2),
        [max_amount] DECIMAL(18,2),
        [distinct_accounts] BIGINT,
        [latitude_micro_sum] BIGINT,
        [longitude_micro_sum] BIGINT,
        [gold_version] BIGINT,
        [updated_at] DATETIME2(6)
    ) AS r;
GO

CREATE OR ALTER VIEW [gold].[loan_status] AS
SELECT [loan_id], [customer_id], [account_id], [product], [currency], [principal], [annual_interest_rate], [term_months], [monthly_instalment], [first_due_date], [disbursed_at], [instalments_paid], [paid_to_date], [principal_repaid], [interest_paid], [outstanding], [last_payment_at], [next_due_date], [days_past_due], [as_of_date], [source_partition], [disbursed_source_offset], [last_source_offset], [gold_version], [updated_at]
FROM OPENROWSET(BULK 'gold/loan_status/', DATA_SOURCE = 'lake', FORMAT = 'DELTA')
    WITH (
        [loan_id] VARCHAR(4000) COLLATE Latin1_General_100_BIN2_UTF8,
        [customer_id] VARCHAR(4000) COLLATE Latin1_General_100_BIN2_UTF8,
        [account_id] VARCHAR(4000) COLLATE Latin1_General_100_BIN2_UTF8,
        [product] VARCHAR(4000) COLLATE Latin1_General_100_BIN2_UTF8,
        [currency] VARCHAR(4000) COLLATE Latin1_General_100_BIN2_UTF8,
        [principal] DECIMAL(18,2),
        [annual_interest_rate] DECIMAL(18,6),
        [term_months] INT,
        [monthly_instalment] DECIMAL(18,2),
        [first_due_date] DATE,
        [disbursed_at] DATETIME2(6),
        [instalments_paid] BIGINT,
        [paid_to_date] DECIMAL(18,2),
        [principal_repaid] DECIMAL(18,2),
        [interest_paid] DECIMAL(18,2),
        [outstanding] DECIMAL(18,2),
        [last_payment_at] DATETIME2(6),
        [next_due_date] DATE,
        [days_past_due] INT,
        [as_of_date] DATE,
        [source_partition] INT,
        [disbursed_source_offset] BIGINT,
        [last_source_offset] BIGINT,
        [gold_version] BIGINT,
        [updated_at] DATETIME2(6)
    ) AS r;
GO
