// Pure decisions about a thread's turns once it exists: follow-up turns (or steering the running
// one), interrupts, approval answers, and what a provider session reports. Same contract as the
// decider (thread, command, now -> events | error); the decider routes these commands here.
import { type Command, type EventDraft, type ProviderReport, type Thread, TurnId } from "@spindle/contracts"
import { hasLiveTurn as isLive } from "@spindle/read-model"
import { accept, type DecideContext, type Decision, reject } from "./decision.ts"

/** Providers that can add a prompt to a running turn. */
// Providers that take a prompt while a turn runs: Codex steers it in; an ACP agent's next turn
// starts with it once this one ends (ACP has no steering).
const STEERABLE: ReadonlySet<Thread["provider"]> = new Set([
  "codex",
  "acp",
  "claude",
  "gemini",
  "opencode",
  "codex-acp"
])

/** `thread.turn.start` without bootstrap: the next turn, or a steer of the running one. */
export const decideTurnStart = (
  thread: Thread,
  command: Pick<Extract<Command, { type: "thread.turn.start" }>, "commandId" | "turnId" | "prompt">,
  attachments: ReadonlyArray<string> = []
): Decision => {
  const withFiles = attachments.length === 0 ? {} : { attachments }
  if (thread.bootstrap.status === "running") {
    return reject({
      reason: "conflict",
      threadId: thread.id,
      message: `Thread ${thread.id} is still being bootstrapped; its first turn starts when that finishes.`
    })
  }
  const prompt = command.prompt.trim()
  const turn = thread.latestTurn
  if (turn !== null && isLive(thread)) {
    if (turn.status === "running" && STEERABLE.has(thread.provider)) {
      return accept({
        type: "thread.turn-steer-requested",
        payload: { threadId: thread.id, turnId: turn.turnId, prompt, ...withFiles }
      })
    }
    return reject({
      reason: "conflict",
      threadId: thread.id,
      message: `Thread ${thread.id} is ${turn.status === "running" ? "running" : "about to run"} turn ${turn.turnId}${
        STEERABLE.has(thread.provider)
          ? ""
          : ` (its ${thread.provider} provider cannot take a prompt mid-turn)`
      }. Send the prompt once it ends, or interrupt it with 'spindle thread interrupt ${thread.id}'.`
    })
  }
  const turnId = command.turnId ?? TurnId.make(command.commandId)
  return accept({
    type: "thread.turn-start-requested",
    payload: { threadId: thread.id, turnId, prompt, ...withFiles }
  })
}

const HOUR_MS = 60 * 60 * 1000

/**
 * Wakes an idle parent for its children: a turn whose prompt (its pending notices go with it)
 * says they reported back. Decided here, in the writer, so two wakes cannot both start: a thread
 * with a live turn or a bootstrap that is running or failed, or whose notices were given meanwhile,
 * is not woken (its notices wait for its next prompt); past its wakes per hour it is not woken
 * either, and says so once.
 */
export const decideWake = (
  thread: Thread,
  command: Extract<Command, { type: "thread.wake" }>,
  context: DecideContext
): Decision => {
  const pending = new Set(thread.childNotices.map((n) => n.noticeId))
  if (
    thread.deletedAt !== null ||
    thread.bootstrap.status === "running" ||
    thread.bootstrap.status === "failed" ||
    isLive(thread) ||
    !command.noticeIds.some((id) => pending.has(id))
  ) {
    return accept()
  }
  const since = Date.parse(context.now) - HOUR_MS
  const recent = thread.wokenAt.filter((at) => Date.parse(at) > since).length
  if (recent >= context.limits.wakesPerHour) {
    const warning = `Its children woke it ${recent} times in the last hour, the most allowed (wakesPerHour): their notices wait for its next prompt.`
    return thread.warnings.includes(warning)
      ? accept()
      : accept({ type: "thread.warned", payload: { threadId: thread.id, warning } })
  }
  return accept(
    {
      type: "thread.turn-start-requested",
      payload: { threadId: thread.id, turnId: command.turnId, prompt: command.prompt }
    },
    {
      type: "thread.woken",
      payload: {
        threadId: thread.id,
        turnId: command.turnId,
        noticeIds: command.noticeIds.filter((id) => pending.has(id))
      }
    }
  )
}

export const decideInterrupt = (
  thread: Thread,
  command: Extract<Command, { type: "thread.turn.interrupt" }>
): Decision => {
  const turn = thread.latestTurn
  if (turn === null || !isLive(thread) || (command.turnId !== undefined && command.turnId !== turn.turnId)) {
    return reject({
      reason: "conflict",
      threadId: thread.id,
      message: `Thread ${thread.id} has no running turn${command.turnId === undefined ? "" : ` ${command.turnId}`} to interrupt${
        turn === null ? "" : ` (its latest turn ${turn.turnId} is ${turn.status})`
      }.`
    })
  }
  return accept({
    type: "thread.turn-interrupt-requested",
    payload: { threadId: thread.id, turnId: turn.turnId }
  })
}

