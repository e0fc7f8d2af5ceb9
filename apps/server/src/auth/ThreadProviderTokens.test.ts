// Provider tokens end with their thread, through the real server: archive and delete revoke them
// (the agent then gets 401 on /mcp), an ended thread gets no new token, a restart revokes what a
// crash left live, and `token.list` / `token.revoke` cover both kinds.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { ListedToken } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as SqlClient from "effect/sql/SqlClient"
import { makeClient, type SpindleClient } from "../cli/rpcClient.ts"
import { gitRepo, ids, tempHome } from "../testing/fixtures.ts"
import { inProcessServer } from "../testing/inProcessServer.ts"
import { rawInitialize } from "../testing/mcp.ts"
import { withProviderTokens } from "../testing/providerTokens.ts"

/** The HTTP status of an MCP initialize POST carrying `token`. */
const mcpStatus = (url: string, token: string) =>
  Effect.map(rawInitialize(url, { authorization: `Bearer ${token}` }), (r) => r.status)

let commandCount = 0
const dispatch = (client: SpindleClient, command: Record<string, unknown>) =>
  client["orchestration.dispatchCommand"]({ command: { ...command, commandId: `c-${++commandCount}` } })

/** A project `p1` and live threads `a` and `b` on a server over `home`. */
const world = (home?: string) =>
  Effect.gen(function* () {
    const server = yield* inProcessServer(home === undefined ? {} : { home })
    const token =
      home === undefined ? server.ownerToken : readFileSync(join(home, "owner-token"), "utf8").trim()
    const client = yield* makeClient({ url: server.url, token })
    return { server, client }
  })

const seed = (client: SpindleClient) =>
  Effect.gen(function* () {
    const repo = yield* gitRepo
    yield* dispatch(client, { type: "project.create", projectId: "p1", workspaceRoot: repo })
    for (const threadId of ["a", "b"]) {
      yield* dispatch(client, { type: "thread.create", threadId, projectId: "p1", title: threadId })
    }
  })

const revokedAt = (client: SpindleClient, id: string) =>
  Effect.map(client["token.list"](), (tokens) => tokens.find((t) => t.id === id)?.revokedAt ?? null)

/** Waits (bounded) until the follower has revoked token `id`. */
const awaitRevoked = (client: SpindleClient, id: string) =>
  revokedAt(client, id).pipe(
    Effect.repeat({ until: (at) => at !== null, schedule: Schedule.spaced("10 millis") }),
    Effect.timeout("5 seconds")
  )

