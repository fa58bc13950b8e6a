import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { loadConfig } from '../../src/config'
import { createLogger } from '../../src/logger'
import { scimConnectionOf } from '../../src/provisioning/connection'
import { clearBox, KEY_FILE, loadSecretBox, sealedBox } from '../../src/provisioning/secrets'

const silent = createLogger('silent')
const TOKEN = 'scim-bearer-token-0123456789'

/** Flips one bit of the sealed bytes at `index` (0-11 IV, 12-27 tag, 28+ ciphertext). */
function tampered(sealed: string, index: number): string {
  const [prefix, body] = [sealed.slice(0, 'sealed:v1:'.length), sealed.slice('sealed:v1:'.length)]
  const bytes = Buffer.from(body, 'base64')
  bytes[index] ^= 0x01
  return prefix + bytes.toString('base64')
}

describe('a sealed box (AES-256-GCM)', () => {
  const box = sealedBox(randomBytes(32))

  test('seals a value into something that does not contain it, versioned, and opens it back', () => {
    const sealed = box.seal(TOKEN)
    expect(sealed).toMatch(/^sealed:v1:/)
    expect(sealed).not.toContain(TOKEN)
    expect(box.open(sealed)).toBe(TOKEN)
    expect(box.open(box.seal(''))).toBe('')
    expect(box.open(box.seal('pässwörd ✓'))).toBe('pässwörd ✓')
  })

  test('sealing the same value twice gives different values (a fresh IV each time)', () => {
    expect(box.seal(TOKEN)).not.toBe(box.seal(TOKEN))
  })

  test.each([
    ['IV', 0],
    ['auth tag', 12],
    ['ciphertext', 28],
  ])('a value whose %s was altered is refused, never opened to something else', (_part, index) => {
    expect(() => box.open(tampered(box.seal(TOKEN), index))).toThrow(/does not authenticate/)
  })

  test('a truncated value is refused', () => {
    expect(() => box.open('sealed:v1:AAAA')).toThrow(/does not authenticate/)
  })

  test('a value sealed under another key is refused with an error naming SECRET_KEY', () => {
    const other = sealedBox(randomBytes(32))
    expect(() => other.open(box.seal(TOKEN))).toThrow(/SECRET_KEY is not the key that sealed it/)
  })

  test('a value stored in clear before sealing existed opens as is', () => {
    expect(box.open(TOKEN)).toBe(TOKEN)
  })

  test('a sealed format it does not know is refused, not passed through as a clear value', () => {
    expect(() => box.open('sealed:v9:abc')).toThrow(/newer/)
  })
})

describe('the box without a key (PostgreSQL without SECRET_KEY)', () => {
  test('is not configured, stores values as given and opens clear values as is', () => {
    expect(clearBox.configured).toBe(false)
    expect(clearBox.seal(TOKEN)).toBe(TOKEN)
    expect(clearBox.open(TOKEN)).toBe(TOKEN)
  })

  test('cannot open a sealed value and says SECRET_KEY is missing', () => {
    const sealed = sealedBox(randomBytes(32)).seal(TOKEN)
    expect(() => clearBox.open(sealed)).toThrow(/SECRET_KEY is not set/)
  })
})

describe('SECRET_KEY', () => {
  const key = randomBytes(32)

  test.each([
    ['64 hex characters', key.toString('hex')],
    ['base64', key.toString('base64')],
    ['base64url without padding', key.toString('base64url')],
  ])('is read from %s', (_form, value) => {
    expect(loadConfig({ SECRET_KEY: value }).SECRET_KEY).toEqual(key)
  })

  test.each([
    ['too short', randomBytes(16).toString('hex')],
    ['too long', randomBytes(33).toString('base64')],
    ['a passphrase', 'correct horse battery staple'],
  ])('%s stops start-up with a message naming SECRET_KEY', (_case, value) => {
    expect(() => loadConfig({ SECRET_KEY: value })).toThrow(/SECRET_KEY: must be 32 bytes/)
  })

  test('unset or empty means no key', () => {
    expect(loadConfig({}).SECRET_KEY).toBeUndefined()
    expect(loadConfig({ SECRET_KEY: '' }).SECRET_KEY).toBeUndefined()
  })
})

