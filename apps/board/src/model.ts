// What the board shows, derived from the server's read model: which column a thread is in, how
// its setup and turn read, its children. Pure functions; the read model itself is the server's own
// projector folding the same events (one definition of what an event does to a thread).
import type {
  AgentNotice,
  Project,
  SetupStatus,
  Snapshot,
  SpindleEvent,
  Thread,
  ThreadId,
  ThreadOverlap,
  TurnState
} from "@spindle/contracts"
import type { ReadModel } from "@spindle/read-model"
import { project, queueOf, turnStateOf } from "@spindle/read-model"
import * as HashMap from "effect/HashMap"

export type { ReadModel }

/** The board's columns answer "what needs me?" (Archived shows only when asked for). */
export const COLUMNS = [
  { id: "needs-you", label: "Needs you" },
  { id: "working", label: "Working" },
  { id: "review", label: "Ready to review" },
  { id: "done", label: "Done" },
  { id: "archived", label: "Archived" }
] as const
export type Column = (typeof COLUMNS)[number]["id"]

export const columnLabel = (column: Column): string => COLUMNS.find((c) => c.id === column)?.label ?? column

// An unapproved setup script did not run: the thread needs the user as much as a failed one.
const FAILED_SETUP = new Set(["failed", "timed-out", "cancelled", "interrupted", "unapproved"])

/** Why the thread needs the user, in a few words; undefined when it does not. */
export const needsYou = (thread: Thread): string | undefined => {
  if (thread.status !== "active") return undefined
  if (thread.pendingApprovals.length > 0)
    return `${thread.pendingApprovals.length} approval${thread.pendingApprovals.length === 1 ? "" : "s"} waiting`
  if (thread.bootstrap.status === "failed") return "could not start"
  if (FAILED_SETUP.has(thread.setup.status)) return `setup ${setupLabel(thread)}`
  if (thread.latestTurn?.status === "failed") return "turn failed"
  if (thread.session.status === "error") return "agent failed"
  if (thread.mergeConflict !== null)
    return `merge into ${thread.mergeConflict.target} conflicts: ${thread.mergeConflict.files.join(", ")}`
  if (turnStateOf(thread) === "stalled") return "turn stalled"
  return undefined
}

/** The one column a thread is in; the first rule that matches wins. */
export const columnOf = (thread: Thread): Column => {
  if (thread.status === "archived") return "archived"
  if (thread.status === "queued") return "working"
  if (needsYou(thread) !== undefined) return "needs-you"
  if (
    thread.bootstrap.status === "running" ||
    thread.setup.status === "pending" ||
    thread.setup.status === "running" ||
    thread.latestTurn?.status === "requested" ||
    thread.latestTurn?.status === "running"
  ) {
    return "working"
  }
  // Its turn ended: what it changed and has not merged yet waits for review.
  if (thread.latestTurn !== null && (thread.changes?.files ?? 0) > 0) return "review"
  return "done"
}

const SETUP_WORDS: Readonly<Record<SetupStatus, string>> = {
  "not-requested": "none",
  "no-script": "no script",
  pending: "waiting",
  running: "running",
  succeeded: "succeeded",
  failed: "failed",
  "timed-out": "timed out",
  cancelled: "cancelled",
  interrupted: "interrupted",
  unapproved: "not approved"
}

/** A turn's state in words (never the raw value). */
const TURN_WORDS: Readonly<Record<TurnState, string>> = {
  queued: "queued",
  "waiting-for-setup": "waiting for setup",
  "not-started": "not started",
  requested: "requested",
  running: "running",
  stalled: "stalled",
  completed: "completed",
  interrupted: "interrupted",
  failed: "failed"
}

const MODE_WORDS: Readonly<Record<string, string>> = {
  "approval-required": "asks first",
  "auto-accept-edits": "accepts edits",
  sandboxed: "sandboxed",
  "full-access": "full access"
}

/** "codex · sandboxed": the agent and how free it is. */
export const agentLabel = (thread: Thread): string =>
  `${thread.provider}${thread.model === null ? "" : ` ${thread.model}`} · ${MODE_WORDS[thread.runtimeMode] ?? thread.runtimeMode}`

/** The turn in a few words. */
export const turnLabel = (thread: Thread): string => {
  if (thread.status === "queued" && thread.queue !== null)
    return `queued #${thread.queue.position} (waits for a free ${thread.queue.waitsFor.kind.replaceAll("-", " ")})`
  const turn = thread.latestTurn
  if (turn === null)
    return thread.setup.status === "pending" || thread.setup.status === "running"
      ? "waiting for setup"
      : "not started"
  return TURN_WORDS[turnStateOf(thread)]
}

