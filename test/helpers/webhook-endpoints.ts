// The org's webhook endpoints through GraphQL, as its backend manages them.
import { graphql } from "../graphql/gql.js";
import type { TestGateway } from "./gateway.ts";

export const CreateEndpoint = graphql(`
  mutation CreateEndpoint($input: CreateWebhookEndpointInput!) {
    createWebhookEndpoint(input: $input) {
      __typename
      ... on CreateWebhookEndpointSuccess { secret endpoint { id url types connectionIds enabled secretHint } }
      ... on ValidationError { message fieldErrors { path message } }
      ... on Error { message }
    }
  }
`);

export const UpdateEndpoint = graphql(`
  mutation UpdateEndpoint($id: ID!, $input: UpdateWebhookEndpointInput!) {
    updateWebhookEndpoint(id: $id, input: $input) {
      __typename
      ... on UpdateWebhookEndpointSuccess { endpoint { id enabled disabledReason types } }
      ... on ValidationError { message fieldErrors { path message } }
      ... on NotFoundError { message }
    }
  }
`);

export const DeleteEndpoint = graphql(`
  mutation DeleteEndpoint($id: ID!) {
    deleteWebhookEndpoint(id: $id) {
      __typename
      ... on DeleteWebhookEndpointSuccess { deletedId }
      ... on NotFoundError { message }
    }
  }
`);

export const RotateSecret = graphql(`
  mutation RotateSecret($id: ID!, $graceSeconds: Int) {
    rotateWebhookEndpointSecret(id: $id, graceSeconds: $graceSeconds) {
      __typename
      ... on RotateWebhookEndpointSecretSuccess { secret endpoint { secretHint } }
      ... on ValidationError { message fieldErrors { path message } }
      ... on NotFoundError { message }
    }
  }
`);

export const RecoverDeliveries = graphql(`
  mutation RecoverDeliveries($id: ID!, $since: DateTime!) {
    recoverWebhookDeliveries(id: $id, since: $since) {
      __typename
      ... on RecoverWebhookDeliveriesSuccess { scheduled }
      ... on ValidationError { message fieldErrors { path message } }
      ... on NotFoundError { message }
    }
  }
`);

export const SendTestWebhook = graphql(`
  mutation SendTestWebhook($id: ID!) {
    sendTestWebhook(id: $id) {
      __typename
      ... on SendTestWebhookSuccess { delivery { id messageId type sequence status } }
      ... on NotFoundError { message }
    }
  }
`);

export const EndpointDeliveries = graphql(`
  query EndpointDeliveries($id: ID!, $status: [WebhookDeliveryStatus!]) {
    node(id: $id) {
      ... on WebhookEndpoint {
        enabled
        disabledReason
        deliveries(first: 100, status: $status) {
          edges {
            node {
              id messageId type sequence status nextAttemptAt
              attempts { at statusCode durationMs error }
            }
          }
        }
      }
    }
  }
`);

/** Creates an endpoint and returns its id and secret; throws on anything but success. */
export async function createEndpoint(
  gateway: TestGateway,
  apiKey: string,
  input: { url: string; types?: string[]; connectionIds?: string[]; description?: string },
): Promise<{ id: string; secret: string }> {
  const result = await gateway.gql(CreateEndpoint, { input }, apiKey);
  const created = result.data?.createWebhookEndpoint;
  if (created?.__typename !== "CreateWebhookEndpointSuccess") throw new Error(JSON.stringify(result));
  return { id: created.endpoint.id, secret: created.secret };
}

/** The endpoint's deliveries, newest first. */
export async function deliveriesOf(gateway: TestGateway, apiKey: string, id: string) {
  const result = await gateway.gql(EndpointDeliveries, { id }, apiKey);
  const node = result.data?.node;
  if (!node || !("deliveries" in node) || !("enabled" in node)) throw new Error(JSON.stringify(result));
  return {
    enabled: node.enabled,
    disabledReason: node.disabledReason,
    deliveries: node.deliveries.edges.map((edge) => edge.node),
  };
}
