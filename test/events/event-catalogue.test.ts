import { EventTypes } from '../../src/events/event-catalogue'
import { addMember, assignGroup, assignUser, createApp, createGroup } from '../support/directory'
import { startTestServer, type TestServer } from '../support/harness'
import { createUser, lifecycle } from '../support/users'

describe('the event catalogue', () => {
  const entries = Object.entries(EventTypes)

  test('every type is a dotted lower-case name with its own one-line description', () => {
    for (const [type, description] of entries) {
      expect(type).toMatch(/^[a-z_]+(\.[a-z_]+)+$/)
      expect(description).toMatch(/^[A-Z].*\.$/)
      expect(description).not.toContain('\n')
    }
    // A copied entry would repeat its neighbour's description.
    expect(new Set(entries.map(([, description]) => description)).size).toBe(entries.length)
  })

  describe('over the API', () => {
    let api: TestServer
    beforeAll(async () => {
      api = await startTestServer()
    })
    afterAll(() => api.close())

    test('users, groups and apps changed through the API store only catalogued event types', async () => {
      const { user } = await createUser(api, { activate: false, password: 'correct horse battery' })
      expect((await lifecycle(api, 'activateUser', user.id)).userErrors).toEqual([])
      expect((await lifecycle(api, 'suspendUser', user.id)).userErrors).toEqual([])
      const group = await createGroup(api)
      await addMember(api, group.id, user.id)
      const app = await createApp(api)
      expect((await assignUser(api, app.id, user.id)).userErrors).toEqual([])
      const groupApp = await createApp(api)
      expect((await assignGroup(api, groupApp.id, group.id)).userErrors).toEqual([])

      const response = await api.gql(`{ events(first: 500) { edges { node { type } } pageInfo { hasNextPage } } }`)
      expect(response.data.events.pageInfo.hasNextPage).toBe(false)
      const stored = new Set<string>(response.data.events.edges.map((edge: any) => edge.node.type))
      expect([...stored]).toEqual(
        expect.arrayContaining([
          'user.lifecycle.create',
          'user.lifecycle.activate',
          'user.lifecycle.suspend',
          'group.lifecycle.create',
          'group.user_membership.add',
          'application.lifecycle.create',
          'application.user_membership.add',
          'group.application_assignment.add',
        ]),
      )
      expect([...stored].filter((type) => !(type in EventTypes))).toEqual([])
    })
  })
})
