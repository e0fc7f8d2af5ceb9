import { assert, describe, it } from "@effect/vitest"
import type { Command } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import WebSocket from "ws"
import { makeClient } from "../cli/rpcClient.ts"
import { serverActor } from "../testing/fixtures.ts"
import { inProcessServer } from "../testing/inProcessServer.ts"
import { SUBSCRIBER_BUFFER } from "./subscription.ts"

const update = (i: number): Command =>
  ({ type: "project.update", commandId: `u-${i}`, projectId: "p1", title: `title ${i}` }) as Command

describe("a slow WebSocket subscriber", () => {
  it.live("is cut off with the sequence to resume from, while a healthy subscriber gets everything", () =>
    Effect.gen(function* () {
      const server = yield* inProcessServer()
      yield* server.engine.dispatch(
        {
          type: "project.create",
          commandId: "create",
          projectId: "p1",
          workspaceRoot: "/repos/p1"
        } as Command,
        serverActor
      )
      const total = SUBSCRIBER_BUFFER + 1_001
      // The slow client: subscribes over a raw socket and does not acknowledge its first chunk.
      const slow = new WebSocket(`${server.url.replace(/^http/, "ws")}/ws`, {
        headers: { authorization: `Bearer ${server.ownerToken}` }
      })
      yield* Effect.addFinalizer(() => Effect.sync(() => slow.terminate()))
      let acking = false
      let received = 0
      let exit: unknown
      const ended = new Promise<void>((done) => {
        slow.on("message", (data) => {
          const message = JSON.parse(String(data)) as {
            _tag: string
            values?: Array<unknown>
            exit?: unknown
          }
          if (message._tag === "Chunk") {
            received += message.values?.length ?? 0
            // No acknowledgement (so no further chunk) until the test sets `acking`.
            if (acking) slow.send(JSON.stringify({ _tag: "Ack", requestId: "1" }))
          } else if (message._tag === "Exit") {
            exit = message.exit
            done()
          }
        })
      })
      yield* Effect.promise(() => new Promise((open) => slow.once("open", open)))
      slow.send(
        JSON.stringify({
          _tag: "Request",
          id: "1",
          tag: "orchestration.subscribe",
          payload: { fromSequence: 0 },
          headers: []
        })
      )

      const healthy = yield* makeClient({ url: server.url, token: server.ownerToken })
      const all = yield* Effect.forkChild(
        healthy["orchestration.subscribe"]({ fromSequence: 0 }).pipe(
          Stream.takeUntil((e) => e.sequence >= total),
          Stream.runCollect
        )
      )
      yield* Effect.forEach(
        Array.from({ length: total - 1 }, (_, i) => i + 1),
        (i) => server.engine.dispatch(update(i), serverActor),
        { concurrency: 32, discard: true }
      )
      const events = yield* Fiber.join(all)
      assert.strictEqual(events.length, total)
      assert.isBelow(received, total)

      // The slow client reads again: it gets what was buffered, then the cut-off with its sequence.
      acking = true
      slow.send(JSON.stringify({ _tag: "Ack", requestId: "1" }))
      yield* Effect.promise(() => ended).pipe(Effect.timeout("20 seconds"))
      const failure = JSON.stringify(exit)
      assert.include(failure, "SpindleError")
      assert.include(failure, "unavailable")
      const sequence = Number(/"sequence":(\d+)/.exec(failure)?.[1])
      assert.strictEqual(sequence, received)
      assert.isBelow(sequence, total)
    })
  )
})
