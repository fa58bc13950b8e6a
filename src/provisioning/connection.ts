import type { ScimConnection } from './scim-http'
import type { SecretBox } from './secrets'

/**
 * An app's provisioning connection as the SCIM client needs it, its token opened (it is stored sealed).
 * Throws when the token cannot be opened (SECRET_KEY changed): sending a wrong token would only earn a 401.
 */
export function scimConnectionOf(
  app: { provisioningBaseUrl: string | null; provisioningToken: string | null },
  secrets: Pick<SecretBox, 'open'>,
  timeoutMs: number,
): ScimConnection {
  // updateProvisioningConnection refuses to enable a connection without a baseUrl and never clears one.
  if (!app.provisioningBaseUrl) throw new Error('The provisioning connection has no baseUrl.')
  return {
    baseUrl: app.provisioningBaseUrl,
    token: app.provisioningToken ? secrets.open(app.provisioningToken) : '',
    timeoutMs,
  }
}
