import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import WebSocket from "ws"
import { inProcessServer } from "../testing/inProcessServer.ts"

const connect = (url: string, token: string, answerEvery: number | undefined) =>
  Effect.acquireRelease(
    Effect.callback<{ ws: WebSocket; pings: () => number; closed: Promise<number> }, Error>((resume) => {
      const ws = new WebSocket(`${url.replace(/^http/, "ws")}/ws`, {
        headers: { authorization: `Bearer ${token}` },
        autoPong: false
      })
      let pings = 0
      ws.on("ping", () => {
        pings++
        if (answerEvery !== undefined && pings % answerEvery === 0) ws.pong()
      })
      const closed = new Promise<number>((done) => ws.on("close", (code) => done(code)))
      ws.once("open", () => resume(Effect.succeed({ ws, pings: () => pings, closed })))
      ws.once("error", (error) => resume(Effect.fail(error)))
    }),
    ({ ws }) => Effect.sync(() => ws.terminate())
  )

describe("WebSocket heartbeats", () => {
  it.live("drop a peer that stops answering, but not one that misses a few pongs", () =>
    Effect.gen(function* () {
      const server = yield* inProcessServer({ heartbeat: { intervalMs: 40, maxMissed: 3 } })
      const silent = yield* connect(server.url, server.ownerToken, undefined)
      const flaky = yield* connect(server.url, server.ownerToken, 2)
      const code = yield* Effect.promise(() => silent.closed).pipe(Effect.timeout("5 seconds"))
      assert.strictEqual(code, 1006)
      assert.isAtLeast(silent.pings(), 3)
      // The flaky peer answered only every second ping, over more intervals than the silent one
      // lasted, and is still connected.
      yield* Effect.promise(
        () =>
          new Promise<void>((done) => {
            const check = setInterval(() => {
              if (flaky.pings() >= 8) {
                clearInterval(check)
                done()
              }
            }, 10)
          })
      ).pipe(Effect.timeout("5 seconds"))
      assert.strictEqual(flaky.ws.readyState, WebSocket.OPEN)
    })
  )
})
