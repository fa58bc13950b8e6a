import { DateTimeResolver, JSONResolver, SafeIntResolver } from 'graphql-scalars'

/** ISO-8601 UTC timestamps, free-form JSON attributes, and integers beyond 32 bits (event sequences). */
export const DateTime = DateTimeResolver
export const JSONScalar = JSONResolver
export const SafeInt = SafeIntResolver
