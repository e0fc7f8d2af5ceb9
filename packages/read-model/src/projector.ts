// Pure fold of one event into the read model. No I/O, no clock: everything it needs is in the
// event, so replaying the log always rebuilds the same model.
import {
  MAX_LAST_MESSAGE,
  type Project,
  type SpindleEvent,
  type Thread,
  type ThreadTurn
} from "@spindle/contracts"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import { addNotice } from "./agentNotices.ts"
import { type ReadModel, threadOfEvent } from "./readModel.ts"

/** The latest warnings a thread keeps. */
const MAX_WARNINGS = 20

/** The latest wakes a thread keeps: more than any wakes-per-hour cap may allow. */
export const MAX_WAKES_KEPT = 100

/** The model with project `id` changed by `f`; unchanged when there is no such project. */
const updateProject = (model: ReadModel, id: Project["id"], f: (project: Project) => Project): ReadModel =>
  Option.match(HashMap.get(model.projects, id), {
    onNone: () => model,
    onSome: (project) => ({ ...model, projects: HashMap.set(model.projects, project.id, f(project)) })
  })

const updateThread = (
  model: ReadModel,
  event: SpindleEvent & { readonly payload: { readonly threadId: Thread["id"] } },
  f: (thread: Thread) => Thread
): ReadModel =>
  Option.match(HashMap.get(model.threads, event.payload.threadId), {
    onNone: () => model,
    onSome: (thread) => ({
      ...model,
      threads: HashMap.set(model.threads, thread.id, {
        ...f(thread),
        updatedAt: event.occurredAt,
        // Anything that happens to a thread ends its idleness.
        idleSince: event.type === "thread.flagged-idle" ? event.payload.idleSince : null
      })
    })
  })

/** Changes the thread's latest turn when it is the one the event names. */
const updateTurn = (
  model: ReadModel,
  event: SpindleEvent & { readonly payload: { readonly threadId: Thread["id"]; readonly turnId: string } },
  f: (turn: ThreadTurn) => ThreadTurn
): ReadModel =>
  updateThread(model, event, (thread) =>
    thread.latestTurn?.turnId === event.payload.turnId
      ? { ...thread, latestTurn: f(thread.latestTurn) }
      : thread
  )

/** Any progress of the agent's turn ends its stall. */
const progressed = (turn: ThreadTurn): ThreadTurn =>
  turn.stalledSince === null ? turn : { ...turn, stalledSince: null }