export const decideApprovalResponse = (
  thread: Thread,
  command: Extract<Command, { type: "thread.approval.respond" }>
): Decision => {
  const pending = thread.pendingApprovals.find((a) => a.requestId === command.requestId)
  if (pending === undefined) {
    const waiting = thread.pendingApprovals.map((a) => a.requestId)
    return reject({
      reason: "not-found",
      threadId: thread.id,
      field: "requestId",
      message: `Thread ${thread.id} has no pending approval request ${command.requestId}${
        waiting.length === 0 ? " (none is waiting)" : `; waiting: ${waiting.join(", ")}`
      }. It may have been answered already, or its turn ended.`
    })
  }
  return accept({
    type: "thread.approval-resolved",
    payload: { threadId: thread.id, requestId: pending.requestId, outcome: command.decision }
  })
}

const notCurrent = (thread: Thread, turnId: string, what: string): Decision =>
  reject({
    reason: "conflict",
    threadId: thread.id,
    message: `Provider report (${what}) for turn ${turnId} does not fit thread ${thread.id}, whose latest turn is ${
      thread.latestTurn === null ? "none" : `${thread.latestTurn.turnId} (${thread.latestTurn.status})`
    }.`
  })

/** A provider session's report, checked against the thread's latest turn so stale reports change nothing. */
export const decideProviderReport = (thread: Thread, report: ProviderReport): Decision => {
  const threadId = thread.id
  const turn = thread.latestTurn
  switch (report.type) {
    case "session-changed": {
      const { type: _type, ...session } = report
      return accept({ type: "thread.session-changed", payload: { threadId, ...session } })
    }
    case "turn-started":
      if (turn?.turnId !== report.turnId || turn.status !== "requested") {
        return notCurrent(thread, report.turnId, report.type)
      }
      return accept({ type: "thread.turn-started", payload: { threadId, turnId: report.turnId } })
    case "turn-item":
      if (turn?.turnId !== report.turnId || turn.status !== "running") {
        return notCurrent(thread, report.turnId, report.type)
      }
      return accept({
        type: "thread.turn-item",
        payload: { threadId, turnId: report.turnId, phase: report.phase, item: report.item }
      })
    case "turn-usage":
      if (turn?.turnId !== report.turnId || turn.status !== "running") {
        return notCurrent(thread, report.turnId, report.type)
      }
      return accept({
        type: "thread.turn-usage",
        payload: { threadId, turnId: report.turnId, usage: report.usage }
      })
    case "turn-ended": {
      if (turn?.turnId !== report.turnId || !isLive(thread)) {
        return notCurrent(thread, report.turnId, report.type)
      }
      // Requests of a turn that ended can no longer be answered.
      const expired = thread.pendingApprovals.map(
        (a): EventDraft => ({
          type: "thread.approval-resolved",
          payload: { threadId, requestId: a.requestId, outcome: "expired" }
        })
      )
      return accept(...expired, {
        type: "thread.turn-ended",
        payload: { threadId, turnId: report.turnId, status: report.status, reason: report.reason }
      })
    }
    case "approval-requested":
      if (turn?.turnId !== report.approval.turnId || turn.status !== "running") {
        return notCurrent(thread, report.approval.turnId, report.type)
      }
      if (thread.pendingApprovals.some((a) => a.requestId === report.approval.requestId)) {
        return reject({
          reason: "conflict",
          threadId,
          message: `Approval request ${report.approval.requestId} is already pending.`
        })
      }
      return accept({ type: "thread.approval-requested", payload: { threadId, approval: report.approval } })
    case "agent-noticed":
      // A notice about the session stands alone; one about a turn only while that turn is the latest.
      if (report.notice.turnId !== null && turn?.turnId !== report.notice.turnId) {
        return notCurrent(thread, report.notice.turnId, report.type)
      }
      return accept({ type: "thread.agent-noticed", payload: { threadId, notice: report.notice } })
    case "turn-stalled":
      if (turn?.turnId !== report.turnId || !isLive(thread) || turn.stalledSince !== null) {
        return notCurrent(thread, report.turnId, report.type)
      }
      return accept({
        type: "thread.turn-stalled",
        payload: { threadId, turnId: report.turnId, since: report.since }
      })
    case "notices-delivered": {
      const known = new Set(thread.childNotices.map((n) => n.noticeId))
      const noticeIds = report.noticeIds.filter((id) => known.has(id))
      if (noticeIds.length === 0) {
        return reject({ reason: "conflict", threadId, message: "None of these notices is pending." })
      }
      return accept({ type: "thread.child-notices-delivered", payload: { threadId, noticeIds } })
    }
    case "warning":
      // Said once, like thread.warn: a warning each new session repeats records nothing new.
      return thread.warnings.includes(report.warning)
        ? accept()
        : accept({ type: "thread.warned", payload: { threadId, warning: report.warning } })
    case "approval-expired":
      if (!thread.pendingApprovals.some((a) => a.requestId === report.requestId)) {
        return reject({
          reason: "not-found",
          threadId,
          message: `Approval request ${report.requestId} is not pending.`
        })
      }
      return accept({
        type: "thread.approval-resolved",
        payload: { threadId, requestId: report.requestId, outcome: "expired" }
      })
  }
}
