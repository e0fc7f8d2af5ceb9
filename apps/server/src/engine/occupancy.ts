// What holds the slots admission counts (active threads per project, a parent's active children,
// running bootstraps per project, turn slots per host), counted in one pass over the model.
// Admission asks it instead of scanning every thread per question, and walking the
// queue reserves each startable thread in it as it goes: so deciding a start is one pass over the
// threads and one over the queue, not one over the threads for each queued thread.
import type { ProjectId, Thread, ThreadId } from "@spindle/contracts"
import { hasLiveTurn, type ReadModel } from "@spindle/read-model"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"

/**
 * Whether the thread holds one of the host's running-turn slots: from the moment its bootstrap
 * begins (it will ask for a turn) until its turn ends, or its bootstrap ends without one. So at
 * most `runningTurns` turns a start began can run at once.
 */
export const holdsTurnSlot = (thread: Thread) =>
  thread.status === "active" && (thread.bootstrap.status === "running" || hasLiveTurn(thread))

/** `thread` as it is once it has left the queue and begun its bootstrap on `host`. */
export const asStarted = (thread: Thread, host: string | null): Thread => ({
  ...thread,
  host,
  status: "active",
  queue: null,
  bootstrap: { status: "running", stage: null, error: null }
})

/** Whether the thread is the live holder of its workspace (another may not bind it). */
const holdsWorktree = (thread: Thread) => thread.status === "active" && thread.bootstrap.status !== "failed"

const add = <K>(counts: Map<K, number>, key: K, by: number) => counts.set(key, (counts.get(key) ?? 0) + by)

export interface Occupancy {
  readonly activeIn: (projectId: ProjectId) => number
  readonly childrenOf: (parentId: ThreadId) => number
  readonly bootstrapsIn: (projectId: ProjectId, except?: ThreadId) => number
  /** Turn slots held on `host` (threads from before hosts were recorded count on every host). */
  readonly turnSlotsOn: (host: string | null, except?: ThreadId) => number
  /** The active thread, other than `threadId`, whose workspace is `path` (looked up when asked). */
  readonly worktreeHolder: (path: string, threadId: ThreadId) => ThreadId | undefined
  /** Counts `thread` as it is once it has left the queue and begun its bootstrap on `host`. */
  readonly reserve: (thread: Thread, host: string | null) => void
}

export const occupancyOf = (model: ReadModel): Occupancy => {
  const active = new Map<ProjectId, number>()
  const children = new Map<ThreadId, number>()
  const bootstraps = new Map<ProjectId, number>()
  /** Turn slots by their holder's host; null: from before hosts were recorded. */
  const turns = new Map<string | null, number>()
  let turnsTotal = 0
  const count = (thread: Thread, by: 1 | -1) => {
    if (thread.status === "active") {
      add(active, thread.projectId, by)
      if (thread.parentThreadId !== null) add(children, thread.parentThreadId, by)
    }
    if (thread.bootstrap.status === "running") add(bootstraps, thread.projectId, by)
    if (holdsTurnSlot(thread)) {
      add(turns, thread.host, by)
      turnsTotal += by
    }
  }
  for (const thread of HashMap.values(model.threads)) count(thread, 1)
  /** Threads reserved so far, as they are counted now. */
  const reserved = new Map<ThreadId, Thread>()
  const now = (threadId: ThreadId | undefined) =>
    threadId === undefined
      ? undefined
      : (reserved.get(threadId) ?? Option.getOrUndefined(HashMap.get(model.threads, threadId)))
  return {
    activeIn: (projectId) => active.get(projectId) ?? 0,
    childrenOf: (parentId) => children.get(parentId) ?? 0,
    bootstrapsIn: (projectId, except) => {
      const asking = now(except)
      const own = asking?.projectId === projectId && asking.bootstrap.status === "running" ? 1 : 0
      return (bootstraps.get(projectId) ?? 0) - own
    },
    turnSlotsOn: (host, except) => {
      const asking = now(except)
      const own =
        asking !== undefined &&
        holdsTurnSlot(asking) &&
        (host === null || asking.host === null || asking.host === host)
          ? 1
          : 0
      return (host === null ? turnsTotal : (turns.get(host) ?? 0) + (turns.get(null) ?? 0)) - own
    },
    worktreeHolder: (path, threadId) =>
      Option.getOrUndefined(
        HashMap.findFirst(model.threads, (stored) => {
          const thread = reserved.get(stored.id) ?? stored
          return thread.id !== threadId && holdsWorktree(thread) && thread.workspace.worktreePath === path
        })
      )?.[0],
    reserve: (thread, host) => {
      count(now(thread.id) ?? thread, -1)
      const started = asStarted(thread, host)
      reserved.set(thread.id, started)
      count(started, 1)
    }
  }
}