const fold = (model: ReadModel, event: SpindleEvent): ReadModel => {
  switch (event.type) {
    case "project.created":
      return {
        ...model,
        projects: HashMap.set(model.projects, event.payload.project.id, {
          ...event.payload.project,
          gitHooksSetBy: event.payload.project.gitHooks ? { actor: event.actor, at: event.occurredAt } : null
        })
      }
    case "project.updated":
      return updateProject(model, event.payload.projectId, (project) => ({
        ...project,
        ...event.payload.changes,
        ...(event.payload.changes.gitHooks === undefined
          ? {}
          : { gitHooksSetBy: { actor: event.actor, at: event.occurredAt } }),
        updatedAt: event.occurredAt
      }))
    case "project.overlap-changed":
      return Option.match(HashMap.get(model.projects, event.payload.projectId), {
        onNone: () => model,
        onSome: (project) => {
          const { threadIds, files, filesTruncated, change } = event.payload
          const key = threadIds.join("\0")
          const before = project.overlaps ?? []
          const previous = before.find((o) => o.threadIds.join("\0") === key)
          const others = before.filter((o) => o !== previous)
          // The overlap set is the radar's, not the project's settings: updatedAt stays.
          const overlaps =
            change === "disappeared"
              ? others
              : [...others, { threadIds, files, filesTruncated, since: previous?.since ?? event.occurredAt }]
          const { overlaps: _, ...rest } = project
          return {
            ...model,
            projects: HashMap.set(
              model.projects,
              project.id,
              overlaps.length === 0 ? rest : { ...rest, overlaps }
            )
          }
        }
      })
    case "project.checkout-added":
      return updateProject(model, event.payload.projectId, (project) => ({
        ...project,
        checkouts: [
          ...project.checkouts.filter((c) => c.host !== event.payload.checkout.host),
          event.payload.checkout
        ],
        updatedAt: event.occurredAt
      }))
    case "project.notify-delivered":
    case "project.notify-failed":
      // How its notifications go is not one of its settings: updatedAt stays.
      return Option.match(HashMap.get(model.projects, event.payload.projectId), {
        onNone: () => model,
        onSome: (project) => ({
          ...model,
          projects: HashMap.set(model.projects, project.id, { ...project, lastNotify: event.payload.outcome })
        })
      })
    case "project.deleted":
      // Its threads (all archived by now) go with it from every list; their events stay.
      return {
        ...model,
        projects: HashMap.remove(model.projects, event.payload.projectId),
        threads: HashMap.map(model.threads, (thread) =>
          thread.projectId === event.payload.projectId && thread.deletedAt === null
            ? { ...thread, deletedAt: event.occurredAt }
            : thread
        )
      }
    case "thread.created":
      return { ...model, threads: HashMap.set(model.threads, event.payload.thread.id, event.payload.thread) }
    case "thread.queued": {
      const thread: Thread = {
        ...event.payload.thread,
        status: "queued",
        queue: {
          sequence: event.sequence,
          position: model.queue.length + 1,
          waitsFor: event.payload.waitsFor,
          queuedAt: event.occurredAt
        }
      }
      return { ...model, threads: HashMap.set(model.threads, thread.id, thread) }
    }
    case "thread.dequeued":
      return updateThread(model, event, (thread) => ({
        ...thread,
        host: event.payload.host ?? thread.host,
        status: "active",
        queue: null,
        workspace: {
          mode: event.payload.workspaceMode,
          branch: null,
          worktreePath: event.payload.worktreePath,
          baseBranch: null,
          createdByUs: false
        },
        bootstrap: { status: "running", stage: null, error: null },
        setup: { ...thread.setup, status: event.payload.runSetupScript ? "pending" : "not-requested" }
      }))
    case "thread.deleted":
      return updateThread(model, event, (thread) => ({
        ...thread,
        status: "archived",
        queue: null,
        archivedAt: thread.archivedAt ?? event.occurredAt,
        deletedAt: event.occurredAt,
        ports: null
      }))
    case "thread.archived":
      return updateThread(model, event, (thread) => ({
        ...thread,
        status: "archived",
        queue: null,
        archivedAt: event.occurredAt,
        ports: null
      }))
    case "thread.unarchived":
      return updateThread(model, event, (thread) => ({
        ...thread,
        status: "active",
        archivedAt: null,
        cleanup: thread.cleanup?.outcome === "removed" ? thread.cleanup : null
      }))
    case "thread.worktree-cleaned":
      return updateThread(model, event, (thread) => ({
        ...thread,
        cleanup: event.payload.cleanup,
        workspace:
          event.payload.cleanup.outcome === "removed"
            ? { ...thread.workspace, worktreePath: null }
            : thread.workspace
      }))
    case "thread.worktree-restored":
      return updateThread(model, event, (thread) => ({
        ...thread,
        cleanup: null,
        workspace: {
          ...thread.workspace,
          worktreePath: event.payload.worktreePath,
          branch: event.payload.branch
        }
      }))
    case "thread.ports-assigned":
      return updateThread(model, event, (thread) => ({ ...thread, ports: event.payload.ports }))
    case "thread.flagged-idle":
      return updateThread(model, event, (thread) => thread)
    case "thread.warned":
      return updateThread(model, event, (thread) => ({
        ...thread,
        warnings: [...thread.warnings, event.payload.warning].slice(-MAX_WARNINGS)
      }))
    case "thread.woken":
      return updateThread(model, event, (thread) => ({
        ...thread,
        wokenAt: [...thread.wokenAt, event.occurredAt].slice(-MAX_WAKES_KEPT)
      }))
    case "thread.merged":
      return updateThread(model, event, (thread) => ({
        ...thread,
        merged: event.payload.merge,
        mergeConflict: null
      }))
    case "thread.check-completed":
      return updateThread(model, event, (thread) => ({ ...thread, check: event.payload.check }))
    case "thread.merge-conflicted":
      return updateThread(model, event, (thread) => ({ ...thread, mergeConflict: event.payload.conflict }))
    case "thread.changes-updated":
      return updateThread(model, event, (thread) => ({ ...thread, changes: event.payload.changes }))
    case "thread.workspace-prepared":
      return updateThread(model, event, (thread) => ({ ...thread, workspace: event.payload.workspace }))
    case "thread.setup-started":
      return updateThread(model, event, (thread) => ({
        ...thread,
        setup: {
          status: "running",
          runs: event.payload.run,
          exitCode: null,
          signal: null,
          durationMs: null,
          logTail: ""
        }
      }))
    case "thread.setup-completed": {
      const { status, run, exitCode, signal, durationMs, logTail } = event.payload
      return updateThread(model, event, (thread) => ({
        ...thread,
        setup: { status, runs: run, exitCode, signal, durationMs, logTail }
      }))
    }
    case "thread.turn-start-requested":
      // A new turn: the agent is at work again, on the conflict too if it was asked to.
      return updateThread(model, event, (thread) => ({
        ...thread,
        mergeConflict: null,
        latestTurn: {
          turnId: event.payload.turnId,
          status: "requested",
          requestedAt: event.occurredAt,
          completedAt: null,
          reason: null,
          lastMessage: null,
          lastMessageTruncated: false,
          usage: null,
          stalledSince: null
        }
      }))
    case "thread.turn-steer-requested":
    case "thread.turn-interrupt-requested":
      return updateThread(model, event, (thread) => thread)
    case "thread.session-changed": {
      const { status, providerSessionId, resumeCursor, error, reason } = event.payload
      return updateThread(model, event, (thread) => ({
        ...thread,
        // A session that stopped keeps the conversation it had, for the next one to resume.
        session: {
          status,
          providerSessionId,
          resumeCursor: resumeCursor ?? thread.session.resumeCursor,
          error,
          reason: reason ?? null
        }
      }))
    }
    case "thread.turn-started":
      return updateTurn(model, event, (turn) => ({ ...turn, status: "running" }))
    case "thread.turn-item": {
      const { item, phase } = event.payload
      if (item.kind !== "agent-message" || phase !== "completed" || item.text === undefined) {
        return updateTurn(model, event, progressed)
      }
      const text = item.text
      return updateTurn(model, event, (turn) => ({
        ...progressed(turn),
        lastMessage: text.length > MAX_LAST_MESSAGE ? text.slice(text.length - MAX_LAST_MESSAGE) : text,
        lastMessageTruncated: text.length > MAX_LAST_MESSAGE
      }))
    }
    case "thread.turn-usage":
      return updateTurn(model, event, (turn) => ({ ...progressed(turn), usage: event.payload.usage }))
    case "thread.turn-stalled":
      return updateTurn(model, event, (turn) => ({ ...turn, stalledSince: event.payload.since }))
    case "thread.agent-noticed":
      return updateThread(model, event, (thread) => ({
        ...thread,
        agentNotices: addNotice(thread.agentNotices, event.payload.notice, event.occurredAt)
      }))
    case "thread.turn-ended":
      return updateTurn(model, event, (turn) => ({
        ...progressed(turn),
        status: event.payload.status,
        reason: event.payload.reason,
        completedAt: event.occurredAt
      }))
    case "thread.approval-requested":
      // An agent that asks is not stalled: it waits for a person.
      return updateThread(model, event, (thread) => ({
        ...thread,
        latestTurn:
          thread.latestTurn?.turnId === event.payload.approval.turnId
            ? progressed(thread.latestTurn)
            : thread.latestTurn,
        pendingApprovals: [...thread.pendingApprovals, event.payload.approval]
      }))
    case "thread.attachments-added":
      return updateThread(model, event, (thread) => ({
        ...thread,
        attachments: [...thread.attachments, ...event.payload.attachments]
      }))
    case "thread.child-notified":
      return updateThread(model, event, (thread) => ({
        ...thread,
        childNotices: [...thread.childNotices, event.payload.notice]
      }))
    case "thread.child-notices-delivered": {
      const delivered = new Set(event.payload.noticeIds)
      return updateThread(model, event, (thread) => ({
        ...thread,
        childNotices: thread.childNotices.filter((n) => !delivered.has(n.noticeId))
      }))
    }
    case "thread.approval-resolved":
      return updateThread(model, event, (thread) => ({
        ...thread,
        pendingApprovals: thread.pendingApprovals.filter((a) => a.requestId !== event.payload.requestId)
      }))
    case "thread.bootstrap-failed":
      return updateThread(model, event, (thread) => ({
        ...thread,
        // A queued start that could not begin (its request no longer holds) leaves the queue, failed.
        ...(thread.status === "queued" ? { status: "active" as const, queue: null } : {}),
        bootstrap: { status: "failed", stage: event.payload.stage, error: event.payload.error },
        // A setup that was only waiting for the workspace will not run now; one still shown running
        // has ended (its end could not be recorded), since a bootstrap fails only after its run.
        setup:
          thread.setup.status === "pending"
            ? { ...thread.setup, status: "not-requested" }
            : thread.setup.status === "running"
              ? { ...thread.setup, status: "interrupted" }
              : thread.setup
      }))
    case "thread.bootstrap-restarted":
      return updateThread(model, event, (thread) => ({
        ...thread,
        status: "active",
        archivedAt: null,
        workspace: {
          mode: event.payload.workspaceMode,
          branch: null,
          worktreePath: event.payload.worktreePath ?? null,
          baseBranch: null,
          createdByUs: false
        },
        bootstrap: { status: "running", stage: null, error: null },
        setup: {
          ...thread.setup,
          status: event.payload.runSetupScript ? "pending" : "not-requested",
          exitCode: null,
          signal: null,
          durationMs: null,
          logTail: ""
        }
      }))
    case "thread.bootstrap-completed":
      return updateThread(model, event, (thread) => ({
        ...thread,
        bootstrap: { status: "completed", stage: null, error: null }
      }))
  }
}

const isQueued = (model: ReadModel, id: Thread["id"] | undefined) =>
  id !== undefined && Option.getOrUndefined(HashMap.get(model.threads, id))?.status === "queued"

/**
 * When a thread joined or left the queue: the queue again, and every queued thread's position.
 * Only then, so a model whose queue did not change keeps the same array (the engine saves the
 * queued threads when it changes).
 */
const syncQueue = (before: ReadModel, after: ReadModel, event: SpindleEvent): ReadModel => {
  const id = threadOfEvent(event)
  if (isQueued(before, id) === isQueued(after, id)) return after
  const queue = after.queue.filter((queued) => queued !== id)
  if (isQueued(after, id) && id !== undefined) queue.push(id)
  let threads = after.threads
  queue.forEach((queued, i) => {
    const thread = Option.getOrUndefined(HashMap.get(threads, queued))
    if (thread?.queue != null && thread.queue.position !== i + 1) {
      threads = HashMap.set(threads, queued, { ...thread, queue: { ...thread.queue, position: i + 1 } })
    }
  })
  return { ...after, threads, queue }
}

export const project = (model: ReadModel, event: SpindleEvent): ReadModel => ({
  ...syncQueue(model, fold(model, event), event),
  sequence: event.sequence
})
