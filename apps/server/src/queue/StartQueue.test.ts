// The start queue end to end: a real server in-process over a temp home and SQLite file, a real
// repository and worktrees, and a command agent (a real child process) whose turn ends when the
// test creates the file its prompt names, so the test decides when each turn ends and reads
// everything else from the event log.
import { existsSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { BootstrapAnswer, SpindleError, SpindleEvent, ThreadId } from "@spindle/contracts"
import { threadOfEvent } from "@spindle/read-model"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import { Commands } from "../commands/Commands.ts"
import { DEFAULT_LIMITS } from "../config/ServerConfig.ts"
import { bootstrapWorld } from "../testing/bootstrap.ts"
import { gitRepo, serverActor, tempDir, tempHome } from "../testing/fixtures.ts"
import { inProcessServer } from "../testing/inProcessServer.ts"
import { PROJECT, providersOn, providerWorld } from "../testing/providers.ts"
import { StartQueue } from "./StartQueue.ts"

/** An agent whose turn waits until the file its prompt names exists, then completes. */
const heldAgent = {
  agentCommand: ["/bin/sh", "-c", 'while [ ! -e "$1" ]; do sleep 0.05; done; echo done', "agent", "{prompt}"]
}
const limitsOf = (runningTurns: number) => ({ limits: { ...DEFAULT_LIMITS, runningTurns } })

const allEvents = (
  engine: { readonly events: (after: number) => Stream.Stream<SpindleEvent, unknown> },
  upTo: number
) =>
  engine.events(0).pipe(
    Stream.take(upTo),
    Stream.runCollect,
    Effect.orDie,
    Effect.map((all) => Array.from(all))
  )

/** The threads in the order the writer first heard of them (created or queued). */
const arrivalOrder = (events: ReadonlyArray<SpindleEvent>) =>
  events.flatMap((e) =>
    e.type === "thread.created" || e.type === "thread.queued" ? [e.payload.thread.id] : []
  )

const ofType = (events: ReadonlyArray<SpindleEvent>, type: SpindleEvent["type"]) =>
  events.filter((e) => e.type === type).map((e) => threadOfEvent(e) as string)

/** The most turns running at once, and the most turn slots held at once (bootstraps and turns). */
const peaks = (events: ReadonlyArray<SpindleEvent>) => {
  let turns = 0
  let slots = 0
  let maxTurns = 0
  let maxSlots = 0
  for (const e of events) {
    if (e.type === "thread.turn-started") turns++
    if (e.type === "thread.created" || e.type === "thread.dequeued") slots++
    if (e.type === "thread.turn-ended") {
      turns--
      slots--
    }
    maxTurns = Math.max(maxTurns, turns)
    maxSlots = Math.max(maxSlots, slots)
  }
  return { maxTurns, maxSlots }
}

/**
 * Lets the agents' turns end one at a time, the oldest running first, each only once `hold`
 * turns run at once (or every start has begun its turn): so the server must fill the slots
 * itself. Ends when `total` turns have ended.
 */
const releaseTurns = (
  engine: { readonly events: (after: number) => Stream.Stream<SpindleEvent, unknown> },
  releases: string,
  total: number,
  hold: number,
  from = 0
) => {
  const waiting: Array<string> = []
  /** Turns seen starting (a turn that ended before `from`, or without starting, is not counted). */
  const seen = new Set<string>()
  let live = 0
  let started = 0
  let ended = 0
  let released: string | undefined
  const release = () => {
    if (released !== undefined || waiting.length === 0) return
    if (live < hold && started < total) return
    released = waiting.shift()!
    writeFileSync(join(releases, released), "")
  }
  return engine.events(from).pipe(
    Stream.tap((event) =>
      Effect.sync(() => {
        const id = threadOfEvent(event) as string
        if (event.type === "thread.turn-started") {
          seen.add(id)
          live++
          started++
          waiting.push(id)
        }
        if (event.type === "thread.turn-ended" && seen.has(id)) {
          seen.delete(id)
          live--
          ended++
          if (released === id) released = undefined
        }
        release()
      })
    ),
    Stream.takeUntil(() => ended === total),
    Stream.runDrain,
    Effect.orDie,
    Effect.timeout("300 seconds")
  )
}

describe("the start queue", () => {
  it.live(
    "30 concurrent starts against maxRunningTurns 2: at most 2 turns at once, all complete, in arrival order",
    () =>
      Effect.gen(function* () {
        const releases = yield* tempDir("spindle-releases-")
        const world = yield* providerWorld(providersOn, heldAgent, limitsOf(2))
        const ids = Array.from({ length: 30 }, (_, i) => `q${String(i).padStart(2, "0")}`)
        const from = (yield* world.engine.readModel).sequence
        const releasing = yield* Effect.forkChild(releaseTurns(world.engine, releases, ids.length, 2, from))
        const answers = (yield* Effect.forEach(
          ids,
          (id) => world.start(id, join(releases, id), { provider: "command" }),
          { concurrency: "unbounded" }
        )) as ReadonlyArray<BootstrapAnswer>
        yield* Fiber.join(releasing)

        const queuedAnswers = answers.filter((a) => a.turn.status === "queued")
        assert.isAtLeast(queuedAnswers.length, 20, "most starts waited in the queue")
        for (const answer of queuedAnswers) {
          assert.isTrue("queue" in answer && answer.queue.waitsFor.kind === "running-turns")
          assert.isNull(answer.worktreePath)
        }
        const events = yield* allEvents(world.engine, (yield* world.engine.readModel).sequence)
        const arrival = arrivalOrder(events)
        assert.sameMembers(arrival, ids)
        // Never more than 2 turns ran, nor more than 2 slots were held, and the 2 were used.
        assert.deepStrictEqual(peaks(events), { maxTurns: 2, maxSlots: 2 })
        // Every turn completed.
        const ended = events.filter((e) => e.type === "thread.turn-ended")
        assert.strictEqual(ended.length, 30)
        assert.isTrue(ended.every((e) => e.type === "thread.turn-ended" && e.payload.status === "completed"))
        // The first two began at once; every later turn started alone, in arrival order.
        const turnOrder = ofType(events, "thread.turn-started")
        assert.sameMembers(turnOrder.slice(0, 2), arrival.slice(0, 2))
        assert.deepStrictEqual(turnOrder.slice(2), arrival.slice(2))
        assert.deepStrictEqual(ofType(events, "thread.dequeued"), ofType(events, "thread.queued"))
        const model = yield* world.engine.readModel
        assert.deepStrictEqual([...model.queue], [])
      }),
    { timeout: 360_000 }
  )

  it.live(
    "a restart with 10 queued keeps their order",
    () =>
      Effect.gen(function* () {
        const releases = yield* tempDir("spindle-releases-")
        const ids = Array.from({ length: 11 }, (_, i) => `r${String(i).padStart(2, "0")}`)
        // The repository and the home outlive the first server; the second opens the same SQLite file.
        const repo = yield* gitRepo
        const home = yield* tempHome
        const settings = { home, providers: providersOn, ...limitsOf(1) }
        const before = yield* Effect.scoped(
          Effect.gen(function* () {
            const server = yield* inProcessServer(settings)
            const commands = Context.get(server.context, Commands)
            yield* commands.dispatch(
              {
                type: "project.create",
                commandId: "create-p1",
                projectId: PROJECT,
                workspaceRoot: repo,
                ...heldAgent
              },
              serverActor
            )
            const start = (id: string) =>
              commands.dispatch(
                {
                  type: "thread.turn.start",
                  commandId: `start-${id}`,
                  threadId: id,
                  prompt: join(releases, id),
                  bootstrap: {
                    createThread: { projectId: PROJECT, provider: "command" },
                    workspace: { mode: "new_worktree" },
                    runSetupScript: false
                  }
                },
                serverActor
              ) as Effect.Effect<BootstrapAnswer, SpindleError>
            // The first runs (and holds its turn); the other ten queue, one after the other.
            yield* start(ids[0]!)
            for (const id of ids.slice(1)) {
              assert.strictEqual((yield* start(id)).turn.status, "queued")
            }
            const model = yield* server.engine.readModel
            return { sequence: model.sequence, queue: [...model.queue] as Array<string> }
          })
        )
        assert.deepStrictEqual(before.queue, ids.slice(1))
        const server = yield* inProcessServer(settings)
        // The turn the stop interrupted freed the slot: the queue resumes, in order.
        yield* releaseTurns(server.engine, releases, 10, 1, before.sequence)
        const events = yield* allEvents(server.engine, (yield* server.engine.readModel).sequence)
        const interrupted = events.find(
          (e) => e.type === "thread.turn-ended" && e.payload.threadId === (ids[0] as ThreadId)
        )
        assert.strictEqual(
          interrupted?.type === "thread.turn-ended" ? interrupted.payload.status : undefined,
          "interrupted"
        )
        assert.deepStrictEqual(ofType(events, "thread.dequeued"), ids.slice(1))
        assert.deepStrictEqual(
          ofType(events, "thread.turn-started").filter((id) => id !== ids[0]),
          ids.slice(1)
        )
        assert.strictEqual(peaks(events).maxTurns, 1)
      }),
    { timeout: 240_000 }
  )

  it.live(
    "past the bootstrap limit: queued with its place; a retry answers it again; archive takes one out; the next starts when the slot frees",
    () =>
      Effect.gen(function* () {
        const release = join(yield* tempDir(), "release")
        const world = yield* bootstrapWorld({
          setupScript: `while [ ! -f '${release}' ]; do sleep 0.05; done`,
          limits: { bootstrapsPerProject: 1 }
        })
        yield* Context.get(world.context as Context.Context<StartQueue>, StartQueue).start
        const slow = yield* Effect.forkChild(world.bootstrap("t1"))
        yield* world.waitFor("t1", "thread.setup-started")
        const t2 = (yield* world.bootstrap("t2")) as BootstrapAnswer
        const t3 = (yield* world.bootstrap("t3")) as BootstrapAnswer
        assert.isTrue(t2.turn.status === "queued" && "queue" in t2)
        if (t2.turn.status !== "queued" || !("queue" in t2) || !("queue" in t3)) return
        assert.deepStrictEqual(t2.queue, {
          position: 1,
          waitsFor: { kind: "bootstraps", limit: 1 },
          message: "queued: 1st, waiting for a bootstrap slot in project p1 (1 of 1 in use)"
        })
        assert.strictEqual(t3.queue.position, 2)
        // The same send again answers its place, and records nothing new.
        const again = (yield* world.bootstrap("t2")) as BootstrapAnswer
        assert.isTrue("queue" in again && again.queue.position === 1)
        assert.deepStrictEqual(yield* world.eventTypes("t2"), ["thread.queued"])
        // Archived while queued, t3 leaves the queue without ever starting.
        yield* world.commands.dispatch(
          { type: "thread.archive", commandId: "arch-t3", threadId: "t3" },
          serverActor
        )
        const t3After = yield* world.engine.getThread("t3" as ThreadId)
        assert.strictEqual(t3After?.status, "archived")
        assert.isNull(t3After?.queue)
        writeFileSync(release, "")
        yield* Fiber.join(slow)
        yield* world.waitFor("t2", "thread.bootstrap-completed")
        const types = yield* world.eventTypes("t2")
        assert.deepStrictEqual(types.slice(0, 2), ["thread.queued", "thread.dequeued"])
        assert.include(types, "thread.turn-start-requested")
        assert.deepStrictEqual(yield* world.eventTypes("t3"), ["thread.queued", "thread.archived"])
        // Sent again once it ran, the start answers what it did.
        const done = (yield* world.bootstrap("t2")) as BootstrapAnswer
        assert.strictEqual(done.turn.status, "requested")
        assert.isTrue(done.worktreePath !== null && existsSync(done.worktreePath))
        assert.deepStrictEqual([...(yield* world.engine.readModel).queue], [])
      })
  )
})
