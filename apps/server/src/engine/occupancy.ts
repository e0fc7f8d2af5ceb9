// What holds the slots admission counts (active threads per project, a parent's active children,
// running bootstraps per project, turn slots per host, bound worktrees), gathered in one pass over
// the model. Admission asks it instead of scanning every thread per question, and walking the
// queue reserves each startable thread in it as it goes: so deciding a start is one pass over the
// threads and one over the queue, not one over the threads for each queued thread.
import type { ProjectId, Thread, ThreadId } from "@spindle/contracts"
import { hasLiveTurn, type ReadModel } from "@spindle/read-model"
import * as HashMap from "effect/HashMap"

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

/** Thread ids by key; a count can leave one out (the thread asking is not its own rival). */
class Holders<K> {
  private readonly byKey = new Map<K, Set<ThreadId>>()
  add(key: K, threadId: ThreadId) {
    const set = this.byKey.get(key)
    if (set === undefined) this.byKey.set(key, new Set([threadId]))
    else set.add(threadId)
  }
  count(key: K, except?: ThreadId) {
    const set = this.byKey.get(key)
    if (set === undefined) return 0
    return except !== undefined && set.has(except) ? set.size - 1 : set.size
  }
  first(key: K, except: ThreadId) {
    for (const id of this.byKey.get(key) ?? []) if (id !== except) return id
    return undefined
  }
}

export interface Occupancy {
  readonly activeIn: (projectId: ProjectId) => number
  readonly childrenOf: (parentId: ThreadId) => number
  readonly bootstrapsIn: (projectId: ProjectId, except?: ThreadId) => number
  /** Turn slots held on `host` (threads from before hosts were recorded count on every host). */
  readonly turnSlotsOn: (host: string | null, except?: ThreadId) => number
  /** The active thread, other than `threadId`, whose workspace is `path`. */
  readonly worktreeHolder: (path: string, threadId: ThreadId) => ThreadId | undefined
  /** Counts `thread` as it is once it has left the queue and begun its bootstrap on `host`. */
  readonly reserve: (thread: Thread, host: string | null) => void
}

export const occupancyOf = (model: ReadModel): Occupancy => {
  const active = new Holders<ProjectId>()
  const children = new Holders<ThreadId>()
  const bootstraps = new Holders<ProjectId>()
  /** Turn-slot holders by their host; null: from before hosts were recorded. */
  const turns = new Holders<string | null>()
  const turnHolders = new Set<ThreadId>()
  const worktrees = new Holders<string>()
  const take = (thread: Thread) => {
    if (thread.status === "active") {
      active.add(thread.projectId, thread.id)
      if (thread.parentThreadId !== null) children.add(thread.parentThreadId, thread.id)
    }
    if (thread.bootstrap.status === "running") bootstraps.add(thread.projectId, thread.id)
    if (holdsTurnSlot(thread)) {
      turns.add(thread.host, thread.id)
      turnHolders.add(thread.id)
    }
    if (holdsWorktree(thread) && thread.workspace.worktreePath !== null)
      worktrees.add(thread.workspace.worktreePath, thread.id)
  }
  for (const thread of HashMap.values(model.threads)) take(thread)
  return {
    activeIn: (projectId) => active.count(projectId),
    childrenOf: (parentId) => children.count(parentId),
    bootstrapsIn: (projectId, except) => bootstraps.count(projectId, except),
    turnSlotsOn: (host, except) => {
      if (host === null) return turnHolders.size - (except !== undefined && turnHolders.has(except) ? 1 : 0)
      return turns.count(host, except) + turns.count(null, except)
    },
    worktreeHolder: (path, threadId) => worktrees.first(path, threadId),
    reserve: (thread, host) => take(asStarted(thread, host))
  }
}
