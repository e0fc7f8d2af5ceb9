// What the board shows, derived from the server's read model: which column a thread is in, how
// its setup and turn read, its children. Pure functions; the read model itself is the server's own
// projector folding the same events (one definition of what an event does to a thread).
import type { AgentNotice, Snapshot, SpindleEvent, Thread, ThreadId, ThreadOverlap } from "@spindle/contracts"
import type { ReadModel } from "@spindle/read-model"
import { project, queueOf, turnStateOf } from "@spindle/read-model"
import * as HashMap from "effect/HashMap"

export type { ReadModel }

export const COLUMNS = [
  { id: "queued", label: "Queued" },
  { id: "bootstrapping", label: "Bootstrapping" },
  { id: "setting-up", label: "Setting up" },
  { id: "working", label: "Working" },
  { id: "needs-approval", label: "Needs approval" },
  { id: "idle", label: "Idle" },
  { id: "failed", label: "Failed" },
  { id: "archived", label: "Archived" }
] as const
export type Column = (typeof COLUMNS)[number]["id"]

// An unapproved setup script did not run: the thread needs the user as much as a failed one.
const FAILED_SETUP = new Set(["failed", "timed-out", "cancelled", "interrupted", "unapproved"])

/** The one column a thread is in; the first rule that matches wins. */
export const columnOf = (thread: Thread): Column => {
  if (thread.status === "archived") return "archived"
  if (thread.status === "queued") return "queued"
  if (
    thread.bootstrap.status === "failed" ||
    FAILED_SETUP.has(thread.setup.status) ||
    thread.latestTurn?.status === "failed" ||
    thread.session.status === "error"
  ) {
    return "failed"
  }
  if (thread.pendingApprovals.length > 0) return "needs-approval"
  if (thread.setup.status === "pending" || thread.setup.status === "running") return "setting-up"
  if (thread.bootstrap.status === "running") return "bootstrapping"
  if (thread.latestTurn?.status === "requested" || thread.latestTurn?.status === "running") return "working"
  return "idle"
}

/** The turn in one word, as the CLI says it. */
export const turnLabel = (thread: Thread): string => {
  if (thread.status === "queued" && thread.queue !== null)
    return `queued #${thread.queue.position} (waits for ${thread.queue.waitsFor.kind})`
  const turn = thread.latestTurn
  if (turn === null)
    return thread.setup.status === "pending" || thread.setup.status === "running"
      ? "waiting for setup"
      : "no turn"
  return turnStateOf(thread)
}

/** The agent's latest error or warning about the latest turn or its session, for the card. */
export const troubleOf = (thread: Thread): AgentNotice | undefined =>
  thread.agentNotices
    .filter((n) => n.level !== "info" && (n.turnId === null || n.turnId === thread.latestTurn?.turnId))
    .at(-1)

export const setupLabel = (thread: Thread): string => {
  const setup = thread.setup
  if (setup.status === "not-requested") return "no setup"
  if (setup.exitCode !== null && setup.status !== "succeeded")
    return `${setup.status} (exit ${setup.exitCode})`
  return setup.status
}

/** Why a failed thread failed, in its own words. */
export const failureOf = (thread: Thread): string | undefined => {
  if (thread.bootstrap.error !== null)
    return `${thread.bootstrap.error.reason}: ${thread.bootstrap.error.message}`
  if (FAILED_SETUP.has(thread.setup.status)) {
    return `setup ${thread.setup.status}${thread.setup.exitCode === null ? "" : ` with exit code ${thread.setup.exitCode}`}`
  }
  if (thread.latestTurn?.status === "failed")
    return `turn failed${thread.latestTurn.reason ? `: ${thread.latestTurn.reason}` : ""}`
  if (thread.session.status === "error")
    return `session error${thread.session.error ? `: ${thread.session.error}` : ""}`
  return undefined
}

/** "12s", "5m", "3h", "2d": how long ago `iso` was. */
export const age = (iso: string, now: number): string => {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000))
  if (seconds < 60) return `${seconds}s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`
  return `${Math.floor(seconds / 86_400)}d`
}

export const fromSnapshot = (snapshot: Snapshot): ReadModel => {
  const threads = HashMap.fromIterable(snapshot.threads.map((t) => [t.id, t] as const))
  return {
    sequence: snapshot.sequence,
    projects: HashMap.fromIterable(snapshot.projects.map((p) => [p.id, p] as const)),
    threads,
    queue: queueOf(threads)
  }
}

export const applyEvent = (model: ReadModel, event: SpindleEvent): ReadModel => project(model, event)

export const visibleThreads = (model: ReadModel): Array<Thread> =>
  Array.from(HashMap.values(model.threads)).filter((t) => t.deletedAt === null)

/** The conflict radar's overlaps a thread is part of, as its project's read model records them. */
export const overlapsOfThread = (model: ReadModel, thread: Thread): ReadonlyArray<ThreadOverlap> => {
  const project = HashMap.get(model.projects, thread.projectId)
  return project._tag === "None"
    ? []
    : (project.value.overlaps ?? []).filter((o) => o.threadIds.includes(thread.id))
}

