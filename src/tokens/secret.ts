import { createHash, randomBytes } from 'node:crypto'

/**
 * A new random bearer secret (256 bits). Secrets are high-entropy, so a fast SHA-256
 * is enough to store them safely; only the hash is ever written.
 */
export function newSecret(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex')
}
