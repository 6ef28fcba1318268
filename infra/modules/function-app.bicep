// The Flex Consumption function app (Node 22) running as the user-assigned identity. Every setting it reads in
// Azure is in `appSettings` below (test/infra checks them against src/config/app-settings.ts and the connector's
// placeholders).
param name string
param planName string
param location string
param tags object
param identityId string
param identityClientId string
param storageBlobEndpoint string
param storageTableEndpoint string
param storageQueueEndpoint string
param workQueueName string
@allowed(['inline', 'fanout'])
param pollMode string
@description('Flex Consumption accepts 40 to 1000.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int
param deploymentContainerName string
param deadLetterContainerName string
param stateTableName string
param appInsightsConnectionString string
param jiraDomain string
param jiraUsername string
param jiraApiTokenSecretUri string
param dataCollectionEndpoint string
param dataCollectionRuleImmutableId string
param streamName string
@description('Health records (src/health): the DCR and stream of CcpPollerHealth_CL, on the same DCE.')
param healthDcrImmutableId string
param healthStreamName string

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'poller' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references resolve with this identity (the default would be a system-assigned one we don't have).
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: 2048
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: { name: 'node', version: '22' }
    }
  }
}

// No FUNCTIONS_WORKER_RUNTIME / WEBSITE_* settings: Flex takes the runtime from functionAppConfig and rejects them.
var appSettings = {
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: storageBlobEndpoint
  AzureWebJobsStorage__tableServiceUri: storageTableEndpoint
  AzureWebJobsStorage__queueServiceUri: storageQueueEndpoint
  AZURE_CLIENT_ID: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  // Only the connector this deployment configures: the other samples under connectors/ have no settings here.
  CONNECTORS_DIR: 'connectors/jira-audit'
  STATE_TABLE_NAME: stateTableName
  DEAD_LETTER_CONTAINER: deadLetterContainerName
  POLL_SCHEDULE: '0 */5 * * * *'
  RUN_BUDGET_SECONDS: '480'
  CONNECTOR_CONCURRENCY: '4'
  POLL_MODE: pollMode
  FANOUT_QUEUE_NAME: workQueueName
  CCP_JIRA_AUDIT_DOMAIN: jiraDomain
  CCP_JIRA_AUDIT_USERNAME: jiraUsername
  CCP_JIRA_AUDIT_APITOKEN: '@Microsoft.KeyVault(SecretUri=${jiraApiTokenSecretUri})'
  CCP_JIRA_AUDIT_DATACOLLECTIONENDPOINT: dataCollectionEndpoint
  CCP_JIRA_AUDIT_DATACOLLECTIONRULEIMMUTABLEID: dataCollectionRuleImmutableId
  CCP_JIRA_AUDIT_STREAMNAME: streamName
  HEALTH_DATA_COLLECTION_ENDPOINT: dataCollectionEndpoint
  HEALTH_DCR_IMMUTABLE_ID: healthDcrImmutableId
  HEALTH_STREAM_NAME: healthStreamName
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: appSettings
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
