-- The sink's database user on the dedicated pool, from its user-assigned managed identity (Microsoft Entra ID).
-- Run as the pool's Entra administrator, in the pool database, after deploy/azure/main.bicep:
--   sqlcmd -S <ws>.sql.azuresynapse.net -d <pool> -G -v SinkIdentity="<output sinkIdentityName>" -i deploy/synapse/grant-sink.sql
-- What the sink does and needs: it ensures schema, tables, views and migrations (db_ddladmin), creates and drops its
-- staging and de-duplication tables, reads and writes the tables and watermarks (db_datareader, db_datawriter), and
-- loads change files with COPY INTO (ADMINISTER DATABASE BULK OPERATIONS; COPY INTO reads the files with the
-- workspace identity, which Bicep gives Storage Blob Data Reader on the lake).

IF NOT EXISTS (SELECT 1 FROM sys.database_principals WHERE name = N'$(SinkIdentity)')
    CREATE USER [$(SinkIdentity)] FROM EXTERNAL PROVIDER;
GO

EXEC sp_addrolemember N'db_ddladmin', N'$(SinkIdentity)';
EXEC sp_addrolemember N'db_datareader', N'$(SinkIdentity)';
EXEC sp_addrolemember N'db_datawriter', N'$(SinkIdentity)';
GO

GRANT ADMINISTER DATABASE BULK OPERATIONS TO [$(SinkIdentity)];
GO
