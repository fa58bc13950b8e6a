import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { Config } from '../config'
import type { Logger } from '../logger'

/**
 * Secrets we must send downstream (connection tokens, passwords awaiting a push) and so cannot
 * hash: sealed with AES-256-GCM under SECRET_KEY. `configured` is false only on PostgreSQL without
 * a key, where values stay in clear as before and the OKTA password seed is refused.
 */
export interface SecretBox {
  readonly configured: boolean
  seal(plain: string): string
  /** A sealed value opened, or a value stored in clear (before sealing existed) as is. */
  open(stored: string): string
}

/** Marks a sealed value and its format: `sealed:v1:` + base64(iv | tag | ciphertext). */
export const SEALED_PREFIX = 'sealed:v1:'
const ANY_SEALED = 'sealed:'
const IV_BYTES = 12
const TAG_BYTES = 16
export const KEY_BYTES = 32
export const KEY_FILE = 'secret.key'

export const isSealed = (stored: string) => stored.startsWith(SEALED_PREFIX)

export function sealedBox(key: Buffer): SecretBox {
  if (key.length !== KEY_BYTES) throw new Error(`A secret key must be ${KEY_BYTES} bytes (got ${key.length}).`)
  return {
    configured: true,
    seal(plain) {
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
      return SEALED_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64')
    },
    open: (stored) => openWith(key, stored),
  }
}

/** A key of this process only (tests, benches): nothing sealed with it outlives the process. */
export const ephemeralBox = () => sealedBox(randomBytes(KEY_BYTES))

/** No key (PostgreSQL without SECRET_KEY): values are stored as given; sealed ones cannot be opened. */
export const clearBox: SecretBox = {
  configured: false,
  seal: (plain) => plain,
  open: (stored) => openWith(undefined, stored),
}

function openWith(key: Buffer | undefined, stored: string): string {
  if (!stored.startsWith(ANY_SEALED)) return stored
  if (!isSealed(stored)) throw new Error('Cannot open a sealed secret: its format is newer than this version knows.')
  if (!key) throw new Error('Cannot open a sealed secret: SECRET_KEY is not set.')
  const bytes = Buffer.from(stored.slice(SEALED_PREFIX.length), 'base64')
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES))
    decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES))
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8')
  } catch {
    // GCM refuses to authenticate: never hand back what a wrong key would decrypt to.
    throw new Error(
      'Cannot open a sealed secret: it does not authenticate (SECRET_KEY is not the key that sealed it, or the value was altered).',
    )
  }
}

/**
 * The key of the embedded default: generated into DATA_DIR on first start (readable by the owner
 * only) and read from there afterwards, so a single-machine install needs no configuration.
 */
export function keyFromDataDir(dataDir: string): Buffer {
  const file = path.join(dataDir, KEY_FILE)
  fs.mkdirSync(dataDir, { recursive: true })
  try {
    // 'wx' fails if the file exists: two processes starting at once keep the first one's key.
    fs.writeFileSync(file, `${randomBytes(KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
  const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64')
  if (key.length !== KEY_BYTES) throw new Error(`${file} does not hold a ${KEY_BYTES}-byte base64 key.`)
  return key
}

/** The process's box: SECRET_KEY if set; else the key file on the embedded default; else (PostgreSQL) none. */
export function loadSecretBox(config: Pick<Config, 'SECRET_KEY' | 'DATABASE_URL' | 'DATA_DIR'>, logger: Logger) {
  if (config.SECRET_KEY) return sealedBox(config.SECRET_KEY)
  if (!config.DATABASE_URL) return sealedBox(keyFromDataDir(config.DATA_DIR))
  logger.warn(
    'SECRET_KEY is not set: provisioning connection tokens are stored in clear, and the OKTA password seed is refused until SECRET_KEY is set.',
  )
  return clearBox
}
