import { graphql } from "../graphql/gql.js";

export const CreateOrg = graphql(`
  mutation CreateOrg($name: String!) {
    createOrg(input: { name: $name }) {
      __typename
      ... on CreateOrgSuccess {
        apiKey
        org { id name redirectUri webhookUrl createdAt stripeConfig { clientId } }
      }
      ... on ValidationError { message fieldErrors { path message } }
    }
  }
`);

export const Viewer = graphql(`
  query Viewer {
    viewer {
      id
      name
      redirectUri
      webhookUrl
      stripeConfig {
        connectMethod clientId secretKeyHint livemode customAuthorizationUrl
        webhookSigningSecretSet defaultReturnUrl updatedAt
      }
    }
  }
`);

export const NodeOrg = graphql(`
  query NodeOrg($id: ID!) {
    node(id: $id) { id ... on Org { name stripeConfig { clientId secretKeyHint } } }
  }
`);

export const SetStripeConfig = graphql(`
  mutation SetStripeConfig($input: SetStripeConfigInput!) {
    setStripeConfig(input: $input) {
      __typename
      ... on SetStripeConfigSuccess {
        org { id name }
        stripeConfig {
          connectMethod clientId secretKeyHint livemode customAuthorizationUrl
          webhookSigningSecretSet defaultReturnUrl updatedAt
        }
      }
      ... on ValidationError { message fieldErrors { path message } }
    }
  }
`);
