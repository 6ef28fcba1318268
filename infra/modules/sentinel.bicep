// Deployed in the workspace's resource group: Sentinel onboarding and the native CCP connector. The poller is
// built from the SAME definition file the function app polls with (connectors/jira-audit/connector.json): its
// {{placeholders}} are filled here, from the same values the app gets as CCP_JIRA_AUDIT_* settings, except that
// it sends to the CCP DCR (and so to the CCP table).
param workspaceName string
param resourceToken string
param jiraDomain string
param jiraUsername string
@secure()
param jiraApiToken string
param dataCollectionEndpoint string
param dataCollectionRuleImmutableId string
param streamName string
param tableName string

// take(skip()) rather than substring(): substring's length must be provably >= 0, and Bicep cannot know that the
// serialized array is always at least 4 characters long (BCP329).
@description('JSON-escapes a value for splicing between the quotes of a JSON string: string() of a one-element array serializes it as JSON, so dropping the surrounding [" and "] leaves the escaped text.')
func jsonStringContent(value string) string => take(skip(string([value]), 2), length(string([value])) - 4)

var connectorTemplate = loadTextContent('../../connectors/jira-audit/connector.json')

// Each value JSON-escaped up front, so the lambda below only replaces text.
var placeholderValues = [
  { placeholder: '{{domain}}', value: jsonStringContent(jiraDomain) }
  { placeholder: '{{username}}', value: jsonStringContent(jiraUsername) }
  { placeholder: '{{apiToken}}', value: jsonStringContent(jiraApiToken) }
  { placeholder: '{{dataCollectionEndpoint}}', value: jsonStringContent(dataCollectionEndpoint) }
  { placeholder: '{{dataCollectionRuleImmutableId}}', value: jsonStringContent(dataCollectionRuleImmutableId) }
  { placeholder: '{{streamName}}', value: jsonStringContent(streamName) }
]

var boundConnector = json(reduce(
  placeholderValues,
  connectorTemplate,
  (text, entry) => replace(string(text), entry.placeholder, entry.value)
))

// Our own definition name, not the one in the file: a workspace that also runs Microsoft's Jira solution keeps
// its definition untouched.
var definitionName = 'CcpPollerJiraAuditParity'

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-07-01' existing = {
  name: workspaceName
}

// Without it every other Sentinel call fails with "Workspace ... is not onboarded to Microsoft Sentinel".
resource onboarding 'Microsoft.SecurityInsights/onboardingStates@2025-09-01' = {
  scope: workspace
  name: 'default'
  properties: {}
}

resource definition 'Microsoft.SecurityInsights/dataConnectorDefinitions@2025-09-01' = {
  scope: workspace
  name: definitionName
  kind: 'Customizable'
  properties: {
    connectorUiConfig: loadJsonContent('../jira-audit/connector-ui.json')
  }
  dependsOn: [onboarding]
}

resource poller 'Microsoft.SecurityInsights/dataConnectors@2025-09-01' = {
  scope: workspace
  name: 'ccp-poller-jira-audit-${resourceToken}'
  kind: 'RestApiPoller'
  // any(): the file is typed only at run time; test/infra validates it against the ARM schema instead.
  // isActive: Microsoft's own Jira poller sets it, and the default when it is left out is undocumented.
  properties: any(union(boundConnector.properties, {
    connectorDefinitionName: definition.name
    dataType: tableName
    isActive: true
  }))
}

output definitionName string = definition.name
output connectorName string = poller.name
