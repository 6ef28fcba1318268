// `azd up` entry point: the ccp-poller function app AND Microsoft Sentinel's native CCP connector for the same
// source (Jira audit records), each writing to its own table, so the two paths can be compared
// (infra/queries/). No registry modules: everything compiles offline.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; names the resource group and seeds resource names.')
param environmentName string

@minLength(1)
@description('Region of the resource group and of every resource in it; the DCE and DCRs follow the workspace\'s region instead.')
// Only regions that offer Flex Consumption: the list of the Azure-Samples Flex quickstart
// (functions-quickstart-typescript-azd, infra/main.bicep @ cba3922). azd offers only these when it asks.
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'eastus2euap'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
@metadata({ azd: { type: 'location' } })
param location string

@description('Jira Cloud site host name, e.g. your-org.atlassian.net (no scheme).')
param jiraDomain string

@description('Atlassian account e-mail the API token belongs to.')
param jiraUsername string

@secure()
@description('Atlassian API token: stored in Key Vault for the function app and given to the native connector.')
param jiraApiToken string

@description('Resource id of an existing Log Analytics workspace; empty creates a new one in the resource group.')
param existingWorkspaceResourceId string = ''

@allowed(['inline', 'fanout'])
@description('inline: the timer polls every connector itself. fanout: the timer plans and a queue-triggered function polls, scaling out over instances.')
param pollMode string = 'inline'

// 40 is the lowest maximum Flex Consumption accepts (Flex Consumption plan docs, "Instance scaling limits").
@minValue(40)
@maxValue(1000)
@description('Flex Consumption: most instances the app scales out to (fanout mode spreads work over them); 40 to 1000.')
param maximumInstanceCount int = 40

var tags = { 'azd-env-name': environmentName }
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))

var stateTableName = 'CcpPollerWatermarks'
var deadLetterContainerName = 'ccp-poller-dead-letter'
var deploymentContainerName = 'app-package'
var workQueueName = 'ccp-poller-work'

var createWorkspace = empty(existingWorkspaceResourceId)
var workspaceIdSegments = split(existingWorkspaceResourceId, '/')
var workspaceSubscriptionId = createWorkspace ? subscription().subscriptionId : workspaceIdSegments[2]
var workspaceResourceGroupName = createWorkspace ? resourceGroup.name : workspaceIdSegments[4]
var workspaceName = createWorkspace ? 'log-${resourceToken}' : last(workspaceIdSegments)
var workspaceResourceId = createWorkspace
  ? resourceId(
      workspaceSubscriptionId,
      workspaceResourceGroupName,
      'Microsoft.OperationalInsights/workspaces',
      workspaceName
    )
  : existingWorkspaceResourceId

resource resourceGroup 'Microsoft.Resources/resourceGroups@2024-11-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: resourceGroup
  params: {
    name: 'id-${resourceToken}'
    location: location
    tags: tags
  }
}

module newWorkspace 'modules/workspace.bicep' = if (createWorkspace) {
  name: 'workspace'
  scope: resourceGroup
  params: {
    name: workspaceName
    location: location
    tags: tags
  }
}

// An existing workspace is read for its region: the DCE and DCRs must be in the workspace's region, which need not
// be the deployment's.
resource existingWorkspace 'Microsoft.OperationalInsights/workspaces@2025-07-01' existing = if (!createWorkspace) {
  name: workspaceName
  scope: az.resourceGroup(workspaceSubscriptionId, workspaceResourceGroupName)
}

var workspaceLocation = createWorkspace ? newWorkspace!.outputs.location : existingWorkspace!.location

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: resourceGroup
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    deadLetterContainerName: deadLetterContainerName
    stateTableName: stateTableName
    workQueueName: workQueueName
    principalId: identity.outputs.principalId
  }
}

module appInsights 'modules/app-insights.bicep' = {
  name: 'app-insights'
  scope: resourceGroup
  params: {
    name: 'appi-${resourceToken}'
    location: location
    tags: tags
    workspaceResourceId: workspaceResourceId
    principalId: identity.outputs.principalId
  }
  dependsOn: [newWorkspace]
}

