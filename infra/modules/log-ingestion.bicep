// Deployed in the workspace's resource group: the two tables for the same source, one DCE shared by both
// paths (CCP's dcrConfig needs a DCE URL), and one DCR per table with the same stream and the same transform,
// so the two tables can be compared row for row. Each DCR depends on its own table: a DCR whose output table
// is still provisioning fails with InvalidOutputTable.
param workspaceName string
@description('The workspace\'s region (main.bicep reads it from the workspace): DCE and DCRs must be in it.')
param location string
param tags object
param resourceToken string
@description('Principal id of the function app identity; it may ingest through the function DCR only.')
param functionPrincipalId string

var ingestion = loadJsonContent('../jira-audit/ingestion.json')
var transformKql = loadTextContent('../jira-audit/transform.kql')

// Index 0 = the function app's path, index 1 = the native CCP connector's path.
var paths = [
  { side: 'func', tableName: ingestion.funcTableName }
  { side: 'ccp', tableName: ingestion.ccpTableName }
]

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-07-01' existing = {
  name: workspaceName
}

resource tables 'Microsoft.OperationalInsights/workspaces/tables@2025-07-01' = [
  for path in paths: {
    parent: workspace
    name: path.tableName
    properties: {
      plan: 'Analytics'
      schema: {
        name: path.tableName
        columns: ingestion.tableColumns
      }
    }
  }
]

resource dce 'Microsoft.Insights/dataCollectionEndpoints@2024-03-11' = {
  name: 'dce-jira-audit-${resourceToken}'
  location: location
  tags: tags
  properties: {
    networkAcls: { publicNetworkAccess: 'Enabled' }
  }
}

resource dcrs 'Microsoft.Insights/dataCollectionRules@2024-03-11' = [
  for (path, i) in paths: {
    name: 'dcr-jira-audit-${path.side}-${resourceToken}'
    location: location
    tags: tags
    properties: {
      dataCollectionEndpointId: dce.id
      streamDeclarations: {
        '${ingestion.streamName}': { columns: ingestion.streamColumns }
      }
      destinations: {
        logAnalytics: [{ name: 'workspace', workspaceResourceId: workspace.id }]
      }
      dataFlows: [
        {
          streams: [ingestion.streamName]
          destinations: ['workspace']
          transformKql: transformKql
          outputStream: 'Custom-${path.tableName}'
        }
      ]
    }
    dependsOn: [tables[i]]
  }
]

// Health records (src/health): their own table and DCR on the same DCE, written by the function app only.
var health = loadJsonContent('../health/ingestion.json')
var healthTransformKql = loadTextContent('../health/transform.kql')

resource healthTable 'Microsoft.OperationalInsights/workspaces/tables@2025-07-01' = {
  parent: workspace
  name: health.tableName
  properties: {
    plan: 'Analytics'
    schema: {
      name: health.tableName
      columns: health.tableColumns
    }
  }
}

resource healthDcr 'Microsoft.Insights/dataCollectionRules@2024-03-11' = {
  name: 'dcr-ccp-poller-health-${resourceToken}'
  location: location
  tags: tags
  properties: {
    dataCollectionEndpointId: dce.id
    streamDeclarations: {
      '${health.streamName}': { columns: health.streamColumns }
    }
    destinations: {
      logAnalytics: [{ name: 'workspace', workspaceResourceId: workspace.id }]
    }
    dataFlows: [
      {
        streams: [health.streamName]
        destinations: ['workspace']
        transformKql: healthTransformKql
        outputStream: 'Custom-${health.tableName}'
      }
    ]
  }
  dependsOn: [healthTable]
}

var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

// Only the function DCR: the app must not be able to write into the CCP table it is compared against.
resource functionIngest 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(dcrs[0].id, functionPrincipalId, monitoringMetricsPublisher)
  scope: dcrs[0]
  properties: {
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
  }
}

resource functionHealthIngest 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(healthDcr.id, functionPrincipalId, monitoringMetricsPublisher)
  scope: healthDcr
  properties: {
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
  }
}

output dataCollectionEndpoint string = dce.properties.logsIngestion.endpoint
output streamName string = ingestion.streamName
output funcTableName string = ingestion.funcTableName
output ccpTableName string = ingestion.ccpTableName
output funcDcrImmutableId string = dcrs[0].properties.immutableId
output ccpDcrImmutableId string = dcrs[1].properties.immutableId
output healthDcrImmutableId string = healthDcr.properties.immutableId
output healthStreamName string = health.streamName
output healthTableName string = health.tableName
