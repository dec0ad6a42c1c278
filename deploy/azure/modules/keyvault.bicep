// Key Vault (RBAC authorization) for the one secret that remains: the control bus's RabbitMQ password
// (there is no managed RabbitMQ with Entra sign-in). Services read it through Container Apps Key Vault references.

param vaultName string
param location string

@description('Name of the RabbitMQ password secret.')
param busPasswordSecretName string = 'bus-rabbitmq-password'

@secure()
@description('The RabbitMQ password; no default: give it at deployment (az deployment group create … busPassword=…) or set the secret later.')
param busPassword string

param purgeProtection bool = true

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: vaultName
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: purgeProtection ? true : null
    publicNetworkAccess: 'Enabled'
  }
}

resource busPasswordSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: busPasswordSecretName
  properties: {
    value: busPassword
    contentType: 'RabbitMQ password of the control bus'
  }
}

output vaultName string = vault.name
@description('https://<vault>.vault.azure.net/: the secret references are <vaultUri>secrets/<name> (versionless, so a rotated value is picked up without a redeployment).')
output vaultUri string = vault.properties.vaultUri
