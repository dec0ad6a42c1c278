// Log Analytics (Container Apps logs) and a workspace-based Application Insights (traces, metrics, logs from the OTel Collector).

param namePrefix string
param location string

@description('Days Log Analytics keeps data.')
param retentionInDays int = 30

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${namePrefix}'
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: retentionInDays
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${namePrefix}'
  location: location
  kind: 'other'
  properties: {
    Application_Type: 'other'
    WorkspaceResourceId: logs.id
    IngestionMode: 'LogAnalytics'
  }
}

output logAnalyticsName string = logs.name
output appInsightsName string = insights.name
