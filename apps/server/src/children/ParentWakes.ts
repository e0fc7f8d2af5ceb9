// A parent woken by its children. When a child started with onDone "wake" ends (its turn
// completed, failed or was interrupted, or its bootstrap failed) while its parent is idle, the
// parent gets a turn whose prompt says its children reported back and, for each finished child,
// whether its work merges cleanly into the parent's branch (a dry-run merge); the children's
// notices go with that prompt (ProviderService gives a turn its pending notices). Children that end
// within the window after the first (default 5 s) are one wake. The writer decides the wake
// itself (thread.wake: idle, active, notices still pending, under the wakes-per-hour cap), and the
// wake's command id comes from the notices it carries, so a second look, or a restart, wakes the
// parent once for them. At startup, every parent with waking notices pending is looked at again.
import {
  type ChildNotice,
  type CommandId,
  type SpindleEvent,
  type Thread,
  type ThreadId,
  TurnId
} from "@spindle/contracts"
import type { ReadModel } from "@spindle/read-model"
import { hasLiveTurn } from "@spindle/read-model/turnState"
import { hashId } from "@spindle/shared/hashId"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { CrashPoints } from "../bootstrap/CrashPoints.ts"
import { ServerConfig } from "../config/ServerConfig.ts"
import { Engine } from "../engine/Engine.ts"
import { ofTypes } from "../engine/followers.ts"
import { followLog } from "../engine/followLog.ts"
import { ThreadMerge } from "./ThreadMerge.ts"

const DEFAULT_WINDOW_MS = 5_000
const HINT_TIMEOUT = "20 seconds"

/** The notices that wake: a child's end, from a child that asked to wake its parent. */
const WAKING: ReadonlySet<ChildNotice["kind"]> = new Set([
  "turn-completed",
  "turn-failed",
  "turn-interrupted",
  "bootstrap-failed"
])

const wakingNotices = (model: ReadModel, parent: Thread) =>
  parent.childNotices.filter(
    (notice) =>
      WAKING.has(notice.kind) &&
      Option.match(HashMap.get(model.threads, notice.childThreadId as ThreadId), {
        onNone: () => false,
        onSome: (child) => child.onDone === "wake"
      })
  )

/** A parent that can take a turn now: active, bootstrapped (or never), no turn running or about to. */
const idle = (thread: Thread) =>
  thread.status === "active" &&
  thread.deletedAt === null &&
  (thread.bootstrap.status === "completed" || thread.bootstrap.status === "none") &&
  !hasLiveTurn(thread)

export class ParentWakes extends Context.Service<
  ParentWakes,
  {
    /** Follows the log and looks again at parents with waking notices pending; once the agents run. */
    readonly start: Effect.Effect<void>
  }
>()("spindle/children/ParentWakes") {
  static readonly layer = Layer.effect(
    ParentWakes,
    Effect.gen(function* () {
      const engine = yield* Engine
      const merges = yield* ThreadMerge
      const config = yield* ServerConfig
      const crash = yield* CrashPoints
      const fibers = yield* FiberSet.make()
      const windowMs = config.childWakeWindowMs ?? DEFAULT_WINDOW_MS
      const scheduled = new Set<ThreadId>()

      /** For a finished child: where its work stands against the parent's branch, in one line. */
      const mergeHint = (childId: ThreadId) =>
        merges.merge({ threadId: childId, dryRun: true }, { kind: "server" }).pipe(
          Effect.map((preview) => {
            if (preview.upToDate) return `${childId}: its work is already in ${preview.target}.`
            if (preview.conflicts.length > 0) {
              return `${childId}: merging it into ${preview.target} would conflict in ${preview.conflicts.map((c) => c.path).join(", ")}; merge the others first, or ask it to merge ${preview.target} into its branch.`
            }
            const added = preview.files.reduce((n, f) => n + (f.added ?? 0), 0)
            const removed = preview.files.reduce((n, f) => n + (f.removed ?? 0), 0)
            return `${childId}: merges cleanly into ${preview.target} (${preview.files.length} file(s), +${added} -${removed}); t3_thread_merge with threadId "${childId}" brings it in.`
          }),
          Effect.timeout(HINT_TIMEOUT),
          Effect.catch((error) =>
            Effect.succeed(
              `${childId}: not ready to merge: ${"message" in error ? error.message : "the check took too long"}`
            )
          )
        )

      const wake = Effect.fn("ParentWakes.wake")(function* (parentId: ThreadId) {
        const parent = yield* engine.getThread(parentId)
        if (parent === undefined || !idle(parent)) return
        const notices = wakingNotices(yield* engine.readModel, parent)
        if (notices.length === 0) return
        const finished = [
          ...new Set(notices.filter((n) => n.kind === "turn-completed").map((n) => n.childThreadId))
        ]
        const hints = yield* Effect.forEach(finished, (id) => mergeHint(id as ThreadId), { concurrency: 2 })
        const children = new Set(notices.map((n) => n.childThreadId)).size
        const prompt = [
          `[Spindle] ${children === 1 ? "A child thread" : `${children} child threads`} of yours reported back while you were idle; their notices are above.`,
          ...(hints.length === 0 ? [] : ["Merging them:", ...hints.map((hint) => `- ${hint}`)]),
          "Decide what comes next: review their work (t3_thread_status), merge what is ready (t3_thread_merge), give them more work (t3_thread_send), or stop them (t3_thread_stop)."
        ].join("\n")
        const key = hashId("wake-", parentId, ...notices.map((n) => n.noticeId))
        yield* engine
          .dispatch(
            {
              type: "thread.wake",
              commandId: key as CommandId,
              threadId: parentId,
              turnId: TurnId.make(key),
              prompt,
              noticeIds: notices.map((n) => n.noticeId)
            },
            { kind: "server" }
          )
          .pipe(Effect.ignore({ log: "Warn", message: "Could not wake a parent for its children" }))
      })

      /** Wakes the parent once the window has passed, unless a wake for it is already waiting. */
      const schedule = (parentId: ThreadId) =>
        Effect.gen(function* () {
          if (scheduled.has(parentId)) return
          scheduled.add(parentId)
          yield* crash.reach("wake-scheduled")
          yield* FiberSet.run(
            fibers,
            Effect.sleep(windowMs).pipe(
              Effect.andThen(Effect.sync(() => scheduled.delete(parentId))),
              Effect.andThen(wake(parentId))
            )
          )
        })

      /** The parents an event may have made wakeable: one notified, or one whose own turn just ended. */
      const consider = (event: SpindleEvent) =>
        Effect.gen(function* () {
          if (event.type === "thread.child-notified") return yield* schedule(event.payload.threadId)
          if (event.type !== "thread.turn-ended") return
          const thread = yield* engine.getThread(event.payload.threadId)
          if (thread === undefined) return
          if (wakingNotices(yield* engine.readModel, thread).length > 0) yield* schedule(thread.id)
        })

      const start = Effect.gen(function* () {
        const model = yield* engine.readModel
        for (const thread of HashMap.values(model.threads)) {
          if (engine.owns(thread) && idle(thread) && wakingNotices(model, thread).length > 0)
            yield* schedule(thread.id)
        }
        yield* FiberSet.run(
          fibers,
          followLog(
            engine,
            model.sequence,
            consider,
            "Parent wakes",
            ofTypes("thread.child-notified", "thread.turn-ended")
          )
        )
      })

      return { start }
    })
  )
}
