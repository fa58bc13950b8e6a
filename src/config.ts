import { z } from 'zod'

const positiveInt = (fallback: number) => z.coerce.number().int().min(0).default(fallback)
const optionalText = z.string().trim().min(1).optional().catch(undefined)

const HEX_KEY = /^[0-9a-f]{64}$/i
const BASE64_KEY = /^[A-Za-z0-9+/_-]{43}=?$/

/** 32 bytes, as 64 hex characters or base64 (standard or URL-safe); anything else is refused rather than stretched. */
const secretKey = z
  .string()
  .trim()
  .optional()
  .transform((value, context) => {
    if (!value) return undefined
    if (HEX_KEY.test(value)) return Buffer.from(value, 'hex')
    if (BASE64_KEY.test(value)) return Buffer.from(value, 'base64')
    context.addIssue({ code: 'custom', message: 'must be 32 bytes given as base64 or as 64 hex characters' })
    return z.NEVER
  })

/** Every environment variable the service reads, with its default. The README's table mirrors this. */
const schema = z.object({
  NODE_ENV: z.string().default('development'),
  HOST: z.string().default('127.0.0.1'),
  PORT: positiveInt(4000),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  DATA_DIR: z.string().default('./data'),
  SECRET_KEY: secretKey,
  DATABASE_POOL_SIZE: positiveInt(10),
  BOOTSTRAP_ADMIN_TOKEN: optionalText,
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    ),
  RATE_LIMIT_PER_MINUTE: positiveInt(1000),
  TOKEN_CACHE_SECONDS: positiveInt(5),
  MAX_QUERY_DEPTH: positiveInt(15),
  MAX_QUERY_COMPLEXITY: positiveInt(50_000),
  LOCKOUT_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(10),
  ACTIVATION_TOKEN_TTL_HOURS: z.coerce.number().positive().default(168),
  RESET_TOKEN_TTL_MINUTES: z.coerce.number().positive().default(60),
  METRICS_PORT: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z.coerce.number().int().min(0).max(65535).optional(),
  ),
  SHUTDOWN_TIMEOUT_MS: positiveInt(10_000),
  COMPILED_EXECUTION: z
    .enum(['true', 'false', '1', '0', ''])
    .default('true')
    .transform((value) => value === '' || value === 'true' || value === '1'),
  PROVISIONING_CONCURRENCY: positiveInt(8),
  PROVISIONING_CONCURRENCY_PER_APP: z.coerce.number().int().min(1).default(4),
  PROVISIONING_LEASE_SECONDS: z.coerce.number().int().min(1).default(30),
  PROVISIONING_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(10),
  PROVISIONING_TIMEOUT_SECONDS: z.coerce.number().positive().default(60),
  PROVISIONING_POLL_MS: z.coerce.number().int().min(10).default(1000),
  EVENT_RELAY_POLL_MS: z.coerce.number().int().min(10).default(1000),
  SUBSCRIPTION_BUFFER: z.coerce.number().int().min(1).default(1000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
})

export type Config = z.infer<typeof schema>

/** Parses the environment once; a bad value stops start-up with a message naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)
    throw new Error(`Invalid configuration:\n  ${problems.join('\n  ')}`)
  }
  return parsed.data
}
