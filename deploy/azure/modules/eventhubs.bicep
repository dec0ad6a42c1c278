// The event log: an Event Hubs namespace (Standard) with the hub the services append to and read from.
// Local (SAS) authentication is off: the services sign in with their managed identities.

param namespaceName string
param location string

@description('Throughput units of the Standard namespace (1 MB/s in, 2 MB/s out each).')
@minValue(1)
@maxValue(40)
param throughputUnits int = 2

@description('Auto-inflate up to this many throughput units (0: off).')
@minValue(0)
@maxValue(40)
param maximumThroughputUnits int = 0

param hubName string = 'bank-events'

@description('Partitions of the hub (EventLog:Partitions). Fixed once created on Standard: keys map by count.')
@minValue(1)
@maxValue(32)
param partitionCount int = 8

@description('Days the hub keeps events (Standard: at most 7); a replay reaches back this far.')
@minValue(1)
@maxValue(7)
param retentionInDays int = 7

@description('Consumer groups besides $Default.')
param consumerGroups array = ['cleansing']

resource namespace 'Microsoft.EventHub/namespaces@2024-01-01' = {
  name: namespaceName
  location: location
  sku: {
    name: 'Standard'
    tier: 'Standard'
    capacity: throughputUnits
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    isAutoInflateEnabled: maximumThroughputUnits > 0
    maximumThroughputUnits: maximumThroughputUnits
  }
}

resource hub 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' = {
  parent: namespace
  name: hubName
  properties: {
    partitionCount: partitionCount
    messageRetentionInDays: retentionInDays
  }
}

resource groups 'Microsoft.EventHub/namespaces/eventhubs/consumergroups@2024-01-01' = [for group in consumerGroups: {
  parent: hub
  name: group
}]

output namespaceName string = namespace.name
output hubName string = hub.name

@description('The namespace host, <ns>.servicebus.windows.net (EventLog:EventHubs:FullyQualifiedNamespace).')
output fullyQualifiedNamespace string = split(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':')[0]
