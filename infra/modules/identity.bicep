// The one identity the function app runs as: host storage, deployment package, watermark table, Logs Ingestion,
// Key Vault references and App Insights all authenticate with it, so no keys or connection strings are needed.
param name string
param location string
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
