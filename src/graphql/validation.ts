import { getMetadataStorage as validationMetadata, Matches, validate, type ValidationError } from 'class-validator'
import {
  getNamedType,
  GraphQLError,
  isListType,
  type GraphQLField,
  type GraphQLNonNull,
  type GraphQLOutputType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLFieldResolver,
  type GraphQLSchema,
} from 'graphql'
import { getMetadataStorage, type ResolverData, type ValidatorFn } from 'type-graphql'
import { domainError, type DomainError } from '../errors'
import { badArgument } from './query-errors'
import { toUserErrors } from './user-error'

/** api.md "Input limits": list arguments at most 100 items, wherever they sit in an input. */
export const MAX_LIST_ITEMS = 100

/** A name or label must hold more than whitespace (an empty one is refused too). */
export const NotBlank = () => Matches(/\S/, { message: '$property must not be blank' })

/** A mutation argument that breaks its declared rules; `problems` name paths inside the argument. */
class InvalidInputError extends Error {
  constructor(readonly problems: DomainError[]) {
    super(problems[0]?.message ?? 'Invalid input.')
  }
}

/**
 * Validates every argument of every field at the edge, before its resolver runs: the
 * class-validator rules declared on input classes, at most `maxItems` items in any list, and no NUL in any text.
 * type-graphql calls it (the `validateFn` of buildSchema, or an argument's own). A query or
 * subscription is refused with a top-level BAD_USER_INPUT naming the argument path; a mutation's
 * problems become VALIDATION userErrors in its payload (see `refusedInputsAsUserErrors`).
 */
export function argumentValidator({ maxItems }: { maxItems: number }): ValidatorFn<object> {
  const refuse = (problems: DomainError[], value: unknown, type: unknown, resolverData: ResolverData): never => {
    if (resolverData.info.parentType === resolverData.info.schema.getMutationType())
      throw new InvalidInputError(problems)
    const prefix = argumentName(value, type, resolverData)
    const [first] = problems
    throw new GraphQLError(first.message, {
      extensions: { code: 'BAD_USER_INPUT', field: [...prefix, ...(first.field ?? [])] },
    })
  }
  // Synchronous unless a class declares rules: page arguments reach every nested connection of every row.
  return (value, type, resolverData) => {
    const malformed = shapeProblems(value, maxItems, [])
    if (malformed.length) return refuse(malformed, value, type, resolverData)
    const items = (Array.isArray(value) ? value : [value]).filter(declaresRules)
    if (!items.length) return
    return declaredRuleProblems(items).then(
      (problems) => void (problems.length && refuse(problems, value, type, resolverData)),
    )
  }
}

/**
 * Gives each mutation that returns a payload with `userErrors` its refusal as a payload: the
 * argument problems as VALIDATION userErrors, every other field empty: null, or where the field is
 * non-null, false, 0 or an empty list (a count of nothing done). Nothing of the mutation ran:
 * type-graphql validates before calling the resolver.
 */
export function refusedInputsAsUserErrors(schema: GraphQLSchema): GraphQLSchema {
  for (const field of Object.values(schema.getMutationType()?.getFields() ?? {})) {
    const payload = getNamedType(field.type)
    if (!isObjectType(payload) || !payload.getFields().userErrors || !field.resolve) continue
    const refused = Object.fromEntries(
      Object.values(payload.getFields())
        .filter((part) => part.name !== 'userErrors' && isNonNullType(part.type))
        .map((part) => [part.name, emptyValue(payload.name, part)]),
    )
    const resolve: GraphQLFieldResolver<unknown, unknown> = field.resolve
    field.resolve = async (source, args, context, info) => {
      try {
        return await resolve(source, args, context, info)
      } catch (error) {
        if (error instanceof InvalidInputError) return { ...refused, userErrors: toUserErrors(error.problems) }
        throw error
      }
    }
  }
  return schema
}

