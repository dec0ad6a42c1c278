// The lake: an ADLS Gen2 account (hierarchical namespace). The services keep bronze/, silver/ and gold/ as
// top-level folders of one container (the lake port takes one container and a prefix); Synapse gets its own
// file system. Shared keys and public blob access are off: every client signs in with Microsoft Entra ID.

param accountName string
param location string

@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_RAGRS'])
param skuName string = 'Standard_ZRS'

param lakeContainerName string = 'lake'
param synapseFileSystemName string = 'synapse'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: accountName
  location: location
  kind: 'StorageV2'
  sku: { name: skuName }
  properties: {
    isHnsEnabled: true
    accessTier: 'Hot'
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource lake 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: lakeContainerName
  properties: { publicAccess: 'None' }
}

resource synapseFileSystem 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: synapseFileSystemName
  properties: { publicAccess: 'None' }
}

output accountName string = account.name
output lakeContainerName string = lake.name
output synapseFileSystemName string = synapseFileSystem.name

@description('Blob endpoint without the trailing slash (Lake:Blob:ServiceUri); ADLS Gen2 is served on it too.')
output blobEndpoint string = take(account.properties.primaryEndpoints.blob, length(account.properties.primaryEndpoints.blob) - 1)

output dfsEndpoint string = account.properties.primaryEndpoints.dfs
