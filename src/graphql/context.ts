import type { Config } from '../config'
import type { Actor } from '../events/event-log'
import type { EventStreams } from '../events/event-stream'
import type { PubSub } from '../events/topics'
import type { Database } from '../store/database'
import type { Principal } from '../tokens/scopes'
import type { Services } from '../services'
import type { Loaders } from './loaders'

/** Everything a resolver may use; built per HTTP request or WebSocket operation. */
export interface Context {
  principal: Principal | null
  actor: Actor
  db: Database
  config: Config
  services: Services
  loaders: Loaders
  pubSub: PubSub
  /** Subscriptions open their streams here. */
  streams: EventStreams
  requestId: string
}
