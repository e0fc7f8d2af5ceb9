// The conflict radar: keeps every live thread's change footprint current and records, as
// `project.overlap-changed` events, each change in the set of overlaps between live threads of a
// project. A footprint is recomputed (footprint.ts) when the thread's agent reports a file change
// or a command, when its worktree changes on disk (worktreeWatch.ts, debounced), when a merge
// lands on its base, and at a turn's end when its worktree is not watched; never on a timer, so an idle server spends nothing. Footprints live in memory
// and are recomputed at startup; the overlap set is the log's (on the project's read model), and
// only its changes are events. A parent's suggested merge order is computed when asked, with trial
// merges (merge-tree, no checkout) of the overlapping children's branches. It does not decide who
// may read what: its callers do.
import {
  CommandId,
  type MergeOrderEntry,
  type Project,
  type ProjectId,
  type ProjectOverlaps,
  type SpindleError,
  type SpindleEvent,
  sameChanges,
  type Thread,
  type ThreadChildrenRadar,
  type ThreadId,
  type ThreadOverlap
} from "@spindle/contracts"
import type { ReadModel } from "@spindle/read-model"
import { randomHex } from "@spindle/shared/random"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { Engine } from "../engine/Engine.ts"
import { projectNotFound } from "../engine/notFound.ts"
import { previewMerge } from "../git/branchMerge.ts"
import { GitCli } from "../git/GitCli.ts"
import { ThreadWatch } from "../reads/ThreadWatch.ts"
import { footprintOf } from "./footprint.ts"
import { computeOverlaps, type Footprint, overlapsOf, suggestMergeOrder } from "./overlaps.ts"
import { ignoredFolders, MAX_WATCHED_FOLDERS, type WorktreeWatch, watchWorktree } from "./worktreeWatch.ts"

/** Worktrees watched on disk at most; past it a thread's footprint follows its turn items only. */
export const MAX_WATCHED_THREADS = 64
/** How long a burst of changes is let settle before footprints are recomputed. */
export const DEBOUNCE_MS = 75
/** Footprints recomputed at once. */
const CONCURRENCY = 4

/** A thread the radar follows: live, in a worktree of its own, with a base to compare with. */
export const isRadarLive = (thread: Thread) =>
  thread.status === "active" &&
  thread.deletedAt === null &&
  thread.workspace.mode !== "current_checkout" &&
  thread.workspace.worktreePath !== null &&
  thread.workspace.baseBranch !== null

const threadsOf = (model: ReadModel) => Array.from(HashMap.values(model.threads))

export class ConflictRadar extends Context.Service<
  ConflictRadar,
  {
    /** Live overlaps by project (one project, or every project that has one); `not-found` for an unknown project. */
    readonly overlaps: (projectId?: ProjectId) => Effect.Effect<ReadonlyArray<ProjectOverlaps>, SpindleError>
    /** The live overlaps a thread is part of. */
    readonly overlapsOf: (thread: Thread) => Effect.Effect<ReadonlyArray<ThreadOverlap>>
    /** The order to merge a thread's live children in (empty without children). */
    readonly mergeOrder: (parent: Thread) => Effect.Effect<ReadonlyArray<MergeOrderEntry>>
    /** A parent's live children with their diff stat, their overlaps and the suggested merge order. */
    readonly children: (parent: Thread) => Effect.Effect<ThreadChildrenRadar>
    /** The thread's current footprint, if the radar holds one. */
    readonly footprint: (threadId: ThreadId) => Effect.Effect<Footprint | undefined>
    /** Threads whose worktree is watched on disk now. */
    readonly watching: Effect.Effect<ReadonlyArray<ThreadId>>
    /**
     * The thread's worktree on disk as its watch last heard of it (its files and its index and
     * HEAD): two equal marks mean nothing changed there in between. None while it is not watched.
     */
    readonly diskMark: (threadId: ThreadId) => Effect.Effect<string | undefined>
    /** Completes once every event up to `sequence` was handled and the recomputes it asked for are done. */
    readonly caughtUp: (sequence: number) => Effect.Effect<void>
  }
