import { assert, describe, it } from "@effect/vitest"
import type { ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Tracer from "effect/Tracer"
import WebSocket from "ws"
import { makeClient } from "../cli/rpcClient.ts"
import { inProcessServer } from "../testing/inProcessServer.ts"
import { upgradeStatus } from "../testing/ws.ts"

/** Opens a raw WebSocket with the token; resolves once open. */
const rawSocket = (url: string, token: string) =>
  Effect.acquireRelease(
    Effect.callback<WebSocket, Error>((resume) => {
      const ws = new WebSocket(`${url.replace(/^http/, "ws")}/ws`, {
        headers: { authorization: `Bearer ${token}` }
      })
      ws.once("open", () => resume(Effect.succeed(ws)))
      ws.once("error", (error) => resume(Effect.fail(error)))
    }),
    (ws) => Effect.sync(() => ws.terminate())
  )

const nextMessage = (ws: WebSocket) =>
  Effect.callback<string, Error>((resume) => {
    ws.once("message", (data) => resume(Effect.succeed(String(data))))
    ws.once("close", (code, reason) => resume(Effect.fail(new Error(`closed ${code} ${reason}`))))
  }).pipe(Effect.timeout("5 seconds"))

describe("WebSocket tokens and scopes", () => {
  it.live("revoked and expired tokens get 401; a token without the scope gets forbidden", () =>
    Effect.gen(function* () {
      const server = yield* inProcessServer()
      const admin = yield* makeClient({ url: server.url, token: server.ownerToken })
      const reader = yield* admin["token.create"]({ input: { name: "reader", scopes: ["read"] } })
      const brief = yield* admin["token.create"]({
        input: { name: "brief", scopes: ["read"], expiresInSeconds: 1 }
      })
      const revoked = yield* admin["token.create"]({ input: { name: "gone", scopes: ["operate"] } })
      yield* admin["token.revoke"]({ id: revoked.id })
      const listed = yield* admin["token.list"]()
      assert.isTrue(listed.some((t) => t.id === revoked.id && t.revokedAt !== null))
      assert.notInclude(JSON.stringify(listed), reader.token)

      assert.strictEqual(yield* upgradeStatus(server.url, { authorization: `Bearer ${revoked.token}` }), 401)
      assert.strictEqual(yield* upgradeStatus(server.url, { authorization: `Bearer ${reader.token}` }), 101)
      // Wait (bounded) for the one-second token to expire.
      const expired = yield* upgradeStatus(server.url, { authorization: `Bearer ${brief.token}` }).pipe(
        Effect.repeat({ until: (status) => status === 401, schedule: Schedule.spaced("100 millis") }),
        Effect.timeout("5 seconds")
      )
      assert.strictEqual(expired, 401)

      const readOnly = yield* makeClient({ url: server.url, token: reader.token })
      assert.strictEqual((yield* readOnly["server.getStatus"]()).status, "ready")
      const forbidden = yield* Effect.flip(
        readOnly["orchestration.dispatchCommand"]({
          command: { type: "project.remove", commandId: "x", projectId: "p" }
        })
      )
      assert.strictEqual(forbidden.reason, "forbidden")
      assert.include(forbidden.message, "operate")
      const notAdmin = yield* Effect.flip(readOnly["token.list"]())
      assert.strictEqual(notAdmin.reason, "forbidden")
    })
  )

  it.live("a malformed frame gets an error and the connection stays; an oversized frame closes it", () =>
    Effect.gen(function* () {
      const server = yield* inProcessServer()
      const ws = yield* rawSocket(server.url, server.ownerToken)
      ws.send("{this is not json")
      const answer = yield* nextMessage(ws)
      assert.include(answer, "Defect")
      ws.send(JSON.stringify({ _tag: "Request", id: "7", tag: "project.list", payload: null, headers: [] }))
      const listed = JSON.parse(yield* nextMessage(ws))
      assert.deepStrictEqual(listed, { _tag: "Exit", requestId: "7", exit: { _tag: "Success", value: [] } })

      const big = yield* rawSocket(server.url, server.ownerToken)
      const closed = Effect.callback<number>((resume) => {
        big.once("close", (code) => resume(Effect.succeed(code)))
      })
      big.send("x".repeat(2 * 1024 * 1024))
      assert.strictEqual(yield* closed.pipe(Effect.timeout("5 seconds")), 1009)
    })
  )

  it.live("a token sent with one call is checked in full and in place of the connection's", () =>
    Effect.gen(function* () {
      const server = yield* inProcessServer()
      const admin = yield* makeClient({ url: server.url, token: server.ownerToken })
      const reader = yield* admin["token.create"]({ input: { name: "reader", scopes: ["read"] } })
      const ws = yield* rawSocket(server.url, server.ownerToken)
      const call = (id: string, tag: string, headers: ReadonlyArray<readonly [string, string]>) =>
        Effect.gen(function* () {
          ws.send(JSON.stringify({ _tag: "Request", id, tag, payload: null, headers }))
          return JSON.parse(yield* nextMessage(ws)).exit
        })
      const asReader = yield* call("1", "token.list", [["authorization", `Bearer ${reader.token}`]])
      assert.strictEqual(asReader._tag, "Failure")
      assert.include(JSON.stringify(asReader), '"reason":"forbidden"')
      const asNobody = yield* call("2", "project.list", [["authorization", "Bearer spc_not-a-token"]])
      assert.include(JSON.stringify(asNobody), '"reason":"unauthorized"')
      const asOwner = yield* call("3", "token.list", [])
      assert.strictEqual(asOwner._tag, "Success")
    })
  )

  it.live("every call is traced as a span named after its method", () =>
    Effect.gen(function* () {
      const names: Array<string> = []
      const recording = Tracer.make({
        span: (options) => {
          names.push(options.name)
          return new Tracer.NativeSpan(options)
        }
      })
      const server = yield* inProcessServer().pipe(Effect.withTracer(recording))
      const client = yield* makeClient({ url: server.url, token: server.ownerToken })
      yield* client["project.list"]()
      yield* Effect.flip(client["thread.get"]({ threadId: "t-000000000000" as ThreadId }))
      assert.include(names, "spindle.ws.project.list")
      assert.include(names, "spindle.ws.thread.get")
    })
  )
})