module keyVault 'modules/key-vault.bicep' = {
  name: 'key-vault'
  scope: resourceGroup
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: tags
    secretName: 'jira-api-token'
    secretValue: jiraApiToken
    principalId: identity.outputs.principalId
  }
}

module logIngestion 'modules/log-ingestion.bicep' = {
  name: 'log-ingestion-${resourceToken}'
  scope: az.resourceGroup(workspaceSubscriptionId, workspaceResourceGroupName)
  params: {
    workspaceName: workspaceName
    location: workspaceLocation
    tags: tags
    resourceToken: resourceToken
    functionPrincipalId: identity.outputs.principalId
  }
  // No dependsOn: workspaceLocation reads the new workspace module's output, which orders it after that module.
}

module sentinel 'modules/sentinel.bicep' = {
  name: 'sentinel-${resourceToken}'
  scope: az.resourceGroup(workspaceSubscriptionId, workspaceResourceGroupName)
  params: {
    workspaceName: workspaceName
    resourceToken: resourceToken
    jiraDomain: jiraDomain
    jiraUsername: jiraUsername
    jiraApiToken: jiraApiToken
    dataCollectionEndpoint: logIngestion.outputs.dataCollectionEndpoint
    dataCollectionRuleImmutableId: logIngestion.outputs.ccpDcrImmutableId
    streamName: logIngestion.outputs.streamName
    tableName: logIngestion.outputs.ccpTableName
  }
}

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  scope: resourceGroup
  params: {
    name: 'func-${resourceToken}'
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    storageQueueEndpoint: storage.outputs.queueEndpoint
    workQueueName: workQueueName
    pollMode: pollMode
    maximumInstanceCount: maximumInstanceCount
    deploymentContainerName: deploymentContainerName
    deadLetterContainerName: deadLetterContainerName
    stateTableName: stateTableName
    appInsightsConnectionString: appInsights.outputs.connectionString
    jiraDomain: jiraDomain
    jiraUsername: jiraUsername
    jiraApiTokenSecretUri: keyVault.outputs.secretUri
    dataCollectionEndpoint: logIngestion.outputs.dataCollectionEndpoint
    dataCollectionRuleImmutableId: logIngestion.outputs.funcDcrImmutableId
    streamName: logIngestion.outputs.streamName
    healthDcrImmutableId: logIngestion.outputs.healthDcrImmutableId
    healthStreamName: logIngestion.outputs.healthStreamName
  }
}

// azd writes these to .azure/<env>/.env (`azd env get-values`).
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = resourceGroup.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output LOG_ANALYTICS_WORKSPACE_ID string = workspaceResourceId
output SENTINEL_CONNECTOR_DEFINITION_NAME string = sentinel.outputs.definitionName
output SENTINEL_CONNECTOR_NAME string = sentinel.outputs.connectorName
output JIRA_AUDIT_FUNC_TABLE string = logIngestion.outputs.funcTableName
output JIRA_AUDIT_CCP_TABLE string = logIngestion.outputs.ccpTableName
output JIRA_AUDIT_CCP_DCR_IMMUTABLE_ID string = logIngestion.outputs.ccpDcrImmutableId
// Named like the app settings, so a local run against the deployed DCR can reuse them.
output CCP_JIRA_AUDIT_DATACOLLECTIONENDPOINT string = logIngestion.outputs.dataCollectionEndpoint
output CCP_JIRA_AUDIT_DATACOLLECTIONRULEIMMUTABLEID string = logIngestion.outputs.funcDcrImmutableId
output CCP_JIRA_AUDIT_STREAMNAME string = logIngestion.outputs.streamName
output STATE_TABLE_NAME string = stateTableName
// Named like the app settings, so a local run can send health records to the deployed table.
output HEALTH_DATA_COLLECTION_ENDPOINT string = logIngestion.outputs.dataCollectionEndpoint
output HEALTH_DCR_IMMUTABLE_ID string = logIngestion.outputs.healthDcrImmutableId
output HEALTH_STREAM_NAME string = logIngestion.outputs.healthStreamName
output CCP_POLLER_HEALTH_TABLE string = logIngestion.outputs.healthTableName
