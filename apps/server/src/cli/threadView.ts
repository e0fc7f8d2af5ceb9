// A thread in words: the state one word says (list), the full form (show), one line (wait,
// children). JSON output is always the contracts' Thread itself.
import { type AgentNoticeReport, changesText, type Thread } from "@spindle/contracts"
import { turnStateOf } from "@spindle/read-model/turnState"
import { age, table } from "./output.ts"

/**
 * What `thread list` shows and `--state` filters on: archived; queued (started past a limit, waits
 * for a slot); bootstrap-failed (the bootstrap
 * failed before any setup ran: its worktree, say) or setup-failed; needs-approval (the agent or
 * the setup waits for a person's answer); or its turn's state.
 */
export const THREAD_STATES = [
  "archived",
  "queued",
  "host-offline",
  "bootstrap-failed",
  "setup-failed",
  "needs-approval",
  "not-started",
  "waiting-for-setup",
  "requested",
  "running",
  "stalled",
  "completed",
  "failed",
  "interrupted"
] as const
export type ThreadState = (typeof THREAD_STATES)[number]

/**
 * The thread's state in one word. `offlineHosts`: hosts that are not online; a live thread of one
 * of them is `host-offline` (its agent, setup and worktree are out of reach until it is back).
 */
export const threadState = (t: Thread, offlineHosts: ReadonlySet<string> = new Set()): ThreadState => {
  if (t.status === "archived") return "archived"
  if (t.host !== null && offlineHosts.has(t.host)) return "host-offline"
  const setupFailed = ["failed", "timed-out", "cancelled", "interrupted"].includes(t.setup.status)
  if (t.latestTurn === null && setupFailed) return "setup-failed"
  if (t.latestTurn === null && t.bootstrap.status === "failed") return "bootstrap-failed"
  if (t.pendingApprovals.length > 0) return "needs-approval"
  return turnStateOf(t)
}

export const threadTable = (
  threads: ReadonlyArray<Thread>,
  now = Date.now(),
  offlineHosts: ReadonlySet<string> = new Set()
) =>
  threads.length === 0
    ? "No threads. Start one with 'spindle thread start --project ID --prompt TEXT'."
    : table(
        ["ID", "PROJECT", "STATE", "BRANCH", "AGE", "PARENT"],
        threads.map((t) => [
          t.id,
          t.projectId,
          threadState(t, offlineHosts),
          t.workspace.branch ?? "-",
          age(t.createdAt, now),
          t.parentThreadId ?? "-"
        ])
      )

/** Said wherever an approval is offered whose decline can only cancel the agent's turn. */
export const DECLINE_ENDS_TURN = "declining ends the turn: the agent offered only accept or cancel"

/** `thread show` lists this many of the agent's latest notices (all of them are in --json). */
const NOTICES_SHOWN = 5

/** One line for something the agent reported: level, who said it, how often, whether it retries. */
export const noticeLine = (
  notice: Pick<AgentNoticeReport, "level" | "source" | "message" | "willRetry" | "count">
) =>
  `${notice.level === "info" ? "i" : "!"} agent ${notice.level} (${notice.source}${
    notice.count > 1 ? `, ${notice.count} times` : ""
  }${notice.willRetry === true ? ", retrying" : ""}): ${notice.message}`

/** How long the turn has been stalled, for `thread show`. */
const stalledFor = (t: Thread, now: number) =>
  t.latestTurn?.stalledSince == null || turnStateOf(t) !== "stalled"
    ? ""
    : ` (no progress since ${t.latestTurn.stalledSince}, ${age(t.latestTurn.stalledSince, now)} ago)`

export const stateLine = (t: Thread) =>
  `${t.id}  ${turnStateOf(t)}${t.latestTurn?.reason ? `: ${t.latestTurn.reason}` : ""}${
    t.pendingApprovals.length > 0 ? `  (${t.pendingApprovals.length} approval(s) waiting)` : ""
  }  ${t.title}`

/** Where a thread stands, in one line: what `thread follow` says before it waits for news. */
export const whereItStands = (t: Thread, now = Date.now()) => {
  const parts = [
    `bootstrap ${t.bootstrap.status}${t.bootstrap.stage ? ` (${t.bootstrap.stage})` : ""}`,
    `setup ${t.setup.status}`,
    `turn ${t.latestTurn === null ? "not started" : `${turnStateOf(t)} (started ${age(t.latestTurn.requestedAt, now)} ago)`}`
  ]
  const message = t.latestTurn?.lastMessage ?? null
  const last = message === null ? "" : `\n  last message: ${message.split("\n")[0]?.slice(0, 160)}`
  return `thread ${t.id} is ${threadState(t)}: ${parts.join(", ")}${last}`
}