describe("provider tokens follow their thread", () => {
  it.live("archiving or deleting a thread revokes its tokens: the agent gets 401, others keep working", () =>
    Effect.gen(function* () {
      const { server, client } = yield* world()
      yield* seed(client)
      const onA = yield* client["token.issueMcp"]({ threadId: ids.thread("a") })
      const onB = yield* client["token.issueMcp"]({ threadId: ids.thread("b") })
      assert.strictEqual(yield* mcpStatus(server.url, onA.token), 200)

      yield* dispatch(client, { type: "thread.archive", threadId: "a" })
      yield* awaitRevoked(client, onA.id)
      assert.strictEqual(yield* mcpStatus(server.url, onA.token), 401)
      assert.strictEqual(yield* mcpStatus(server.url, onB.token), 200)
      assert.isNull(yield* revokedAt(client, onB.id))

      yield* dispatch(client, { type: "thread.delete", threadId: "b" })
      yield* awaitRevoked(client, onB.id)
      assert.strictEqual(yield* mcpStatus(server.url, onB.token), 401)
    })
  )

  it.live("an archived or deleted thread gets no new provider token", () =>
    Effect.gen(function* () {
      const { client } = yield* world()
      yield* seed(client)
      yield* dispatch(client, { type: "thread.archive", threadId: "a" })
      const archived = yield* Effect.flip(client["token.issueMcp"]({ threadId: ids.thread("a") }))
      assert.strictEqual(archived.reason, "conflict")
      assert.include(archived.message, "archived")
      yield* dispatch(client, { type: "thread.delete", threadId: "b" })
      const deleted = yield* Effect.flip(client["token.issueMcp"]({ threadId: ids.thread("b") }))
      assert.strictEqual(deleted.reason, "conflict")
      assert.deepStrictEqual(
        (yield* client["token.list"]()).filter((t) => t.kind === "provider"),
        []
      )
    })
  )

  it.live("a restart revokes live tokens of archived, deleted and unknown threads, and only those", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      const issued = yield* Effect.scoped(
        Effect.gen(function* () {
          const { client } = yield* world(home)
          yield* seed(client)
          const onA = yield* client["token.issueMcp"]({ threadId: ids.thread("a") })
          const onB = yield* client["token.issueMcp"]({ threadId: ids.thread("b") })
          yield* dispatch(client, { type: "thread.archive", threadId: "a" })
          yield* awaitRevoked(client, onA.id)
          return { onA, onB }
        })
      )
      // As if the server died between the archive and the revoke, plus a token whose thread this
      // server never had.
      const ghost = yield* withProviderTokens(home, (tokens) =>
        Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          yield* sql`UPDATE provider_tokens SET revoked_at = NULL WHERE id = ${issued.onA.id}`
          return yield* tokens.issue({
            threadId: ids.thread("ghost"),
            projectId: ids.project("p1"),
            providerSessionId: "s-ghost",
            capabilities: ["thread-read"]
          })
        })
      )

      const { server, client } = yield* world(home)
      yield* awaitRevoked(client, issued.onA.id)
      yield* awaitRevoked(client, ghost.id)
      assert.strictEqual(yield* mcpStatus(server.url, issued.onA.token), 401)
      assert.strictEqual(yield* mcpStatus(server.url, ghost.token), 401)
      assert.isNull(yield* revokedAt(client, issued.onB.id))
      assert.strictEqual(yield* mcpStatus(server.url, issued.onB.token), 200)
    })
  )
})

describe("token.list and token.revoke over both kinds", () => {
  it.live("lists client and provider tokens tagged by kind, newest first, and revokes either by id", () =>
    Effect.gen(function* () {
      const { server, client } = yield* world()
      yield* seed(client)
      const reader = yield* client["token.create"]({ input: { name: "reader", scopes: ["read"] } })
      const agent = yield* client["token.issueMcp"]({
        threadId: ids.thread("a"),
        capabilities: ["thread-read"]
      })
      const listed = yield* client["token.list"]()
      const byId = new Map<string, ListedToken>(listed.map((t) => [t.id, t]))
      assert.deepStrictEqual([...byId.values()].map((t) => t.kind).sort(), ["client", "client", "provider"])
      const listedAgent = byId.get(agent.id)!
      assert.strictEqual(listedAgent.kind, "provider")
      if (listedAgent.kind === "provider") {
        assert.strictEqual(listedAgent.threadId, "a")
        assert.deepStrictEqual([...listedAgent.capabilities], ["thread-read"])
        assert.strictEqual(listedAgent.expiresAt, agent.expiresAt)
      }
      assert.strictEqual(byId.get(reader.id)!.kind, "client")
      const serialized = JSON.stringify(listed)
      assert.notInclude(serialized, agent.token)
      assert.notInclude(serialized, reader.token)
      assert.notInclude(serialized, "tokenHash")

      const revokedAgent = yield* client["token.revoke"]({ id: agent.id })
      assert.strictEqual(revokedAgent.kind, "provider")
      assert.isNotNull(revokedAgent.revokedAt)
      assert.strictEqual(yield* mcpStatus(server.url, agent.token), 401)
      const revokedReader = yield* client["token.revoke"]({ id: reader.id })
      assert.strictEqual(revokedReader.kind, "client")
      assert.isNotNull(revokedReader.revokedAt)

      const unknown = yield* Effect.flip(client["token.revoke"]({ id: "ptk_000000000000" }))
      assert.strictEqual(unknown.reason, "not-found")
      const pasted = yield* Effect.flip(client["token.revoke"]({ id: agent.token }))
      assert.strictEqual(pasted.reason, "not-found")
      assert.notInclude(pasted.message, agent.token.slice(4, 16))
      const junk = yield* Effect.flip(client["token.revoke"]({ id: "whatever" }))
      assert.include(junk.message, "ptk_")
    })
  )
})
