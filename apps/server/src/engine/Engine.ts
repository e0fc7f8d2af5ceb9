// The single writer. Every command goes through one queue and one fiber that decides a batch in
// memory (batchDecision.ts), then appends its events, updates the projections and records the
// receipts in one transaction (batchWriter.ts), then publishes the events. Reads (snapshot,
// thread, event stream) never wait for the writer. It does not validate transport input or run
// side effects outside the database.
import {
  type Actor,
  type Command,
  type DispatchResult,
  type Project,
  type ProjectId,
  type Snapshot,
  SpindleError,
  type SpindleEvent,
  type Thread,
  type ThreadId
} from "@spindle/contracts"
import {
  type AggregateRef,
  aggregateOf,
  emptyReadModel,
  hasCheckoutOn,
  projectOn,
  type ReadModel
} from "@spindle/read-model"
import type * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Ref from "effect/Ref"
import * as Result from "effect/Result"
import * as Semaphore from "effect/Semaphore"
import * as Stream from "effect/Stream"
import * as SqlClient from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import { CurrentHost, ownedBy } from "../config/HostIdentity.ts"
import { EventStore } from "../persistence/EventStore.ts"
import { LogSignals } from "../persistence/LogSignals.ts"
import { ProjectionStore } from "../persistence/ProjectionStore.ts"
import { isStorageFull, storageFullMessage } from "../persistence/storageFull.ts"
import { fold } from "./batchDecision.ts"
import { makeBatchWriter } from "./batchWriter.ts"
import { type Follow, makeFollowers } from "./followers.ts"

const PAGE_SIZE = 500
const QUEUE_CAPACITY = 4_096
const MAX_BATCH = 128

interface Envelope {
  readonly command: Command
  readonly actor: Actor
  readonly done: Deferred.Deferred<DispatchResult, SpindleError>
}

const internalError = (error: SqlError, commandId?: string) =>
  new SpindleError({
    ...(isStorageFull(error)
      ? { reason: "storage-full", message: storageFullMessage(error.reason.message ?? error.message) }
      : {
          reason: "internal",
          message: `The database failed (${error.reason.message ?? error.message}). Nothing was applied; retry the same command.`
        }),
    ...(commandId === undefined ? {} : { commandId: commandId as Command["commandId"] })
  })

export class Engine extends Context.Service<
  Engine,
  {
    /** Applies a command; answers the sequence of its last event, or the recorded outcome for a known commandId. */
    readonly dispatch: (command: Command, actor: Actor) => Effect.Effect<DispatchResult, SpindleError>
    /**
     * Applies commands in order, queued together so that they share one transaction when the
     * writer is free; answers each one's outcome (a refused one does not stop the others).
     */
    readonly dispatchAll: (
      commands: ReadonlyArray<Command>,
      actor: Actor
    ) => Effect.Effect<ReadonlyArray<Result.Result<DispatchResult, SpindleError>>>
    /** Completes once the projections have caught up with the log (fails if that is impossible). */
    readonly ready: Effect.Effect<void, SpindleError>
    /** The model as this host reads it: each project's workspaceRoot its checkout here. */
    readonly readModel: Effect.Effect<ReadModel>
    readonly snapshot: Effect.Effect<Snapshot>
    readonly getThread: (id: ThreadId) => Effect.Effect<Thread | undefined>
    readonly getProject: (id: ProjectId) => Effect.Effect<Project | undefined>
    /**
     * Every event with a sequence greater than `after`, then live ones: no gap, no duplicate (of
     * those `follow.wanted` accepts, when given).
     */
    readonly events: (after: number, follow?: Follow) => Stream.Stream<SpindleEvent, SpindleError>
    /**
     * `events`, without the events of threads another host owns: what a host reacts to (it runs
     * only its own threads' setup and agents, and touches only its own worktrees).
     */
    readonly ownEvents: (after: number, follow?: Follow) => Stream.Stream<SpindleEvent, SpindleError>
    /** Whether this host owns the thread (config/HostIdentity ownedBy). */
    readonly owns: (thread: Thread) => boolean
    /** Whether this host holds a checkout of the project (so it makes worktrees for it). */
    readonly hasCheckout: (project: Project) => boolean
  }