export const formatThread = (t: Thread, now = Date.now()) => {
  const turn = turnStateOf(t)
  const notices = t.agentNotices.slice(-NOTICES_SHOWN)
  return [
    `${t.id}  ${t.title}`,
    `  project ${t.projectId}  status ${t.status}  bootstrap ${t.bootstrap.status}${t.bootstrap.stage ? ` (${t.bootstrap.stage})` : ""}${t.parentThreadId === null ? "" : `  parent ${t.parentThreadId}`}`,
    ...(t.status === "queued" && t.queue !== null
      ? [
          `  queued: position ${t.queue.position}, waiting for ${t.queue.waitsFor.kind} (limit ${t.queue.waitsFor.limit}) since ${t.queue.queuedAt}; cancel with 'spindle thread stop ${t.id}'`
        ]
      : []),
    `  workspace ${t.workspace.mode} ${t.workspace.worktreePath ?? "-"}${t.workspace.branch ? ` on ${t.workspace.branch}` : ""}${t.host === null ? "" : `  host ${t.host}`}`,
    ...(t.changes === null ? [] : [`  changes ${changesText(t.changes)} against its fork point`]),
    ...(t.mergeConflict === null
      ? []
      : [
          `  ! merge into ${t.mergeConflict.target} conflicts in ${t.mergeConflict.files.join(", ")}: ask the agent to merge ${t.mergeConflict.target} into its branch and resolve them (spindle thread send ${t.id} "…"), then merge again`
        ]),
    `  setup ${t.setup.status}${t.setup.runs > 0 ? ` (run ${t.setup.runs})` : ""}  turn ${turn}${stalledFor(t, now)}${t.latestTurn?.reason ? `: ${t.latestTurn.reason}` : ""}`,
    ...(t.ports === null
      ? []
      : [`  ports ${t.ports.first}-${t.ports.first + t.ports.count - 1} (SPINDLE_PORT ${t.ports.first})`]),
    ...(t.idleSince === null ? [] : [`  idle since ${t.idleSince}`]),
    ...(t.attempt === null
      ? []
      : [
          `  attempt ${t.attempt.id}: variant ${t.attempt.index + 1} of ${t.attempt.of}${t.attempt.check === null ? "" : `, check ${t.check === null || t.check.turnId !== t.latestTurn?.turnId ? "pending" : t.check.exitCode === null ? t.check.status : `exit ${t.check.exitCode}`}`} (spindle attempt show ${t.attempt.id})`
        ]),
    ...(t.cleanup === null
      ? []
      : [
          `  worktree ${t.cleanup.outcome}${t.cleanup.reasons.length > 0 ? `: ${t.cleanup.reasons.join(" ")}` : ""}`
        ]),
    `  agent ${t.provider}${t.model === null ? "" : ` ${t.model}`} (${t.runtimeMode})  session ${t.session.status}${t.session.error ? `: ${t.session.error}` : t.session.reason ? `: ${t.session.reason}` : ""}`,
    `  created ${t.createdAt} (${age(t.createdAt)} ago)  updated ${t.updatedAt}`,
    ...(t.latestTurn?.lastMessage
      ? [`  last message: ${t.latestTurn.lastMessage.split("\n")[0]!.slice(0, 200)}`]
      : []),
    ...t.pendingApprovals.map(
      (a) =>
        `  ? approval ${a.requestId}: ${a.kind === "command" ? (a.command ?? "a command") : "file changes"}  (spindle thread approve|decline ${t.id} ${a.requestId})${a.declineEndsTurn === true ? `\n    ${DECLINE_ENDS_TURN}` : ""}`
    ),
    ...t.warnings.map((warning) => `  ! ${warning}`),
    ...(t.agentNotices.length > notices.length
      ? [`  (${t.agentNotices.length - notices.length} earlier agent notices: --json shows them)`]
      : []),
    ...notices.map((notice) => `  ${noticeLine(notice)}  [${notice.lastAt}]`),
    ...(t.bootstrap.error ? [`  error: ${t.bootstrap.error.message}`] : [])
  ].join("\n")
}
