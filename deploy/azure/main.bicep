// BaloyiBank.Streaming on Azure: Event Hubs (the event log), ADLS Gen2 (the lake), a Synapse dedicated pool
// (the warehouse), Log Analytics + Application Insights, Key Vault, and the four services plus an OpenTelemetry
// Collector on Container Apps. Each service has its own user-assigned identity with only the roles it needs.
//   az deployment group create -g <rg> -f deploy/azure/main.bicep -p namePrefix=<prefix> … (see README, "Deploying")
targetScope = 'resourceGroup'

@description('Short prefix of every resource name (letters and digits; storage account names are derived from it).')
@minLength(3)
@maxLength(12)
param namePrefix string

param location string = resourceGroup().location

@description('Registry and tag of the service images (deploy/docker/Dockerfile), e.g. myregistry.azurecr.io/baloyi and 2026.12.1: <registry>/<service>:<tag>.')
param imageRegistry string
param imageTag string

@description('OpenTelemetry Collector (contrib, with the azuremonitor exporter) image, pinned.')
param collectorImage string = 'otel/opentelemetry-collector-contrib:0.114.0'

@description('Event Hubs: partitions of the hub (EventLog:Partitions; fixed once created), throughput units, auto-inflate ceiling.')
param partitions int = 8
param throughputUnits int = 2
param maximumThroughputUnits int = 0

@description('Replicas per service. Cleansing scales out: its replicas share the partitions by ownership records in the lake (Cleansing__ScaleOut). The generator and the aggregator run one each; a second sink stands by on the lease.')
param replicas object = {
  generator: { min: 1, max: 1 }
  cleansing: { min: 2, max: 2 }
  aggregator: { min: 1, max: 1 }
  sink: { min: 2, max: 2 }
}

@description('Generator rate (events per second, 0 = unlimited).')
param generatorRate int = 2000

@description('Control bus: amqps URI of the RabbitMQ broker without the password, e.g. amqps://baloyi@rabbit.example.net:5671/.')
param busUri string

@secure()
@description('RabbitMQ password of the control bus: stored in Key Vault, read by the services through their identities.')
param busPassword string

@description('Dedicated SQL pool performance level.')
param sqlPoolSku string = 'DW100c'

@description('Microsoft Entra group that administers the pool (display name and object id).')
param sqlAdminLogin string
param sqlAdminObjectId string

// Built-in role definition ids.
var roles = {
  eventHubsDataSender: '2b629674-e913-4c01-ae53-ef4638d8f975'
  eventHubsDataReceiver: 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
}

var busPasswordSecretName = 'bus-rabbitmq-password'
// Names are computed here (not taken from module outputs) so role scopes are known before deployment (what-if).
var storageAccountName = take('st${toLower(namePrefix)}${uniqueString(resourceGroup().id)}', 24)
var eventHubsNamespaceName = 'evhns-${namePrefix}-${uniqueString(resourceGroup().id)}'
var hubName = 'bank-events'
var lakeContainerName = 'lake'
var synapseFileSystemName = 'synapse'
var vaultName = take('kv-${namePrefix}-${uniqueString(resourceGroup().id)}', 24)
var healthPort = 8080

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    namePrefix: namePrefix
    location: location
  }
}

module eventHubs 'modules/eventhubs.bicep' = {
  name: 'eventhubs'
  params: {
    namespaceName: eventHubsNamespaceName
    hubName: hubName
    location: location
    partitionCount: partitions
    throughputUnits: throughputUnits
    maximumThroughputUnits: maximumThroughputUnits
  }
}

module lake 'modules/lake.bicep' = {
  name: 'lake'
  params: {
    accountName: storageAccountName
    location: location
    lakeContainerName: lakeContainerName
    synapseFileSystemName: synapseFileSystemName
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    vaultName: vaultName
    location: location
    busPasswordSecretName: busPasswordSecretName
    busPassword: busPassword
  }
}

