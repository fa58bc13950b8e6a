// Apps with a SCIM connection, set up through the public API for the provisioning benches.
import { graphql } from './harness.mjs'

export const ERRORS = 'userErrors { code message }'

/** Runs a mutation whose payload has userErrors; returns the payload, or throws on any error. */
export async function mutate(server, secret, query, input) {
  const { json } = await graphql(server.url, secret, query, { input })
  if (json.errors) throw new Error(JSON.stringify(json.errors))
  const payload = Object.values(json.data)[0]
  if (payload.userErrors.length) throw new Error(JSON.stringify(payload.userErrors))
  return payload
}

/**
 * An ACTIVE app labelled `label` whose SCIM connection is ENABLED towards the responder's `key`
 * prefix, with `feature` ({ name, capabilities }) ENABLED; returns its id.
 */
export async function scimApp(server, secret, { responder, key, label, feature }) {
  const { app } = await mutate(
    server,
    secret,
    `mutation($input: CreateAppInput!) { createApp(input: $input) { app { id } ${ERRORS} } }`,
    { name: 'scim', label, signOnMode: 'SAML_2_0' },
  )
  await mutate(
    server,
    secret,
    `mutation($input: UpdateProvisioningConnectionInput!) { updateProvisioningConnection(input: $input) { app { id } ${ERRORS} } }`,
    { appId: app.id, baseUrl: responder.baseUrl(key), token: responder.token, authScheme: 'TOKEN', status: 'ENABLED' },
  )
  await mutate(
    server,
    secret,
    `mutation($input: UpdateAppFeatureInput!) { updateAppFeature(input: $input) { feature { name } ${ERRORS} } }`,
    { appId: app.id, status: 'ENABLED', ...feature },
  )
  return app.id
}
