// The retention policy, run in the background (hourly by default): the kept worktrees of threads
// archived longer ago than their project's `removeArchivedAfterDays` are looked at again and
// removed if nothing would be lost now; active threads with no activity for `flagIdleAfterDays`
// are flagged idle (any later event clears the flag). Time comes from Clock, so tests move it.
import { type Actor, CommandId, type Thread, type ThreadId } from "@spindle/contracts"
import { randomHex } from "@spindle/shared/random"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { ServerConfig } from "../config/ServerConfig.ts"
import { Engine } from "../engine/Engine.ts"
import { ThreadLifecycle } from "./ThreadLifecycle.ts"

const DAY_MS = 86_400_000
const DEFAULT_INTERVAL_MS = 3_600_000
const server: Actor = { kind: "server" }

export interface SweepReport {
  readonly removed: ReadonlyArray<ThreadId>
  readonly flagged: ReadonlyArray<ThreadId>
}

/** When an archived thread's kept worktree is due for another look; undefined: not at all. */
const removalDue = (thread: Thread, days: number | null) => {
  if (days === null || thread.status !== "archived" || thread.archivedAt === null) return undefined
  if (!thread.workspace.createdByUs || thread.workspace.worktreePath === null) return undefined
  if (thread.cleanup?.outcome === "removed") return undefined
  return Date.parse(thread.archivedAt) + days * DAY_MS
}

/** When an active thread counts as idle; undefined when it is busy, already flagged, or never. */
const idleDue = (thread: Thread, days: number | null) => {
  if (days === null || thread.status !== "active" || thread.idleSince !== null) return undefined
  // A turn that is running is not idle, however long it takes; a requested one never run is.
  if (thread.bootstrap.status === "running" || thread.latestTurn?.status === "running") return undefined
  if (thread.setup.status === "running" || thread.pendingApprovals.length > 0) return undefined
  return Date.parse(thread.updatedAt) + days * DAY_MS
}

export class Retention extends Context.Service<
  Retention,
  {
    /** One pass of the policy over every thread, at the Clock's time. */
    readonly sweep: Effect.Effect<SweepReport>
    /** Runs `sweep` now and then at the configured interval, until the server stops. */
    readonly start: Effect.Effect<void>
  }
>()("spindle/lifecycle/Retention") {
  static readonly layer = Layer.effect(
    Retention,
    Effect.gen(function* () {
      const engine = yield* Engine
      const lifecycle = yield* ThreadLifecycle
      const config = yield* ServerConfig
      const scope: Scope.Scope = yield* Effect.scope

      const sweep = Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const model = yield* engine.readModel
        const removed: Array<ThreadId> = []
        const flagged: Array<ThreadId> = []
        for (const thread of HashMap.values(model.threads)) {
          // Another host's worktrees are that host's to remove.
          if (!engine.owns(thread)) continue
          const project = Option.getOrUndefined(HashMap.get(model.projects, thread.projectId))
          if (project === undefined) continue
          const removeAt = removalDue(thread, project.retention.removeArchivedAfterDays)
          if (removeAt !== undefined && removeAt <= now) {
            const commandId = CommandId.make(`retention-${yield* randomHex(10)}`)
            const done = yield* lifecycle
              .cleanUp(thread.id, commandId, server)
              .pipe(Effect.catch(() => Effect.succeed(undefined)))
            if (done !== undefined) removed.push(thread.id)
            continue
          }
          const idleAt = idleDue(thread, project.retention.flagIdleAfterDays)
          if (idleAt !== undefined && idleAt <= now) {
            const flag = yield* engine
              .dispatch(
                {
                  type: "thread.idle.flag",
                  commandId: CommandId.make(`idle-${yield* randomHex(10)}`),
                  threadId: thread.id,
                  idleSince: thread.updatedAt
                },
                server
              )
              .pipe(Effect.result)
            if (flag._tag === "Success") flagged.push(thread.id)
          }
        }
        if (removed.length + flagged.length > 0) {
          yield* Effect.logInfo(
            `Retention: removed ${removed.length} archived thread worktree(s), flagged ${flagged.length} idle thread(s).`
          )
        }
        return { removed, flagged } satisfies SweepReport
      }).pipe(Effect.withSpan("Retention.sweep"))

      const start = Effect.asVoid(
        Effect.forkIn(
          Effect.repeat(
            sweep.pipe(Effect.catchCause((cause) => Effect.logWarning("Retention sweep failed", cause))),
            Schedule.spaced(config.retentionIntervalMs ?? DEFAULT_INTERVAL_MS)
          ),
          scope
        )
      )

      return { sweep: sweep.pipe(Effect.withSpan("Retention.sweep")), start }
    })
  )
}
