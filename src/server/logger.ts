import pino from 'pino'

/** Structured JSON logs on stdout; the level comes from LOG_LEVEL. */
export function createLogger(level: string) {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime })
}

export type Logger = ReturnType<typeof createLogger>