/** How many live threads each thread's changes overlap, by thread id. */
export const overlapCounts = (model: ReadModel): Map<ThreadId, number> => {
  const counts = new Map<ThreadId, number>()
  for (const project of HashMap.values(model.projects)) {
    for (const overlap of project.overlaps ?? []) {
      for (const id of overlap.threadIds) counts.set(id, (counts.get(id) ?? 0) + 1)
    }
  }
  return counts
}

/** Live children per parent id. */
export const childrenIndex = (threads: ReadonlyArray<Thread>): Map<ThreadId, Array<Thread>> => {
  const index = new Map<ThreadId, Array<Thread>>()
  for (const thread of threads) {
    if (thread.parentThreadId === null) continue
    const list = index.get(thread.parentThreadId)
    if (list === undefined) index.set(thread.parentThreadId, [thread])
    else list.push(thread)
  }
  return index
}

/** Threads grouped by column, newest change first, after the project and text filters. */
export const groupThreads = (
  threads: ReadonlyArray<Thread>,
  filter: { readonly projectId: string; readonly text: string }
): Record<Column, Array<Thread>> => {
  const groups = Object.fromEntries(COLUMNS.map((c) => [c.id, [] as Array<Thread>])) as Record<
    Column,
    Array<Thread>
  >
  const text = filter.text.trim().toLowerCase()
  for (const thread of threads) {
    if (filter.projectId !== "" && thread.projectId !== filter.projectId) continue
    if (
      text !== "" &&
      !`${thread.title}\n${thread.id}\n${thread.workspace.branch ?? ""}\n${thread.tags.join(" ")}`
        .toLowerCase()
        .includes(text)
    ) {
      continue
    }
    groups[columnOf(thread)].push(thread)
  }
  for (const list of Object.values(groups)) list.sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : -1))
  return groups
}

/** Who caused an event, in a few words. */
export const actorLabel = (event: SpindleEvent): string => {
  switch (event.actor.kind) {
    case "client":
      return `client ${event.actor.tokenId}`
    case "provider-session":
      return "agent"
    case "server":
      return "server"
  }
}

/** One line saying what an event did. */
export const describeEvent = (event: SpindleEvent): string => {
  switch (event.type) {
    case "thread.created":
      return `created "${event.payload.thread.title}"`
    case "thread.workspace-prepared":
      return `workspace ready: ${event.payload.workspace.branch ?? "(detached)"} at ${event.payload.workspace.worktreePath ?? "?"}`
    case "thread.setup-started":
      return `setup run ${event.payload.run} started`
    case "thread.setup-completed":
      return `setup ${event.payload.status}${event.payload.exitCode === null ? "" : ` (exit ${event.payload.exitCode})`}`
    case "thread.turn-start-requested":
      return `turn requested: ${event.payload.prompt.slice(0, 120)}`
    case "thread.turn-started":
      return "turn started"
    case "thread.turn-ended":
      return `turn ${event.payload.status}${event.payload.reason ? `: ${event.payload.reason}` : ""}`
    case "thread.turn-item": {
      const item = event.payload.item
      const what =
        item.kind === "command"
          ? `command ${item.command ?? ""}${item.exitCode === undefined || item.exitCode === null ? "" : ` (exit ${item.exitCode})`}`
          : item.kind === "file-change"
            ? `files: ${(item.changes ?? []).map((c) => `${c.kind} ${c.path}`).join(", ")}`
            : `${item.kind}${item.text ? `: ${item.text.slice(0, 120)}` : ""}`
      return `${event.payload.phase} ${what}`
    }
    case "thread.approval-requested":
      return `asks approval (${event.payload.approval.kind}): ${event.payload.approval.command ?? event.payload.approval.reason ?? ""}`
    case "thread.approval-resolved":
      return `approval ${event.payload.requestId}: ${event.payload.outcome}`
    case "thread.session-changed":
      return `session ${event.payload.status}${event.payload.error ? `: ${event.payload.error}` : event.payload.reason ? `: ${event.payload.reason}` : ""}`
    case "thread.bootstrap-failed":
      return `bootstrap failed at ${event.payload.stage}: ${event.payload.error.message}`
    case "thread.agent-noticed": {
      const { notice } = event.payload
      return `agent ${notice.level} (${notice.source}${notice.count > 1 ? `, ${notice.count} more times` : ""}${notice.willRetry ? ", retrying" : ""}): ${notice.message}`
    }
    case "thread.turn-stalled":
      return `turn stalled: no progress since ${new Date(event.payload.since).toLocaleTimeString()}`
    case "project.overlap-changed":
      return `overlap of ${event.payload.threadIds.join(" and ")} ${event.payload.change}${event.payload.files.length === 0 ? "" : `: ${event.payload.files.map((f) => f.path).join(", ")}`}`
    case "thread.merged": {
      const { merge } = event.payload
      return `merged into ${merge.target} (${merge.strategy}): ${merge.files} file(s) +${merge.added} -${merge.removed}, now ${merge.commit.slice(0, 12)}`
    }
    default:
      return event.type.replace(/^thread\./, "")
  }
}
