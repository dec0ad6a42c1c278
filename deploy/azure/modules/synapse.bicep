// Synapse workspace with a dedicated SQL pool (the warehouse). Microsoft Entra authentication only: no SQL
// password exists. The workspace identity reads the lake (COPY INTO and the serverless views over gold);
// the sink's database user and roles are T-SQL (deploy/synapse/grant-sink.sql), not ARM.

param workspaceName string
param location string

@description('ADLS Gen2 account of the lake (also the workspace default file system).')
param storageAccountName string
param synapseFileSystemName string
param dfsEndpoint string

@description('Dedicated SQL pool name (the Database of Warehouse:ConnectionString).')
param sqlPoolName string = 'baloyi'

@description('Dedicated SQL pool performance level.')
param sqlPoolSku string = 'DW100c'

@description('Microsoft Entra group (or user) that administers the pool: its display name and object id.')
param sqlAdminLogin string
param sqlAdminObjectId string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource workspace 'Microsoft.Synapse/workspaces@2021-06-01' = {
  name: workspaceName
  location: location
  identity: { type: 'SystemAssigned' }
  properties: {
    defaultDataLakeStorage: {
      accountUrl: dfsEndpoint
      filesystem: synapseFileSystemName
      resourceId: storage.id
    }
    azureADOnlyAuthentication: true
    publicNetworkAccess: 'Enabled'
  }
}

resource admin 'Microsoft.Synapse/workspaces/administrators@2021-06-01' = {
  parent: workspace
  name: 'activeDirectory'
  properties: {
    administratorType: 'ActiveDirectory'
    login: sqlAdminLogin
    sid: sqlAdminObjectId
    tenantId: subscription().tenantId
  }
}

// The Container Apps (the sink) reach the pool over its public endpoint.
resource allowAzure 'Microsoft.Synapse/workspaces/firewallRules@2021-06-01' = {
  parent: workspace
  name: 'AllowAllWindowsAzureIps'
  properties: {
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
}

resource pool 'Microsoft.Synapse/workspaces/sqlPools@2021-06-01' = {
  parent: workspace
  name: sqlPoolName
  location: location
  sku: { name: sqlPoolSku }
  properties: {
    createMode: 'Default'
    collation: 'SQL_Latin1_General_CP1_CI_AS'
  }
}

// Reads gold for COPY INTO and serverless queries; Contributor only on its own file system.
resource lakeReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage
  name: guid(storage.id, workspace.id, '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1')
  properties: {
    principalId: workspace.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1')
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

resource fileSystem 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: synapseFileSystemName
}

resource fileSystemContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: fileSystem
  name: guid(fileSystem.id, workspace.id, 'ba92f5b4-2d11-453d-a403-e96b0029c9fe')
  properties: {
    principalId: workspace.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'ba92f5b4-2d11-453d-a403-e96b0029c9fe')
  }
}

output workspaceName string = workspace.name
output sqlPoolName string = pool.name

@description('The dedicated pool endpoint, <ws>.sql.azuresynapse.net.')
output sqlEndpoint string = workspace.properties.connectivityEndpoints.sql

@description('The serverless (on-demand) endpoint for the gold views.')
output serverlessEndpoint string = workspace.properties.connectivityEndpoints.sqlOnDemand
