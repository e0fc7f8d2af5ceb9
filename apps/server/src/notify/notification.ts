// What an event means for a person watching a project: the notification it makes (approval asked
// for, a turn or setup failed, work ready to review), or none. Pure: the event and the read model
// are all it looks at; for a completed turn that is the thread's changes against its base as the
// conflict radar counted them (`Thread.changes`), so its caller reads the model once the radar has
// caught up with the turn's end. The body is rendered once, with its delivery id, and every retry
// sends those exact bytes. It does not decide how or whether a delivery goes out.
import {
  changesText,
  type NotifyEvent,
  type Project,
  type ProjectId,
  type SpindleEvent,
  type Thread,
  type ThreadId,
  type WebhookBody
} from "@spindle/contracts"
import type { ReadModel } from "@spindle/read-model"
import { turnStateOf } from "@spindle/read-model/turnState"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"

export interface Notification {
  readonly event: NotifyEvent
  readonly projectId: ProjectId
  readonly threadId: ThreadId
  /** The body without its delivery id (given when it goes in the outbox). */
  readonly body: Omit<WebhookBody, "deliveryId">
}

/** Setup outcomes that stop a thread until the user acts. */
const FAILED_SETUP = new Set(["failed", "timed-out"])

/** One line of at most `max` characters. */
const short = (text: string, max: number) => {
  const line = text.replace(/\s+/gu, " ").trim()
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`
}

/** The thread an event that may notify is about. */
const threadIdOf = (event: SpindleEvent): ThreadId | undefined => {
  switch (event.type) {
    case "thread.approval-requested":
    case "thread.turn-ended":
    case "thread.setup-completed":
      return event.payload.threadId
    default:
      return undefined
  }
}

/** A completed turn: the one event whose notification needs the radar's count of the thread's changes. */
export const needsChanges = (
  event: SpindleEvent
): event is Extract<SpindleEvent, { type: "thread.turn-ended" }> =>
  event.type === "thread.turn-ended" && event.payload.status === "completed"

/** The live thread an event is about, and its project when that has a webhook. */
export const targetOf = (
  event: SpindleEvent,
  model: ReadModel
): { readonly thread: Thread; readonly project: Project } | undefined => {
  const threadId = threadIdOf(event)
  if (threadId === undefined) return undefined
  const thread = Option.getOrUndefined(HashMap.get(model.threads, threadId))
  if (thread === undefined || thread.status !== "active" || thread.deletedAt !== null) return undefined
  const project = Option.getOrUndefined(HashMap.get(model.projects, thread.projectId))
  if (project === undefined || project.notifyWebhook === null) return undefined
  return { thread, project }
}

const quoted = (thread: Thread) => `"${short(thread.title, 80)}"`

/** The notification `event` makes against `model`, or undefined. */
export const notificationFor = (event: SpindleEvent, model: ReadModel): Notification | undefined => {
  const target = targetOf(event, model)
  if (target === undefined) return undefined
  const { thread, project } = target
  const made = (kind: NotifyEvent, text: string, detail: Record<string, unknown>): Notification => ({
    event: kind,
    projectId: project.id,
    threadId: thread.id,
    body: {
      event: kind,
      occurredAt: event.occurredAt,
      sequence: event.sequence,
      project: { id: project.id, title: project.title },
      thread: {
        id: thread.id,
        title: thread.title,
        branch: thread.workspace.branch,
        baseBranch: thread.workspace.baseBranch,
        worktreePath: thread.workspace.worktreePath,
        state: turnStateOf(thread),
        parentThreadId: thread.parentThreadId
      },
      text: short(text, 300),
      detail
    }
  })
  switch (event.type) {
    case "thread.approval-requested": {
      const { approval } = event.payload
      const what =
        approval.kind === "command"
          ? `to run: ${short(approval.command ?? "a command", 200)}`
          : "to change files"
      return made("approval-requested", `Thread ${quoted(thread)} needs your approval ${what}`, {
        requestId: approval.requestId,
        turnId: approval.turnId,
        kind: approval.kind,
        command: approval.command,
        cwd: approval.cwd,
        reason: approval.reason
      })
    }
    case "thread.turn-ended": {
      const { status, turnId, reason } = event.payload
      if (status === "failed") {
        return made(
          "turn-failed",
          `Thread ${quoted(thread)}: its turn failed${reason === null ? "" : `: ${short(reason, 200)}`}`,
          { stage: "turn", turnId, reason }
        )
      }
      // Ready to review: what its worktree changes against its base, committed or not and not
      // merged yet (a merge moves the fork point), as the radar last counted it.
      const changes = thread.changes
      if (status !== "completed" || changes === null || changes.files === 0) return undefined
      return made(
        "ready-to-review",
        `Thread ${quoted(thread)} is ready to review: ${changesText(changes)}${
          thread.workspace.branch === null ? "" : ` on ${thread.workspace.branch}`
        }`,
        {
          turnId,
          filesChanged: changes.files,
          insertions: changes.insertions,
          deletions: changes.deletions,
          lastMessage: thread.latestTurn?.turnId === turnId ? thread.latestTurn.lastMessage : null
        }
      )
    }
    case "thread.setup-completed": {
      const { status, exitCode, run } = event.payload
      if (!FAILED_SETUP.has(status)) return undefined
      const how =
        status === "timed-out" ? "timed out" : `failed${exitCode === null ? "" : ` (exit ${exitCode})`}`
      return made("turn-failed", `Thread ${quoted(thread)}: its setup script ${how}`, {
        stage: "setup",
        status,
        exitCode,
        run
      })
    }
    default:
      return undefined
  }
}

/** The exact JSON a delivery sends (and signs). */
export const renderBody = (notification: Notification, deliveryId: string): string => {
  const { event, ...rest } = notification.body
  return JSON.stringify({ event, deliveryId, ...rest } satisfies WebhookBody)
}
