import { validate, type ValidationError } from 'class-validator'
import { domainError, type DomainError } from '../errors'

/**
 * Validates a mutation input against the class-validator rules declared on its input type.
 * Failures become VALIDATION errors whose `field` is the path inside `input`.
 */
export async function validateInput(input: object): Promise<DomainError[]> {
  const errors = await validate(input, { forbidUnknownValues: false })
  return errors.flatMap((error) => flatten(error, []))
}

function flatten(error: ValidationError, parent: string[]): DomainError[] {
  const path = [...parent, error.property]
  const own = Object.values(error.constraints ?? {}).map((message) => domainError('VALIDATION', message, path))
  return [...own, ...(error.children ?? []).flatMap((child) => flatten(child, path))]
}