>()("spindle/radar/ConflictRadar") {
  static readonly layer = Layer.effect(
    ConflictRadar,
    Effect.gen(function* () {
      const engine = yield* Engine
      const git = yield* GitCli
      const threadWatch = yield* ThreadWatch

      const footprints = new Map<ThreadId, Footprint>()
      const watches = new Map<ThreadId, WorktreeWatch>()
      /** Each watch's number, so a mark of one watch never equals a mark of the next. */
      const watchNumbers = new WeakMap<WorktreeWatch, number>()
      let watchesMade = 0
      /** Threads that gave up their disk watch (too many folders): not armed again until restored. */
      const unwatched = new Set<ThreadId>()
      const live = new Map<ProjectId, Array<ThreadOverlap>>()
      const baseRefs = new Map<string, string>()
      const dirty = new Set<ThreadId>()
      const dirtyProjects = new Set<ProjectId>()
      const signal = yield* Queue.unbounded<void>()
      let handled = 0
      let busy = false
      const waiters = new Set<{ readonly sequence: number; readonly resolve: () => void }>()

      const settled = (sequence: number) =>
        handled >= sequence && !busy && dirty.size === 0 && dirtyProjects.size === 0
      const checkWaiters = () => {
        for (const waiter of waiters) {
          if (settled(waiter.sequence)) {
            waiters.delete(waiter)
            waiter.resolve()
          }
        }
      }
      const touch = (threadId: ThreadId) => {
        dirty.add(threadId)
        Queue.offerUnsafe(signal, undefined)
      }

      const disarm = (threadId: ThreadId) => {
        watches.get(threadId)?.close()
        watches.delete(threadId)
      }

      /** Watches the thread's worktree on disk, within the limits; a failure only means no watch. */
      const arm = (thread: Thread, repo: string) =>
        Effect.gen(function* () {
          const path = thread.workspace.worktreePath
          if (path === null || watches.has(thread.id) || unwatched.has(thread.id)) return
          if (watches.size >= MAX_WATCHED_THREADS) {
            return yield* Effect.logDebug(
              `Not watching ${path} on disk: ${MAX_WATCHED_THREADS} worktrees are watched already`
            )
          }
          // Folders git ignores as a whole (node_modules, build output) change no footprint.
          const ignored = yield* ignoredFolders(git, path, repo)
          const id = thread.id
          const watch = yield* Effect.promise(() =>
            watchWorktree(path, {
              repo,
              ignored,
              maxFolders: MAX_WATCHED_FOLDERS,
              onChange: () => touch(id),
              onOverflow: () => {
                unwatched.add(id)
                watches.delete(id)
              }
            })
          )
          // Archived or moved on while the watch was being set up: let it go.
          const now = yield* engine.getThread(id)
          if (now === undefined || !isRadarLive(now) || unwatched.has(id) || watches.has(id)) {
            watch.close()
            return
          }
          watchNumbers.set(watch, ++watchesMade)
          watches.set(id, watch)
        })

      /** The thread's footprint now (none when it is not live or git cannot read its worktree). */
      const recompute = (threadId: ThreadId) =>
        Effect.gen(function* () {
          const thread = yield* engine.getThread(threadId)
          const project = thread === undefined ? undefined : yield* engine.getProject(thread.projectId)
          const before = footprints.get(threadId)
          if (thread === undefined || project === undefined || !isRadarLive(thread)) {
            disarm(threadId)
            footprints.delete(threadId)
            if (before !== undefined) dirtyProjects.add(before.projectId as ProjectId)
            return
          }
          yield* arm(thread, project.workspaceRoot)
          const found = yield* footprintOf(
            git,
            project.workspaceRoot,
            thread.workspace.worktreePath as string,
            thread.workspace.baseBranch as string,
            baseRefs
          ).pipe(
            Effect.catch((error) =>
              Effect.as(Effect.logDebug(`No footprint for thread ${threadId}: ${error.message}`), undefined)
            )
          )
          if (found === undefined) footprints.delete(threadId)
          else {
            footprints.set(threadId, { threadId, projectId: thread.projectId, files: found.files })
            // Its count for cards and lists, recorded when it changed.
            const changes = { files: found.files.size, insertions: found.added, deletions: found.removed }
            if (!sameChanges(thread.changes, changes)) {
              yield* engine
                .dispatch(
                  {
                    type: "thread.changes.record",
                    commandId: CommandId.make(`changes-${yield* randomHex(10)}`),
                    threadId,
                    changes
                  },
                  { kind: "server" }
                )
                .pipe(Effect.ignore({ log: "Debug", message: "Could not record a thread's changes" }))
            }
          }
          dirtyProjects.add(thread.projectId)
        })

      /** Whether this host owns the thread (a gone one counts as its own: its pair is stale). */
      const ownedHere = (model: ReadModel, id: ThreadId) =>
        Option.match(HashMap.get(model.threads, id), { onNone: () => true, onSome: engine.owns })

      /** Records each pair whose overlapping files changed (the decider drops what did not). */
      const reconcile = (projectId: ProjectId) =>
        Effect.gen(function* () {
          const project = yield* engine.getProject(projectId)
          if (project === undefined) {
            live.delete(projectId)
            return
          }
          const model = yield* engine.readModel
          // This host's threads only: another host's pairs are its radar's to record.
          const liveIds = new Set(
            threadsOf(model)
              .filter((t) => t.projectId === projectId && isRadarLive(t) && engine.owns(t))
              .map((t) => t.id)
          )
          const now = computeOverlaps([...footprints.values()].filter((f) => liveIds.has(f.threadId)))
          live.set(projectId, now)
          const key = (o: ThreadOverlap) => o.threadIds.join("\0")
          const paths = (o: ThreadOverlap | undefined) => o?.files.map((f) => f.path).join("\0") ?? ""
          const stored = new Map(
            (project.overlaps ?? [])
              .filter((o) => o.threadIds.every((id) => ownedHere(model, id)))
              .map((o) => [key(o), o] as const)
          )
          const current = new Map(now.map((o) => [key(o), o] as const))
          for (const pair of new Set([...stored.keys(), ...current.keys()])) {
            const next = current.get(pair)
            if (paths(stored.get(pair)) === paths(next)) continue
            const [first, second] = pair.split("\0") as [ThreadId, ThreadId]
            yield* engine
              .dispatch(
                {
                  type: "project.overlap.record",
                  commandId: CommandId.make(`radar-${yield* randomHex(10)}`),
                  projectId,
                  threadIds: [first, second],
                  files: next?.files ?? [],
                  filesTruncated: next?.filesTruncated ?? 0
                },
                { kind: "server" }
              )
              .pipe(Effect.ignore({ log: "Warn", message: "Could not record a change of overlaps" }))
          }
        })

      const worker = Effect.gen(function* () {
        while (true) {
          yield* Queue.take(signal)
          busy = true
          // Let a burst of writes settle: one recompute for all of it.
          yield* Effect.sleep(DEBOUNCE_MS)
          yield* Queue.clear(signal)
          const batch = [...dirty]
          dirty.clear()
          yield* Effect.forEach(batch, recompute, { concurrency: CONCURRENCY, discard: true })
          const projects = [...dirtyProjects]
          dirtyProjects.clear()
          yield* Effect.forEach(projects, reconcile, { discard: true })
          busy = false
          checkWaiters()
        }
      }).pipe(
        Effect.ensuring(Effect.sync(() => (busy = false))),
        Effect.tapCause((cause) =>
          Cause.hasInterruptsOnly(cause) ? Effect.void : Effect.logWarning("The conflict radar failed", cause)
        ),
        Effect.retry(Schedule.spaced("1 second"))
      )

      /** What an event means for the radar. */
      const handle = (event: SpindleEvent) =>
        Effect.gen(function* () {
          switch (event.type) {
            case "thread.turn-item": {
              const { item, phase, threadId } = event.payload
              if (phase === "completed" && (item.kind === "file-change" || item.kind === "command"))
                touch(threadId)
              return
            }
            case "thread.turn-ended":
              // A watched worktree already said whatever the turn changed on disk (and its
              // footprint was recomputed then); only one past the watch limits needs this look.
              if (!watches.has(event.payload.threadId)) touch(event.payload.threadId)
              return
            case "thread.workspace-prepared":
            case "thread.bootstrap-completed":
            case "thread.unarchived":
              return touch(event.payload.threadId)
            case "thread.worktree-restored":
              unwatched.delete(event.payload.threadId)
              return touch(event.payload.threadId)
            case "thread.archived":
            case "thread.deleted":
            case "thread.worktree-cleaned":
              // Stop watching at once; the recompute drops its footprint and overlaps.
              disarm(event.payload.threadId)
              return touch(event.payload.threadId)
            case "thread.merged": {
              // Its fork point moved; so did that of every thread based on the branch it went into.
              touch(event.payload.threadId)
              const model = yield* engine.readModel
              const merged = model.threads.pipe(HashMap.get(event.payload.threadId))
              const target = event.payload.merge.target
              for (const thread of threadsOf(model)) {
                if (
                  merged._tag === "Some" &&
                  thread.projectId === merged.value.projectId &&
                  isRadarLive(thread) &&
                  (thread.workspace.baseBranch === target || thread.workspace.branch === target)
                ) {
                  touch(thread.id)
                }
              }
              return
            }
            case "project.deleted": {
              const projectId = event.payload.projectId
              for (const [id, footprint] of footprints) {
                if (footprint.projectId === projectId) {
                  disarm(id)
                  footprints.delete(id)
                }
              }
              live.delete(projectId)
              return
            }
            default:
              return
          }
        })

      const start = Effect.gen(function* () {
        const ready = yield* Effect.exit(engine.ready)
        if (ready._tag === "Failure") return
        const model = yield* engine.readModel
        handled = model.sequence
        // Footprints are memory only: every live thread is read again, and any overlap the log
        // still holds is checked against them.
        // Only this host's threads: another host's worktrees are on another machine.
        for (const thread of threadsOf(model))
          if (engine.owns(thread) && isRadarLive(thread)) dirty.add(thread.id)
        for (const project of HashMap.values(model.projects)) {
          if ((project.overlaps ?? []).length > 0) dirtyProjects.add(project.id)
        }
        Queue.offerUnsafe(signal, undefined)
        yield* Effect.forkScoped(worker)
        yield* Effect.suspend(() =>
          Stream.runForEach(engine.ownEvents(handled, { background: true }), (event) =>
            Effect.andThen(
              handle(event),
              Effect.sync(() => {
                handled = event.sequence
                checkWaiters()
              })
            )
          )
        ).pipe(
          Effect.tapCause((cause) =>
            Cause.hasInterruptsOnly(cause)
              ? Effect.void
              : Effect.logWarning("The conflict radar stopped following events; restarting", cause)
          ),
          Effect.retry(Schedule.spaced("1 second"))
        )
      })
      yield* Effect.forkScoped(start)
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          for (const id of [...watches.keys()]) disarm(id)
        })
      )

      const withSince = (project: Project | undefined, overlaps: ReadonlyArray<ThreadOverlap>) => {
        const recorded = new Map((project?.overlaps ?? []).map((o) => [o.threadIds.join("\0"), o.since]))
        return overlaps.map((o) => {
          const since = recorded.get(o.threadIds.join("\0"))
          return since === undefined ? o : { ...o, since }
        })
      }

      const overlaps = Effect.fn("ConflictRadar.overlaps")(function* (projectId?: ProjectId) {
        const model = yield* engine.readModel
        if (projectId !== undefined) {
          const project = model.projects.pipe(HashMap.get(projectId))
          if (project._tag === "None") return yield* projectNotFound(projectId)
          return [{ projectId, overlaps: withSince(project.value, live.get(projectId) ?? []) }]
        }
        return Array.from(HashMap.values(model.projects))
          .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
          .map((project) => ({
            projectId: project.id,
            overlaps: withSince(project, live.get(project.id) ?? [])
          }))
          .filter((entry) => entry.overlaps.length > 0)
      })

      const overlapsOfThread = Effect.fn("ConflictRadar.overlapsOf")(function* (thread: Thread) {
        const project = yield* engine.getProject(thread.projectId)
        return withSince(project, overlapsOf(live.get(thread.projectId) ?? [], thread.id))
      })

      const liveChildren = (model: ReadModel, parent: Thread) =>
        threadsOf(model)
          .filter((t) => t.parentThreadId === parent.id && isRadarLive(t))
          .sort((a, b) => a.createdAt.localeCompare(b.createdAt))

      /** Pairs of children whose branches a trial merge finds in conflict (their committed work). */
      const conflictsAmong = (
        repo: string,
        kids: ReadonlyArray<Thread>,
        among: ReadonlyArray<ThreadOverlap>
      ) =>
        Effect.map(
          Effect.forEach(
            among,
            (overlap) => {
              const [a, b] = overlap.threadIds.map((id) => kids.find((t) => t.id === id))
              if (a?.workspace.branch == null || b?.workspace.branch == null) return Effect.succeed([])
              return previewMerge(
                git,
                repo,
                `refs/heads/${a.workspace.branch}`,
                `refs/heads/${b.workspace.branch}`,
                {
                  files: false
                }
              ).pipe(
                Effect.map((preview) => (preview.tree === null ? [[a.id, b.id] as const] : [])),
                Effect.orElseSucceed(() => [])
              )
            },
            { concurrency: 2 }
          ),
          (pairs) => pairs.flat()
        )

      const orderFor = (parent: Thread, model: ReadModel) =>
        Effect.gen(function* () {
          const kids = liveChildren(model, parent)
          if (kids.length === 0) return { kids, order: [] as Array<MergeOrderEntry> }
          const project = model.projects.pipe(HashMap.get(parent.projectId))
          if (project._tag === "None") return { kids, order: [] as Array<MergeOrderEntry> }
          const ids = new Set(kids.map((t) => t.id))
          const among = (live.get(parent.projectId) ?? []).filter((o) =>
            o.threadIds.every((id) => ids.has(id))
          )
          const conflicts = yield* conflictsAmong(project.value.workspaceRoot, kids, among)
          return {
            kids,
            order: suggestMergeOrder(
              kids.map((t) => t.id),
              among,
              conflicts
            )
          }
        })

      const mergeOrder = Effect.fn("ConflictRadar.mergeOrder")(function* (parent: Thread) {
        return (yield* orderFor(parent, yield* engine.readModel)).order
      })

      const children = Effect.fn("ConflictRadar.children")(function* (parent: Thread) {
        const model = yield* engine.readModel
        const { kids, order } = yield* orderFor(parent, model)
        const diffs = yield* Effect.forEach(kids, (thread) => threadWatch.output(thread), { concurrency: 4 })
        const ids = new Set(kids.map((t) => t.id))
        const project = model.projects.pipe(HashMap.get(parent.projectId))
        const touching = (live.get(parent.projectId) ?? []).filter((o) =>
          o.threadIds.some((id) => ids.has(id))
        )
        return {
          threadId: parent.id,
          children: kids.map((thread, i) => ({ thread, diff: diffs[i]?.diff ?? null })),
          overlaps: withSince(project._tag === "Some" ? project.value : undefined, touching),
          mergeOrder: order
        } satisfies ThreadChildrenRadar
      })

      const caughtUp = (sequence: number) =>
        Effect.promise(
          () =>
            new Promise<void>((resolve) => {
              const waiter = { sequence, resolve }
              waiters.add(waiter)
              checkWaiters()
            })
        )

      return {
        overlaps,
        overlapsOf: overlapsOfThread,
        mergeOrder,
        children,
        footprint: (threadId: ThreadId) => Effect.sync(() => footprints.get(threadId)),
        watching: Effect.sync(() => [...watches.keys()]),
        diskMark: (threadId: ThreadId) =>
          Effect.sync(() => {
            const watch = watches.get(threadId)
            return watch === undefined ? undefined : `${watchNumbers.get(watch)}:${watch.changes()}`
          }),
        caughtUp
      }
    })
  )
}