module synapse 'modules/synapse.bicep' = {
  name: 'synapse'
  params: {
    workspaceName: 'synw-${toLower(namePrefix)}-${uniqueString(resourceGroup().id)}'
    location: location
    storageAccountName: storageAccountName
    synapseFileSystemName: synapseFileSystemName
    dfsEndpoint: lake.outputs.dfsEndpoint
    sqlPoolSku: sqlPoolSku
    sqlAdminLogin: sqlAdminLogin
    sqlAdminObjectId: sqlAdminObjectId
  }
}

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: 'log-${namePrefix}'
  dependsOn: [monitoring]
}

resource insights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: 'appi-${namePrefix}'
  dependsOn: [monitoring]
}

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: 'cae-${namePrefix}'
  location: location
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logs.properties.customerId
        sharedKey: logs.listKeys().primarySharedKey
      }
    }
  }
}

var collectorName = 'otel-${toLower(namePrefix)}'

// Every service: production settings, health on 0.0.0.0:8080 (probes), OTLP to the collector.
var common = [
  { name: 'DOTNET_ENVIRONMENT', value: 'Production' }
  { name: 'Health__Port', value: string(healthPort) }
  { name: 'Health__Host', value: '0.0.0.0' }
  { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://${collectorName}' }
  { name: 'OTEL_EXPORTER_OTLP_PROTOCOL', value: 'http/protobuf' }
]

// The control bus (cleansing, aggregator, sink; the generator only appends to the log).
var bus = [
  { name: 'Bus__Kind', value: 'rabbitmq' }
  { name: 'Bus__RabbitMq__Uri', value: busUri }
  { name: 'Bus__RabbitMq__Password', secretRef: 'bus-password' }
]

var eventLog = [
  { name: 'EventLog__Kind', value: 'eventhubs' }
  { name: 'EventLog__Name', value: eventHubs.outputs.hubName }
  { name: 'EventLog__Partitions', value: string(partitions) }
  { name: 'EventLog__EventHubs__FullyQualifiedNamespace', value: eventHubs.outputs.fullyQualifiedNamespace }
  { name: 'EventLog__EventHubs__Credential', value: 'managedidentity' }
]

var lakeEnv = [
  { name: 'Lake__Kind', value: 'blob' }
  { name: 'Lake__Blob__ServiceUri', value: lake.outputs.blobEndpoint }
  { name: 'Lake__Blob__Container', value: lake.outputs.lakeContainerName }
  { name: 'Lake__Blob__Credential', value: 'managedidentity' }
  { name: 'Lake__Blob__CreateContainer', value: 'false' }
]

var busSecret = [
  { name: 'bus-password', keyVaultUrl: '${keyVault.outputs.vaultUri}secrets/${busPasswordSecretName}' }
]


module generator 'modules/service.bicep' = {
  name: 'service-generator'
  params: {
    name: 'generator'
    location: location
    environmentId: environment.id
    healthPort: healthPort
    image: '${imageRegistry}/generator:${imageTag}'
    env: concat(common, eventLog, [
      { name: 'Generator__Rate', value: string(generatorRate) }
      { name: 'Generator__StopApplicationWhenDone', value: 'false' }
    ])
    clientIdEnv: ['AZURE_CLIENT_ID', 'EventLog__EventHubs__ManagedIdentityClientId']
    minReplicas: replicas.generator.min
    maxReplicas: replicas.generator.max
    eventHubsNamespaceName: eventHubsNamespaceName
    eventHubName: hubName
    eventHubRoles: [roles.eventHubsDataSender]
  }
}

module cleansing 'modules/service.bicep' = {
  name: 'service-cleansing'
  params: {
    name: 'cleansing'
    location: location
    environmentId: environment.id
    healthPort: healthPort
    image: '${imageRegistry}/cleansing:${imageTag}'
    env: concat(common, bus, eventLog, lakeEnv, [
      { name: 'EventLog__EventHubs__ConsumerGroup', value: 'cleansing' }
      // Replicas share the partitions by ownership in the lake; every commit is fenced on the partition's progress.
      { name: 'Cleansing__ScaleOut', value: 'true' }
    ])
    clientIdEnv: ['AZURE_CLIENT_ID', 'EventLog__EventHubs__ManagedIdentityClientId', 'Lake__Blob__ManagedIdentityClientId']
    cpu: '1.0'
    memory: '2Gi'
    minReplicas: replicas.cleansing.min
    maxReplicas: replicas.cleansing.max
    eventHubsNamespaceName: eventHubsNamespaceName
    eventHubName: hubName
    eventHubRoles: [roles.eventHubsDataReceiver]
    storageAccountName: storageAccountName
    lakeContainerName: lakeContainerName
    lakeRoles: [roles.storageBlobDataContributor]
    keyVaultSecrets: busSecret
    keyVaultName: vaultName
    keyVaultSecretName: busPasswordSecretName
    keyVaultSecretRoles: [roles.keyVaultSecretsUser]
  }
}

module aggregator 'modules/service.bicep' = {
  name: 'service-aggregator'
  params: {
    name: 'aggregator'
    location: location
    environmentId: environment.id
    healthPort: healthPort
    image: '${imageRegistry}/aggregator:${imageTag}'
    env: concat(common, bus, lakeEnv)
    clientIdEnv: ['AZURE_CLIENT_ID', 'Lake__Blob__ManagedIdentityClientId']
    cpu: '1.0'
    memory: '2Gi'
    minReplicas: replicas.aggregator.min
    maxReplicas: replicas.aggregator.max
    storageAccountName: storageAccountName
    lakeContainerName: lakeContainerName
    lakeRoles: [roles.storageBlobDataContributor]
    keyVaultSecrets: busSecret
    keyVaultName: vaultName
    keyVaultSecretName: busPasswordSecretName
    keyVaultSecretRoles: [roles.keyVaultSecretsUser]
  }
}

// The sink reads gold and writes its lease in the lake (Contributor); the pool grants its database roles (T-SQL).
module sink 'modules/service.bicep' = {
  name: 'service-sink'
  params: {
    name: 'sink'
    location: location
    environmentId: environment.id
    healthPort: healthPort
    image: '${imageRegistry}/sink:${imageTag}'
    env: concat(common, bus, lakeEnv, [
      { name: 'Warehouse__Kind', value: 'synapse' }
      { name: 'Warehouse__UseManagedIdentity', value: 'true' }
      { name: 'Warehouse__ConnectionString', value: 'Server=tcp:${synapse.outputs.sqlEndpoint},1433;Database=${synapse.outputs.sqlPoolName};Encrypt=True;' }
    ])
    clientIdEnv: ['AZURE_CLIENT_ID', 'Lake__Blob__ManagedIdentityClientId']
    minReplicas: replicas.sink.min
    maxReplicas: replicas.sink.max
    storageAccountName: storageAccountName
    lakeContainerName: lakeContainerName
    lakeRoles: [roles.storageBlobDataContributor]
    keyVaultSecrets: busSecret
    keyVaultName: vaultName
    keyVaultSecretName: busPasswordSecretName
    keyVaultSecretRoles: [roles.keyVaultSecretsUser]
  }
}

// OTLP in, Application Insights out (deploy/otel/collector.yaml); no Azure role: its connection string is its only credential.
module collector 'modules/service.bicep' = {
  name: 'service-otel-collector'
  params: {
    name: collectorName
    location: location
    environmentId: environment.id
    healthPort: 0
    ingressPort: 4318
    image: collectorImage
    args: ['--config=env:COLLECTOR_CONFIG']
    env: [
      { name: 'COLLECTOR_CONFIG', value: loadTextContent('../otel/collector.yaml') }
      { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', secretRef: 'appinsights-connection-string' }
    ]
    platformSecrets: {
      'appinsights-connection-string': insights.properties.ConnectionString
    }
    minReplicas: 1
    maxReplicas: 1
  }
}

output eventHubsNamespace string = eventHubs.outputs.fullyQualifiedNamespace
output eventHubName string = eventHubs.outputs.hubName
output lakeServiceUri string = lake.outputs.blobEndpoint
output lakeContainer string = lake.outputs.lakeContainerName
output synapseSqlEndpoint string = synapse.outputs.sqlEndpoint
output synapseServerlessEndpoint string = synapse.outputs.serverlessEndpoint
output sqlPoolName string = synapse.outputs.sqlPoolName
output keyVaultName string = keyVault.outputs.vaultName

@description('Identity of the sink: create its database user from it (deploy/synapse/grant-sink.sql).')
output sinkIdentityName string = sink.outputs.identityName
