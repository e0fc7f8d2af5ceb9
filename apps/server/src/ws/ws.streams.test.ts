import { assert, describe, it } from "@effect/vitest"
import type { Command, SpindleEvent } from "@spindle/contracts"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import { makeClient } from "../cli/rpcClient.ts"
import { serverActor } from "../testing/fixtures.ts"
import { inProcessServer } from "../testing/inProcessServer.ts"
import { boundedEvents } from "./subscription.ts"

const createProject: Command = {
  type: "project.create",
  commandId: "create" as never,
  projectId: "p1" as never,
  workspaceRoot: "/repos/p1"
}
const update = (i: number, prefix = "u"): Command =>
  ({ type: "project.update", commandId: `${prefix}-${i}`, projectId: "p1", title: `title ${i}` }) as Command

const sequences = (events: Iterable<SpindleEvent>) => Array.from(events, (e) => e.sequence)
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

describe("event subscriptions over the WebSocket", () => {
  it.live(
    "a subscriber cut off in the middle of a 10,000-event burst resumes and sees every event once",
    () =>
      Effect.gen(function* () {
        const server = yield* inProcessServer()
        yield* server.engine.dispatch(createProject, serverActor)
        const total = 10_001
        const burst = yield* Effect.forkChild(
          Effect.forEach(range(1, 10_000), (i) => server.engine.dispatch(update(i), serverActor), {
            concurrency: 32,
            discard: true
          })
        )
        // First connection: read part of the burst, then the connection goes away.
        const first = yield* Effect.scoped(
          Effect.gen(function* () {
            const client = yield* makeClient({ url: server.url, token: server.ownerToken })
            return yield* client["orchestration.subscribe"]({ fromSequence: 0 }).pipe(
              Stream.take(3_000),
              Stream.runCollect
            )
          })
        )
        const last = sequences(first).at(-1)!
        // A new connection resumes from the last sequence it had.
        const rest = yield* Effect.scoped(
          Effect.gen(function* () {
            const client = yield* makeClient({ url: server.url, token: server.ownerToken })
            return yield* client["orchestration.subscribe"]({ fromSequence: last }).pipe(
              Stream.takeUntil((e) => e.sequence >= total),
              Stream.runCollect
            )
          })
        )
        yield* Fiber.join(burst)
        assert.deepStrictEqual([...sequences(first), ...sequences(rest)], range(1, total))
      })
  )

  it.live("20 subscribers see identical ordered streams while 5 clients dispatch", () =>
    Effect.gen(function* () {
      const server = yield* inProcessServer()
      yield* server.engine.dispatch(createProject, serverActor)
      const perWriter = 60
      const total = 1 + 5 * perWriter
      const subscribers: Array<Fiber.Fiber<ReadonlyArray<SpindleEvent>, unknown>> = []
      for (let i = 0; i < 20; i++) {
        subscribers.push(
          yield* Effect.forkChild(
            Effect.scoped(
              Effect.gen(function* () {
                const client = yield* makeClient({ url: server.url, token: server.ownerToken })
                return yield* client["orchestration.subscribe"]({ fromSequence: 0 }).pipe(
                  Stream.takeUntil((e) => e.sequence >= total),
                  Stream.runCollect
                )
              })
            )
          )
        )
      }
      yield* Effect.forEach(
        range(1, 5),
        (w) =>
          Effect.scoped(
            Effect.gen(function* () {
              const client = yield* makeClient({ url: server.url, token: server.ownerToken })
              for (let i = 1; i <= perWriter; i++) {
                yield* client["orchestration.dispatchCommand"]({ command: update(i, `w${w}`) })
              }
            })
          ),
        { concurrency: "unbounded", discard: true }
      )
      const streams = yield* Effect.forEach(subscribers, Fiber.join)
      const expected = range(1, total)
      for (const events of streams) {
        assert.deepStrictEqual(sequences(events), expected)
        assert.deepStrictEqual(
          Array.from(events, (e) => e.eventId),
          Array.from(streams[0]!, (e) => e.eventId)
        )
      }
    })
  )

  it.live("a subscriber that stops reading is cut off with the sequence to resume from; others go on", () =>
    Effect.gen(function* () {
      const server = yield* inProcessServer()
      yield* server.engine.dispatch(createProject, serverActor)
      // The slow one: a small buffer, and a consumer that stops after its first event.
      const started = yield* Deferred.make<void>()
      const resume = yield* Deferred.make<void>()
      const stalled = yield* Effect.forkChild(
        boundedEvents(server.engine, 0, 50).pipe(
          Stream.runForEach((event) =>
            event.sequence === 1
              ? Effect.andThen(Deferred.succeed(started, undefined), Deferred.await(resume))
              : Effect.void
          ),
          Effect.flip
        )
      )
      yield* Deferred.await(started)
      // A healthy subscriber over the WebSocket keeps up the whole time.
      const client = yield* makeClient({ url: server.url, token: server.ownerToken })
      const healthy = yield* Effect.forkChild(
        client["orchestration.subscribe"]({ fromSequence: 0 }).pipe(
          Stream.takeUntil((e) => e.sequence >= 501),
          Stream.runCollect
        )
      )
      yield* Effect.forEach(range(1, 500), (i) => server.engine.dispatch(update(i), serverActor), {
        discard: true
      })
      assert.deepStrictEqual(sequences(yield* Fiber.join(healthy)), range(1, 501))
      // The slow one wakes up: it gets what was buffered, then the cut-off.
      yield* Deferred.succeed(resume, undefined)
      const error = yield* Fiber.join(stalled)
      assert.strictEqual(error.reason, "unavailable")
      assert.isNumber(error.sequence)
      assert.include(error.message, `sequence ${error.sequence}`)
    })
  )
})
