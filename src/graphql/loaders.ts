import DataLoader from 'dataloader'
import type { User as UserRow } from '../generated/prisma/client'
import type { Prisma } from '../store/database'

/** Per-request batch loaders: every relation a list can ask for goes through one of these. */
export interface Loaders {
  userById: DataLoader<string, UserRow | null>
}

export function createLoaders(prisma: Prisma): Loaders {
  return {
    userById: new DataLoader(async (ids) => {
      const rows = await prisma.user.findMany({ where: { id: { in: [...ids] } } })
      const byId = new Map(rows.map((row) => [row.id, row]))
      return ids.map((id) => byId.get(id) ?? null)
    }),
  }
}
