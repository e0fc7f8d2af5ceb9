import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { makeClient } from "../cli/rpcClient.ts"
import { gitRepo } from "../testing/fixtures.ts"
import { inProcessServer } from "../testing/inProcessServer.ts"
import { upgradeStatus } from "../testing/ws.ts"

describe("WebSocket API", () => {
  it.live("serves every method to the owner token", () =>
    Effect.gen(function* () {
      const server = yield* inProcessServer()
      const repo = yield* gitRepo
      const client = yield* makeClient({ url: server.url, token: server.ownerToken })
      const status = yield* client["server.getStatus"]()
      assert.strictEqual(status.status, "ready")
      const created = yield* client["orchestration.dispatchCommand"]({
        command: { type: "project.create", commandId: "c1", projectId: "p1", workspaceRoot: repo }
      })
      assert.strictEqual(created.sequence, 1)
      const projects = yield* client["project.list"]()
      assert.deepStrictEqual(
        projects.map((p) => p.id),
        ["p1"]
      )
      const started = yield* client["orchestration.dispatchCommand"]({
        command: {
          type: "thread.turn.start",
          commandId: "c2",
          threadId: "t1",
          prompt: "hello",
          bootstrap: { createThread: { projectId: "p1" }, workspace: { mode: "current_checkout" } }
        }
      })
      assert.strictEqual("threadId" in started ? started.worktreePath : undefined, repo)
      const thread = yield* client["thread.get"]({ threadId: "t1" as never })
      assert.strictEqual(thread.latestTurn?.status, "requested")
      const snapshot = yield* client["orchestration.getSnapshot"]()
      assert.strictEqual(snapshot.threads.length, 1)
      const events = yield* client["orchestration.subscribe"]({ fromSequence: 0 }).pipe(
        Stream.take(snapshot.sequence),
        Stream.runCollect
      )
      assert.deepStrictEqual(
        Array.from(events, (e) => e.sequence),
        Array.from({ length: snapshot.sequence }, (_, i) => i + 1)
      )
      const invalid = yield* Effect.flip(
        client["orchestration.dispatchCommand"]({ command: { type: "project.remove", commandId: "c3" } })
      )
      assert.strictEqual(invalid.reason, "validation")
      assert.strictEqual((invalid as { field?: string }).field, "projectId")
    })
  )

  it.live("refuses a missing or invalid token before the upgrade, and a foreign Origin", () =>
    Effect.gen(function* () {
      const server = yield* inProcessServer()
      assert.strictEqual(yield* upgradeStatus(server.url, {}), 401)
      assert.strictEqual(
        yield* upgradeStatus(server.url, { authorization: "Bearer spc_not-a-real-token-at-all" }),
        401
      )
      assert.strictEqual(
        yield* upgradeStatus(server.url, { authorization: `Bearer ${server.ownerToken}` }),
        101
      )
      assert.strictEqual(
        yield* upgradeStatus(server.url, {
          "sec-websocket-protocol": `spindle, bearer.${server.ownerToken}`
        }),
        101
      )
      assert.strictEqual(
        yield* upgradeStatus(server.url, {
          authorization: `Bearer ${server.ownerToken}`,
          origin: "https://evil.example"
        }),
        403
      )
    })
  )
})