/** What a refused payload answers for a non-null field; a payload with a field no refusal can fill is a schema bug. */
function emptyValue(payload: string, field: GraphQLField<unknown, unknown>): unknown {
  const type = (field.type as GraphQLNonNull<GraphQLOutputType>).ofType
  if (isListType(type)) return []
  const name = isScalarType(type) ? type.name : undefined
  if (name === 'Boolean') return false
  if (name === 'Int' || name === 'Float') return 0
  throw new Error(`${payload}.${field.name} is non-null ${String(type)}: a refused input could not answer it`)
}

/**
 * Bounds every subscription's arguments as queries' are, before it subscribes: type-graphql
 * validates a subscription's arguments only when it resolves an event, so a filter of 101 ids
 * (or text with U+0000) would be taken and then fail on every event. Refused with a top-level
 * BAD_USER_INPUT naming the argument path, on every transport.
 */
export function boundedSubscriptionArguments(schema: GraphQLSchema, { maxItems }: { maxItems: number }): GraphQLSchema {
  for (const field of Object.values(schema.getSubscriptionType()?.getFields() ?? {})) {
    const subscribe = field.subscribe
    if (!subscribe) continue
    field.subscribe = (source, args, context, info) => {
      const [first] = shapeProblems(args, maxItems, [])
      if (first) badArgument(first.message, first.field ?? [])
      return subscribe(source, args, context, info)
    }
  }
  return schema
}

/** Validates instances against the class-validator rules declared on their classes (and nested classes). */
async function declaredRuleProblems(items: object[]): Promise<DomainError[]> {
  const problems = await Promise.all(
    items.map(async (item) =>
      (await validate(item, { forbidUnknownValues: false })).flatMap((error) => flatten(error, [])),
    ),
  )
  return problems.flat()
}

// Classes without rules (page arguments, on every nested connection of every row) skip class-validator.
const classesWithRules = new Map<Function, boolean>()

/** Whether a value is an instance of a class with class-validator rules (its own or a parent's). */
function declaresRules(value: unknown): value is object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const type = value.constructor
  if (type === Object) return false
  let known = classesWithRules.get(type)
  if (known === undefined)
    classesWithRules.set(
      type,
      (known = validationMetadata().getTargetValidationMetadatas(type, '', true, false).length > 0),
    )
  return known
}

function flatten(error: ValidationError, parent: string[]): DomainError[] {
  const path = [...parent, error.property]
  const own = Object.values(error.constraints ?? {}).map((message) => domainError('VALIDATION', message, path))
  return [...own, ...(error.children ?? []).flatMap((child) => flatten(child, path))]
}

/** Every list over `maxItems` items inside an argument value (JSON attributes are lists too). */
/**
 * What no argument may hold, whatever its type: a list of more than `maxItems` items, or text with
 * U+0000 (PostgreSQL cannot store it, so it could only fail later as INTERNAL).
 */
function shapeProblems(value: unknown, maxItems: number, path: string[]): DomainError[] {
  if (typeof value === 'string' && value.includes('\u0000')) {
    return [domainError('VALIDATION', 'Text may not contain the NUL character (U+0000).', path)]
  }
  if (value === null || typeof value !== 'object') return []
  if (Array.isArray(value) && value.length > maxItems) {
    return [domainError('VALIDATION', `At most ${maxItems} items are allowed; ${value.length} were given.`, path)]
  }
  return Object.entries(value).flatMap(([key, item]) =>
    shapeProblems(item, maxItems, Array.isArray(value) ? path : [...path, key]),
  )
}

/**
 * The name of the argument a value was given as, for error paths: none for an `@Args()` class
 * (its properties are the arguments), else the argument holding this value or of its type.
 */
function argumentName(value: unknown, type: unknown, { args, info }: ResolverData): string[] {
  const metadata = getMetadataStorage()
  if (metadata.argumentTypes.some((argsType) => argsType.target === type)) return []
  const byValue = Object.keys(args).find((name) => args[name] === value)
  if (byValue) return [byValue]
  const typeName = isScalarType(type) ? type.name : metadata.inputTypes.find((input) => input.target === type)?.name
  const definition = info.parentType
    .getFields()
    [info.fieldName]?.args.find((arg) => getNamedType(arg.type).name === typeName)
  return definition ? [definition.name] : []
}