describe('loadSecretBox', () => {
  let dataDir: string
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-secrets-'))
  })
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }))

  test('on the embedded default without SECRET_KEY, generates a key file (0600) once and reuses it', () => {
    const first = loadSecretBox({ DATA_DIR: dataDir, SECRET_KEY: undefined, DATABASE_URL: undefined }, silent)
    const file = path.join(dataDir, KEY_FILE)
    const written = fs.readFileSync(file, 'utf8')
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    expect(first.configured).toBe(true)
    const sealed = first.seal(TOKEN)

    const second = loadSecretBox({ DATA_DIR: dataDir, SECRET_KEY: undefined, DATABASE_URL: undefined }, silent)
    expect(fs.readFileSync(file, 'utf8')).toBe(written)
    expect(second.open(sealed)).toBe(TOKEN)
  })

  test('creates DATA_DIR when it does not exist yet', () => {
    const nested = path.join(dataDir, 'not', 'yet')
    loadSecretBox({ DATA_DIR: nested, SECRET_KEY: undefined, DATABASE_URL: undefined }, silent)
    expect(fs.existsSync(path.join(nested, KEY_FILE))).toBe(true)
  })

  test('a key file that is not a 32-byte key stops start-up naming the file', () => {
    fs.writeFileSync(path.join(dataDir, KEY_FILE), 'not a key\n')
    expect(() => loadSecretBox({ DATA_DIR: dataDir, SECRET_KEY: undefined, DATABASE_URL: undefined }, silent)).toThrow(
      KEY_FILE,
    )
  })

  test('SECRET_KEY wins over the key file, and none is written', () => {
    const key = randomBytes(32)
    const box = loadSecretBox({ DATA_DIR: dataDir, SECRET_KEY: key, DATABASE_URL: undefined }, silent)
    expect(fs.existsSync(path.join(dataDir, KEY_FILE))).toBe(false)
    expect(sealedBox(key).open(box.seal(TOKEN))).toBe(TOKEN)
  })

  test('on PostgreSQL without SECRET_KEY: not configured, no key file, and a warning naming SECRET_KEY', () => {
    const lines: string[] = []
    const logger = createLogger('info', { write: (line: string) => void lines.push(line) })
    const box = loadSecretBox(
      { DATA_DIR: dataDir, SECRET_KEY: undefined, DATABASE_URL: 'postgresql://db.example/lg' },
      logger,
    )
    expect(box.configured).toBe(false)
    expect(fs.existsSync(path.join(dataDir, KEY_FILE))).toBe(false)
    const warnings = lines.map((line) => JSON.parse(line)).filter((entry) => entry.level === 40)
    expect(warnings).toEqual([expect.objectContaining({ msg: expect.stringMatching(/SECRET_KEY.*in clear.*OKTA/) })])
  })
})

describe('scimConnectionOf', () => {
  const box = sealedBox(randomBytes(32))
  const base = 'https://scim.example.com/v2'

  test('opens the sealed token for the SCIM client', () => {
    const app = { provisioningBaseUrl: base, provisioningToken: box.seal(TOKEN) }
    expect(scimConnectionOf(app, box, 5000)).toEqual({ baseUrl: base, token: TOKEN, timeoutMs: 5000 })
  })

  test('uses a token stored in clear as is', () => {
    const app = { provisioningBaseUrl: base, provisioningToken: TOKEN }
    expect(scimConnectionOf(app, box, 5000).token).toBe(TOKEN)
  })

  test('refuses a token sealed under another key instead of sending garbage', () => {
    const app = { provisioningBaseUrl: base, provisioningToken: sealedBox(randomBytes(32)).seal(TOKEN) }
    expect(() => scimConnectionOf(app, box, 5000)).toThrow(/does not authenticate/)
  })
})
