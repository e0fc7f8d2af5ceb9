// Two engines on one Postgres store, as two hosts are: one gapless event sequence that both
// publish in the same order, each event once; a host hears the other's appends without writing
// itself (LISTEN/NOTIFY); and admission holds across them (the limit is checked under the log's
// lock, on every event before the decision, never on a host's possibly stale snapshot).
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { Command, SpindleEvent } from "@spindle/contracts"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import { AdmissionLimits, DEFAULT_LIMITS } from "../config/ServerConfig.ts"
import { engineLayer, ids, serverActor, tempDir } from "../testing/fixtures.ts"
import { testPostgres } from "../testing/testStore.ts"
import { Engine } from "./Engine.ts"

const createProject = (host: string, n: number, projectId = `${host}${n}`): Command => ({
  type: "project.create",
  commandId: ids.command(`${host}-create-${n}`),
  projectId: ids.project(projectId),
  workspaceRoot: `/repos/${host}${n}`
})

const createThread = (host: string, n: number): Command => ({
  type: "thread.create",
  commandId: ids.command(`${host}-thread-${n}`),
  threadId: ids.thread(`${host}-t${n}`),
  projectId: ids.project("shared"),
  title: `${host} ${n}`
})

const host = (file: string, limit = DEFAULT_LIMITS.activeThreadsPerProject) =>
  Effect.gen(function* () {
    const context = yield* Layer.build(
      engineLayer(file).pipe(
        Layer.provide(Layer.succeed(AdmissionLimits, { ...DEFAULT_LIMITS, activeThreadsPerProject: limit }))
      )
    )
    const engine = Context.get(context, Engine)
    yield* engine.ready
    return engine
  })

/** Collects the first `count` events a subscriber from sequence 0 sees. */
const collect = (engine: Engine["Service"], count: number) =>
  engine.events(0).pipe(
    Stream.take(count),
    Stream.runCollect,
    Effect.map((events) => Chunk.toReadonlyArray(Chunk.fromIterable(events)) as ReadonlyArray<SpindleEvent>),
    Effect.timeout("20 seconds"),
    Effect.forkScoped
  )

describe.runIf(testPostgres() !== undefined)("two engines on one Postgres log", () => {
  it.effect("one gapless sequence, published by both in the same order, each event once", () =>
    Effect.gen(function* () {
      const file = join(yield* tempDir(), "spindle.db")
      const a = yield* host(file)
      const b = yield* host(file)
      const perHost = 40
      const seenByA = yield* collect(a, perHost * 2)
      const seenByB = yield* collect(b, perHost * 2)
      yield* Effect.all(
        [
          Effect.forEach(
            Array.from({ length: perHost }, (_, i) => i),
            (i) => a.dispatch(createProject("a", i), serverActor),
            {
              concurrency: 4
            }
          ),
          Effect.forEach(
            Array.from({ length: perHost }, (_, i) => i),
            (i) => b.dispatch(createProject("b", i), serverActor),
            {
              concurrency: 4
            }
          )
        ],
        { concurrency: 2 }
      )
      const onA = yield* Fiber.join(seenByA)
      const onB = yield* Fiber.join(seenByB)
      assert.deepStrictEqual(
        onA.map((e) => e.sequence),
        Array.from({ length: perHost * 2 }, (_, i) => i + 1)
      )
      assert.deepStrictEqual(
        onB.map((e) => e.eventId),
        onA.map((e) => e.eventId)
      )
      // Both models hold every project, whichever host created it.
      for (const engine of [a, b]) {
        const snapshot = yield* engine.snapshot
        assert.strictEqual(snapshot.projects.length, perHost * 2)
      }
    }).pipe(Effect.scoped)
  )

  it.effect("a host hears the other's append without writing itself, and decides on it", () =>
    Effect.gen(function* () {
      const file = join(yield* tempDir(), "spindle.db")
      const a = yield* host(file)
      const b = yield* host(file)
      const heard = yield* collect(b, 1)
      yield* a.dispatch(createProject("x", 0, "shared"), serverActor)
      const [event] = yield* Fiber.join(heard)
      assert.strictEqual(event?.type, "project.created")
      assert.isDefined(yield* b.getProject(ids.project("shared")))
      // B's own command on A's project is decided on A's event.
      const made = yield* b.dispatch(createThread("b", 0), serverActor)
      assert.strictEqual(made.sequence, 2)
    }).pipe(Effect.scoped)
  )

  it.effect("a per-project limit holds across hosts creating threads at once", () =>
    Effect.gen(function* () {
      const file = join(yield* tempDir(), "spindle.db")
      const limit = 5
      const a = yield* host(file, limit)
      const b = yield* host(file, limit)
      yield* a.dispatch(createProject("x", 0, "shared"), serverActor)
      const burst = (engine: Engine["Service"], name: string) =>
        Effect.forEach(
          Array.from({ length: 10 }, (_, i) => i),
          (i) => Effect.result(engine.dispatch(createThread(name, i), serverActor)),
          { concurrency: 10 }
        )
      const [fromA, fromB] = yield* Effect.all([burst(a, "a"), burst(b, "b")], { concurrency: 2 })
      const outcomes = [...fromA, ...fromB]
      const accepted = outcomes.filter(Result.isSuccess).length
      assert.strictEqual(accepted, limit)
      for (const outcome of outcomes) {
        if (Result.isFailure(outcome)) assert.strictEqual(outcome.failure.reason, "capacity")
      }
      const threads = (yield* b.snapshot).threads.length
      assert.strictEqual(threads, limit)
    }).pipe(Effect.scoped)
  )
})
