// Every GraphQL document the dashboard sends, typed by `npm run codegen` (web/src/graphql/) against
// schema/schema.graphql. Each mutation selects every member of its result union.
import { graphql } from "./graphql/gql.ts";

export const StripeConfigFields = graphql(`
  fragment StripeConfigFields on StripeConfig {
    connectMethod
    clientId
    secretKeyHint
    livemode
    customAuthorizationUrl
    defaultReturnUrl
    webhookSigningSecretSet
    updatedAt
  }
`);

export const ViewerQuery = graphql(`
  query DashboardViewer {
    viewer {
      id
      plainId
      name
      redirectUri
      webhookUrl
      stripeConfig { ...StripeConfigFields }
    }
  }
`);

export const SaveStripeConfig = graphql(`
  mutation DashboardSetStripeConfig($input: SetStripeConfigInput!) {
    setStripeConfig(input: $input) {
      __typename
      ... on SetStripeConfigSuccess { warnings stripeConfig { ...StripeConfigFields } }
      ... on ValidationError { message fieldErrors { path message } }
    }
  }
`);

export const RegisterWebhookEndpoint = graphql(`
  mutation DashboardRegisterWebhookEndpoint {
    registerStripeWebhookEndpoint {
      __typename
      ... on RegisterStripeWebhookEndpointSuccess {
        endpointId
        url
        enabledEvents
        replacedEndpointIds
        warnings
        stripeConfig { ...StripeConfigFields }
      }
      ... on StripeNotConfiguredError { message }
      ... on ValidationError { message fieldErrors { path message } }
    }
  }
`);

export const ManifestQuery = graphql(`
  query DashboardStripeAppManifest($appId: String, $name: String) {
    stripeAppManifest(appId: $appId, name: $name) { text grantCommands }
  }
`);

export const CheckManifestQuery = graphql(`
  query DashboardCheckStripeAppManifest($json: String!) {
    checkStripeAppManifest(json: $json) {
      ok
      redirectUri
      problems { code path message fix }
    }
  }
`);

export const ConnectionFields = graphql(`
  fragment ConnectionFields on StripeConnection {
    id
    plainId
    status
    method
    stripeAccountId
    livemode
    account { businessName }
    connectedAt
    lastSyncedAt
    nextSyncAt
    lastError
    lastErrorCode
    syncStates { resource status objectsSynced objectsSkipped error lastSyncedAt }
  }
`);

export const ConnectionsQuery = graphql(`
  query DashboardConnections($first: Int!, $after: String, $status: [StripeConnectionStatus!]) {
    stripeConnections(first: $first, after: $after, status: $status) {
      totalCount
      edges { node { ...ConnectionFields } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

export const StartConnection = graphql(`
  mutation DashboardStartConnection($input: StartStripeConnectionInput) {
    startStripeConnection(input: $input) {
      __typename
      ... on StartStripeConnectionSuccess { authorizationUrl }
      ... on StripeNotConfiguredError { message }
      ... on NotFoundError { message }
      ... on ValidationError { message fieldErrors { path message } }
    }
  }
`);

export const ResyncConnection = graphql(`
  mutation DashboardResync($id: ID!) {
    resyncStripeConnection(id: $id) {
      __typename
      ... on ResyncStripeConnectionSuccess { connection { ...ConnectionFields } }
      ... on NotFoundError { message }
    }
  }
`);

export const DisconnectConnection = graphql(`
  mutation DashboardDisconnect($id: ID!) {
    disconnectStripeConnection(id: $id) {
      __typename
      ... on DisconnectStripeConnectionSuccess { connection { ...ConnectionFields } }
      ... on NotFoundError { message }
    }
  }
`);

export const ConnectionUpdated = graphql(`
  subscription DashboardConnectionUpdated {
    connectionUpdated { ...ConnectionFields }
  }
`);

export const PayoutUpdated = graphql(`
  subscription DashboardPayoutUpdated {
    payoutUpdated { id stripeId connectionId status amount currency arrivalDate updatedAt }
  }
`);

export const ChargeUpdated = graphql(`
  subscription DashboardChargeUpdated {
    chargeUpdated { id stripeId connectionId status amount currency refunded disputed updatedAt }
  }
`);
