import { Field, ID, InterfaceType } from 'type-graphql'
import { kindOfId } from '../store/ids'

/** Every entity has an opaque global id; its prefix tells `node(id:)` which type it is. */
@InterfaceType({
  description: 'An object with a globally unique, opaque id.',
  resolveType: (value: { id: string }) => kindOfId(value.id),
})
export abstract class Node {
  @Field(() => ID)
  id: string
}
