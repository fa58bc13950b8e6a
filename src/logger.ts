import pino from 'pino'

/** Structured JSON logs (stdout unless a destination is given); the level comes from LOG_LEVEL. */
export function createLogger(level: string, destination?: pino.DestinationStream) {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination)
}

export type Logger = ReturnType<typeof createLogger>