/** The agent's latest error or warning about the latest turn or its session, for the card. */
export const troubleOf = (thread: Thread): AgentNotice | undefined =>
  thread.agentNotices
    .filter((n) => n.level !== "info" && (n.turnId === null || n.turnId === thread.latestTurn?.turnId))
    .at(-1)

export const setupLabel = (thread: Thread): string => {
  const setup = thread.setup
  const words = SETUP_WORDS[setup.status]
  if (setup.exitCode !== null && setup.status !== "succeeded") return `${words} (exit ${setup.exitCode})`
  return words
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

/** One card in a column: a thread, how deep under a parent it is, and its children grouped under it. */
export interface Row {
  readonly thread: Thread
  readonly depth: number
  /** Its children in the same column (shown under it when expanded). */
  readonly children: number
  /** The parent's title, for a child whose parent is in another column (or gone). */
  readonly childOf: string | undefined
}

/**
 * A column's cards in order: each thread whose parent is not in the column, then, when it is
 * expanded, its children of the same column under it (and theirs). A child in another column than
 * its parent stands on its own there and says whose child it is.
 */
export const columnRows = (
  threads: ReadonlyArray<Thread>,
  titles: ReadonlyMap<ThreadId, string>,
  expanded: ReadonlySet<ThreadId>
): Array<Row> => {
  const here = new Set(threads.map((t) => t.id))
  const under = new Map<ThreadId, Array<Thread>>()
  for (const thread of threads) {
    const parent = thread.parentThreadId
    if (parent === null || !here.has(parent)) continue
    const list = under.get(parent)
    if (list === undefined) under.set(parent, [thread])
    else list.push(thread)
  }
  const rows: Array<Row> = []
  const add = (thread: Thread, depth: number) => {
    const children = under.get(thread.id) ?? []
    const parent = thread.parentThreadId
    rows.push({
      thread,
      depth,
      children: children.length,
      childOf: depth === 0 && parent !== null ? (titles.get(parent) ?? parent) : undefined
    })
    if (expanded.has(thread.id)) for (const child of children) add(child, depth + 1)
  }
  for (const thread of threads) {
    if (thread.parentThreadId === null || !here.has(thread.parentThreadId)) add(thread, 0)
  }
  return rows
}

/**
 * The agent's last message on one line, as text: its first line that says something, with the
 * Markdown marks it would render (emphasis, code ticks, a link's target, a heading's or a list's
 * mark) taken off.
 */
export const lastMessageLine = (thread: Thread): string | undefined => {
  const line = thread.latestTurn?.lastMessage
    ?.split("\n")
    .map((l) => l.trim())
    .find((l) => l !== "" && !/^(```|~~~)/u.test(l))
  if (line === undefined) return undefined
  const plain = line
    .replace(/^(#{1,6}\s+|>\s*|[-*+]\s+|\d+[.)]\s+)/u, "")
    .replace(/!?\[([^\]]*)\]\([^)]*\)/gu, "$1")
    .replace(/(\*\*|__|~~)(.+?)\1/gu, "$2")
    .replace(/(^|[^\w*])[*_]([^*_\s][^*_]*?)[*_](?![\w*])/gu, "$1$2")
    .replace(/`([^`]*)`/gu, "$1")
    .trim()
  return plain === "" ? undefined : plain
}

/**
 * Who caused an event, in words: "you" (a person's client), "agent of <its thread's title>" (a
 * session the board knows, `sessions` by session id), "an agent", or "Spindle".
 */
export const actorLabel = (event: SpindleEvent, sessions: ReadonlyMap<string, string>): string => {
  switch (event.actor.kind) {
    case "client":
      return "you"
    case "provider-session": {
      const title = sessions.get(event.actor.sessionId)
      return title === undefined ? "an agent" : `agent of ${title}`
    }
    case "server":
      return "Spindle"
  }
}

/** Session id to its thread's title, for every thread that has had a session. */
export const sessionTitles = (threads: ReadonlyArray<Thread>): Map<string, string> => {
  const titles = new Map<string, string>()
  for (const thread of threads) {
    if (thread.session.providerSessionId !== null) titles.set(thread.session.providerSessionId, thread.title)
  }
  return titles
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

/**
 * The hosts a new thread of `project` may be sent to, for the start form: none when the project
 * has one checkout (nothing to choose), else "" (the server picks the host with the most room)
 * and each checkout's host with its path.
 */
export const hostChoices = (
  project: Pick<Project, "checkouts"> | undefined
): ReadonlyArray<{ readonly value: string; readonly label: string }> =>
  project === undefined || project.checkouts.length < 2
    ? []
    : [
        { value: "", label: "the host with the most room" },
        ...project.checkouts.map((c) => ({ value: c.host, label: `${c.host} (${c.workspaceRoot})` }))
      ]
