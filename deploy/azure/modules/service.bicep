// One BaloyiBank service as a Container App: its own user-assigned managed identity, and exactly the role
// assignments the caller lists (each scoped to the one hub, lake container or secret it needs, never wider).

@description('Container App name; the identity is named id-<name>.')
param name string

param location string

@description('Resource id of the Container Apps environment.')
param environmentId string

@description('Full image reference, pinned by tag or digest.')
param image string

@description('Environment variables: { name, value } or { name, secretRef }.')
param env array

@description('Names of environment variables that get the identity\'s client id (AZURE_CLIENT_ID, the *ManagedIdentityClientId options).')
param clientIdEnv array = []

@description('Key Vault secret references: { name, keyVaultUrl }, read with the service identity.')
param keyVaultSecrets array = []

@description('Plain Container App secrets the platform itself produced (e.g. the Application Insights connection string): { name, value }.')
@secure()
param platformSecrets object = {}

param minReplicas int
param maxReplicas int
param cpu string = '0.5'
param memory string = '1Gi'

@description('Port of the /alive and /health endpoints (Health__Port), or 0 for none.')
param healthPort int = 8080

@description('Internal ingress target port (0: no ingress).')
param ingressPort int = 0

param args array = []

@description('Event Hubs namespace and hub the service uses ("" for none).')
param eventHubsNamespaceName string = ''
param eventHubName string = ''

@description('Role definition ids (GUIDs) granted on the event hub.')
param eventHubRoles array = []

@description('Storage account and container of the lake ("" for none).')
param storageAccountName string = ''
param lakeContainerName string = ''

@description('Role definition ids (GUIDs) granted on the lake container.')
param lakeRoles array = []

@description('Key Vault and the one secret the service reads ("" for none).')
param keyVaultName string = ''
param keyVaultSecretName string = ''

@description('Role definition ids (GUIDs) granted on that secret.')
param keyVaultSecretRoles array = []

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${name}'
  location: location
}

resource namespace 'Microsoft.EventHub/namespaces@2024-01-01' existing = if (!empty(eventHubsNamespaceName)) {
  name: empty(eventHubsNamespaceName) ? 'none' : eventHubsNamespaceName
}

resource hub 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' existing = if (!empty(eventHubName)) {
  parent: namespace
  name: empty(eventHubName) ? 'none' : eventHubName
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = if (!empty(storageAccountName)) {
  name: empty(storageAccountName) ? 'none' : storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = if (!empty(storageAccountName)) {
  parent: storage
  name: 'default'
}

resource lakeContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = if (!empty(lakeContainerName)) {
  parent: blobService
  name: empty(lakeContainerName) ? 'none' : lakeContainerName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = if (!empty(keyVaultName)) {
  name: empty(keyVaultName) ? 'none' : keyVaultName
}

resource secret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' existing = if (!empty(keyVaultSecretName)) {
  parent: vault
  name: empty(keyVaultSecretName) ? 'none' : keyVaultSecretName
}

resource hubRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in eventHubRoles: {
  scope: hub
  name: guid(hub.id, identity.id, role)
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
  }
}]

resource lakeRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in lakeRoles: {
  scope: lakeContainer
  name: guid(lakeContainer.id, identity.id, role)
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
  }
}]

resource secretRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in keyVaultSecretRoles: {
  scope: secret
  name: guid(secret.id, identity.id, role)
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
  }
}]

var probes = healthPort == 0 ? [] : [
  {
    type: 'Liveness'
    httpGet: { path: '/alive', port: healthPort }
    periodSeconds: 10
    failureThreshold: 3
  }
  {
    type: 'Readiness'
    httpGet: { path: '/health', port: healthPort }
    periodSeconds: 10
    failureThreshold: 3
  }
  {
    // The long-running services take a few seconds to start (no tiered compilation).
    type: 'Startup'
    httpGet: { path: '/alive', port: healthPort }
    periodSeconds: 5
    failureThreshold: 24
  }
]

resource app 'Microsoft.App/containerApps@2024-03-01' = {
  name: name
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    managedEnvironmentId: environmentId
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: ingressPort == 0 ? null : {
        external: false
        targetPort: ingressPort
        transport: 'http'
      }
      secrets: concat(
        map(keyVaultSecrets, s => { name: s.name, keyVaultUrl: s.keyVaultUrl, identity: identity.id }),
        map(items(platformSecrets), s => { name: s.key, value: s.value })
      )
    }
    template: {
      containers: [
        {
          name: name
          image: image
          args: args
          env: concat(env, map(clientIdEnv, n => { name: n, value: identity.properties.clientId }))
          resources: {
            cpu: json(cpu)
            memory: memory
          }
          probes: probes
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
      }
    }
  }
  // A Key Vault reference is resolved with the identity: its role must exist before the revision starts.
  dependsOn: [
    secretRoles
  ]
}

@description('Client id of the service identity (AZURE_CLIENT_ID and the *ManagedIdentityClientId options).')
output clientId string = identity.properties.clientId

@description('Principal (object) id of the service identity, for the database user on the pool.')
output principalId string = identity.properties.principalId

output identityName string = identity.name