>()("spindle/engine/Engine") {
  static readonly layer = Layer.effect(
    Engine,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const eventStore = yield* EventStore
      const projections = yield* ProjectionStore
      const host = yield* CurrentHost
      const signals = yield* LogSignals
      const batches = yield* makeBatchWriter
      const { foldForeign } = batches
      // The writer and the reader of other hosts' appends take turns on the model.
      const writing = yield* Semaphore.make(1)

      const model = yield* Ref.make<ReadModel>(emptyReadModel)
      const queue = yield* Queue.bounded<Envelope, Cause.Done>(QUEUE_CAPACITY)
      // The followers of the log (followers.ts), handed each event as soon as it is committed.
      const followers = makeFollowers(eventStore.readAfter)
      yield* Effect.addFinalizer(() => followers.close)
      const { publish } = followers
      const caughtUp = yield* Deferred.make<void, SpindleError>()
      let accepting = true

      const saveFolded = (current: ReadModel, events: ReadonlyArray<SpindleEvent>) =>
        Effect.gen(function* () {
          const changed = new Map<string, AggregateRef>()
          const next = fold(current, events, changed)
          yield* projections.save(next, changed.values())
          return next
        })

      const catchUp = Effect.gen(function* () {
        let current = yield* projections.load
        const latest = yield* eventStore.latestSequence
        if (current === undefined || current.sequence > latest) {
          yield* Effect.logWarning("Rebuilding the read model from the event log")
          yield* sql.withTransaction(projections.reset)
          current = emptyReadModel
        }
        const from = current.sequence
        while (true) {
          const page: ReadonlyArray<SpindleEvent> = yield* eventStore.readAfter(current.sequence, PAGE_SIZE)
          if (page.length === 0) break
          const base: ReadModel = current
          current = yield* sql.withTransaction(saveFolded(base, page))
        }
        yield* Ref.set(model, current)
        if (current.sequence > from) {
          yield* Effect.logInfo("Read model caught up").pipe(
            Effect.annotateLogs({ from, to: current.sequence })
          )
        }
      }).pipe(
        Effect.mapError(
          (error) =>
            new SpindleError({
              reason: "unavailable",
              message: `Projection catch-up failed: ${error.reason.message ?? error.message}. Check the database file and restart.`
            })
        ),
        Effect.withSpan("Engine.catchUp")
      )

      /** Between this server's own writes: takes in and publishes what the other hosts appended. */
      const takeInForeign = writing
        .withPermits(1)(
          Effect.gen(function* () {
            const folded = yield* foldForeign(yield* Ref.get(model))
            if (folded.events.length === 0) return
            yield* Ref.set(model, folded.model)
            yield* publish(folded.events)
          })
        )
        .pipe(
          Effect.catchCause((cause) =>
            Effect.logWarning("Reading the other hosts' events failed; retrying", cause)
          ),
          Effect.withSpan("Engine.takeInForeign")
        )

      const processBatch = (batch: ReadonlyArray<Envelope>) =>
        Effect.gen(function* () {
          const applied = yield* batches.decideAndWrite(batch, yield* Ref.get(model))
          yield* Ref.set(model, applied.model)
          yield* publish([...applied.foreign, ...applied.outcomes.flatMap((outcome) => outcome.events)])
          yield* Effect.forEach(
            batch,
            (envelope, i) => {
              const { result } = applied.outcomes[i]!
              return Result.isSuccess(result)
                ? Deferred.succeed(envelope.done, result.success)
                : Deferred.fail(envelope.done, result.failure)
            },
            { discard: true }
          )
        }).pipe(
          Effect.catch((error: SqlError) =>
            Effect.forEach(
              batch,
              (envelope) => Deferred.fail(envelope.done, internalError(error, envelope.command.commandId)),
              { discard: true }
            )
          ),
          // Anything else that goes wrong fails this batch's commands; the writer lives on. The
          // transaction rolled back and the in-memory model was not touched, so nothing is half-applied.
          Effect.catchCause((cause) =>
            Effect.andThen(
              Effect.logError("The engine failed on a batch of commands", cause),
              Effect.forEach(
                batch,
                (envelope) =>
                  Deferred.fail(
                    envelope.done,
                    new SpindleError({
                      reason: "internal",
                      commandId: envelope.command.commandId,
                      message:
                        "The server failed while applying this command; nothing was applied. Retry it; see the server log."
                    })
                  ),
                { discard: true }
              )
            )
          ),
          Effect.withSpan("Engine.processBatch", { attributes: { "batch.size": batch.length } })
        )

      const writer = Effect.gen(function* () {
        const startup = yield* Effect.exit(catchUp)
        yield* Deferred.done(caughtUp, startup)
        while (true) {
          const batch = yield* Queue.takeBetween(queue, 1, MAX_BATCH)
          if (startup._tag === "Failure") {
            yield* Effect.forEach(batch, (envelope) => Deferred.failCause(envelope.done, startup.cause), {
              discard: true
            })
            continue
          }
          yield* writing.withPermits(1)(processBatch(batch))
        }
      }).pipe(Effect.catchTag("Done", () => Effect.void))

      const writerFiber = yield* Effect.forkScoped(writer)
      if (signals.shared) {
        yield* Effect.forkScoped(
          Effect.andThen(
            Deferred.await(caughtUp),
            Stream.runForEach(signals.appended, () => takeInForeign)
          ).pipe(Effect.ignore)
        )
      }
      // On shutdown: refuse new commands, let the writer finish what is queued, then stop.
      yield* Effect.addFinalizer(() =>
        Effect.gen(function* () {
          accepting = false
          yield* Queue.end(queue)
          yield* Fiber.await(writerFiber)
        })
      )

      const shuttingDown = (command: Command) =>
        new SpindleError({
          reason: "unavailable",
          commandId: command.commandId,
          message: "The server is shutting down. Retry the same command once it is back."
        })

      const dispatch = Effect.fn("Engine.dispatch")(function* (command: Command, actor: Actor) {
        if (!accepting) return yield* shuttingDown(command)
        const done = yield* Deferred.make<DispatchResult, SpindleError>()
        yield* Queue.offer(queue, { command, actor, done })
        return yield* Deferred.await(done)
      })

      const dispatchAll = (commands: ReadonlyArray<Command>, actor: Actor) =>
        Effect.gen(function* () {
          const envelopes: Array<Envelope> = []
          for (const command of commands)
            envelopes.push({ command, actor, done: yield* Deferred.make<DispatchResult, SpindleError>() })
          // What is not taken (the server is going away, or its queue ended) is answered so.
          const left = accepting ? yield* Queue.offerAll(queue, envelopes) : envelopes
          for (const envelope of left) yield* Deferred.fail(envelope.done, shuttingDown(envelope.command))
          return yield* Effect.forEach(envelopes, (envelope) => Effect.result(Deferred.await(envelope.done)))
        })

      // What this host reads: each project's workspaceRoot is its checkout here (where it has one),
      // so everything that works in a repository uses this host's clone. Made once per model.
      const views = new WeakMap<ReadModel, ReadModel>()
      const localView = (m: ReadModel): ReadModel => {
        if (host === undefined) return m
        const cached = views.get(m)
        if (cached !== undefined) return cached
        let changed = false
        const projects = HashMap.map(m.projects, (project) => {
          const here = projectOn(project, host.id)
          if (here !== project) changed = true
          return here
        })
        const view = changed ? { ...m, projects } : m
        views.set(m, view)
        return view
      }
      const localModel = Effect.map(Ref.get(model), localView)

      const snapshot = Effect.map(
        localModel,
        (m): Snapshot => ({
          sequence: m.sequence,
          projects: Array.from(HashMap.values(m.projects)).sort((a, b) =>
            a.createdAt.localeCompare(b.createdAt)
          ),
          // Deleted threads stay in the model (and their events in the log) but not in lists.
          threads: Array.from(HashMap.values(m.threads))
            .filter((t) => t.deletedAt === null)
            .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
        })
      )

      const events = (after: number, follow?: Follow): Stream.Stream<SpindleEvent, SpindleError> =>
        followers.events(after, follow).pipe(Stream.mapError((error) => internalError(error)))

      const owns = (thread: Thread) => ownedBy(host, thread)
      /** Whether the event is this host's to react to: not one of a thread another host owns. */
      const ownedHere = (event: SpindleEvent) => {
        const ref = aggregateOf(event)
        if (ref.kind !== "thread") return true
        const thread = HashMap.get(Ref.getUnsafe(model).threads, ref.id as ThreadId)
        return Option.isNone(thread) || owns(thread.value)
      }
      // Checked as each event is published (as `wanted` is), so another host's events wake nobody here.
      const ownEvents = (after: number, follow: Follow = {}) => {
        if (host === undefined) return events(after, follow)
        const { wanted } = follow
        return events(after, {
          ...follow,
          wanted: wanted === undefined ? ownedHere : (event) => wanted(event) && ownedHere(event)
        })
      }

      return {
        dispatch,
        dispatchAll,
        ownEvents,
        owns,
        hasCheckout: (p: Project) => hasCheckoutOn(p, host?.id),
        ready: Deferred.await(caughtUp),
        readModel: localModel,
        snapshot,
        getThread: (id: ThreadId) =>
          Effect.map(Ref.get(model), (m) => Option.getOrUndefined(HashMap.get(m.threads, id))),
        getProject: (id: ProjectId) =>
          Effect.map(localModel, (m) => Option.getOrUndefined(HashMap.get(m.projects, id))),
        events
      }
    })
  )
}
