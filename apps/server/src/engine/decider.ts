// Pure decisions: (command, read model, now) -> events, or the error to answer. No I/O, no clock,
// no randomness: whatever a command needs from the outside world (resolved paths, detected
// branches) is filled in before it gets here.
//
// This file routes each command to its decider (projects, bootstrap, turns) and decides the rest:
// a thread's life after its bootstrap (archive, unarchive, delete, its worktree, idleness) and
// what it is told.
import type { Command, EventDraft } from "@spindle/contracts"
import type { ReadModel } from "@spindle/read-model"
import * as Result from "effect/Result"
import { checkActiveLimit, worktreeHolder } from "./admission.ts"
import { decideBootstrap } from "./bootstrapDecider.ts"
import { withChildNotices } from "./childNotices.ts"
import {
  accept,
  type DecideContext,
  type Decision,
  findProject,
  projectNotFound,
  reject,
  withThread
} from "./decision.ts"
import { decideProject } from "./projectDecider.ts"
import { decideChanges, decideOverlap } from "./radarDecider.ts"
import {
  decideApprovalResponse,
  decideInterrupt,
  decideProviderReport,
  decideTurnStart,
  decideWake
} from "./turnDecider.ts"

export type { DecideContext, Decision } from "./decision.ts"

/** The command's events; a child's end or approval request is followed by its parent's notice. */
export const decide = (command: Command, model: ReadModel, context: DecideContext): Decision =>
  Result.map(decideCommand(command, model, context), (drafts) => withChildNotices(drafts, model, context.now))

const decideCommand = (command: Command, model: ReadModel, context: DecideContext): Decision => {
  switch (command.type) {
    case "project.create":
    case "project.update":
    case "project.remove":
    case "project.checkout.add":
      return decideProject(command, model, context)

    case "thread.create":
    case "thread.bootstrap.begin":
    case "thread.attachments.record":
    case "thread.ports.assign":
    case "thread.workspace.record":
    case "thread.setup.start":
    case "thread.setup.finish":
    case "thread.turn.request":
    case "thread.bootstrap.fail":
    case "thread.bootstrap.complete":
      return decideBootstrap(command, model, context)

    case "thread.turn.start": {
      if (command.bootstrap !== undefined) {
        return reject({
          reason: "validation",
          threadId: command.threadId,
          field: "bootstrap",
          message:
            "A thread.turn.start with bootstrap is handled by the bootstrap dispatcher, not the engine."
        })
      }
      if (command.attachments !== undefined && command.attachments.length > 0) {
        return reject({
          reason: "validation",
          threadId: command.threadId,
          field: "attachments",
          message:
            "A follow-up's attachments are stored by the command service before the engine sees the prompt."
        })
      }
      return withThread(model, command.threadId, (thread) => decideTurnStart(thread, command))
    }

    case "thread.turn.send":
      // The files are recorded on the thread with the prompt that carries them, or not at all (a
      // prompt sent again after a steer did not take keeps the records it already has).
      return withThread(model, command.threadId, (thread) => {
        const known = new Set(thread.attachments.map((a) => a.path))
        const added = command.attachments.filter((a) => !known.has(a.path))
        return Result.map(
          decideTurnStart(
            thread,
            command,
            command.attachments.map((a) => a.path)
          ),
          (events): ReadonlyArray<EventDraft> =>
            added.length === 0
              ? events
              : [
                  { type: "thread.attachments-added", payload: { threadId: thread.id, attachments: added } },
                  ...events
                ]
        )
      })

    case "thread.turn.interrupt":
      return withThread(model, command.threadId, (thread) => decideInterrupt(thread, command))

    case "thread.approval.respond":
      return withThread(model, command.threadId, (thread) => decideApprovalResponse(thread, command))

    case "thread.provider.record":
      // A session stopping, or a turn ending, after the thread was archived is still recorded.
      return withThread(model, command.threadId, (thread) => decideProviderReport(thread, command.report), {
        allowArchived: true
      })

    case "thread.setup.rerun":
      return reject({
        reason: "validation",
        threadId: command.threadId,
        message: "thread.setup.rerun is handled by the bootstrap dispatcher, not the engine."
      })

    case "thread.archive":
      // Archiving a queued thread takes it out of the queue: it never starts.
      return withThread(
        model,
        command.threadId,
        (thread) =>
          thread.bootstrap.status === "running"
            ? reject({
                reason: "conflict",
                threadId: thread.id,
                message: `Thread ${thread.id} is still being bootstrapped. Wait for it ('spindle thread wait ${thread.id} --for setup-completed'), then archive it.`
              })
            : accept({ type: "thread.archived", payload: { threadId: thread.id } }),
        { allowQueued: true }
      )

    case "thread.unarchive":
      return withThread(
        model,
        command.threadId,
        (thread) => {
          if (thread.status !== "archived" || thread.deletedAt !== null) {
            return reject({
              reason: "conflict",
              threadId: thread.id,
              message:
                thread.deletedAt !== null
                  ? `Thread ${thread.id} was deleted; start a new thread instead.`
                  : `Thread ${thread.id} is not archived.`
            })
          }
          if (thread.bootstrap.status === "none" && thread.workspace.worktreePath === null) {
            return reject({
              reason: "conflict",
              threadId: thread.id,
              message: `Thread ${thread.id} never started (it left the queue before its bootstrap began), so there is nothing to unarchive. Start a new thread with its prompt instead.`
            })
          }
          if (findProject(model, thread.projectId) === undefined) return projectNotFound(thread.projectId)
          const limit = checkActiveLimit(model, thread.projectId, context.limits)
          if (Result.isFailure(limit)) return Result.fail(limit.failure.error)
          const kept = thread.cleanup?.outcome === "removed" ? null : thread.workspace.worktreePath
          const holder = kept === null ? undefined : worktreeHolder(model, kept, thread.id)
          if (holder !== undefined) {
            return reject({
              reason: "conflict",
              threadId: thread.id,
              path: kept as string,
              message: `${kept} is now the workspace of active thread ${holder}. Archive that thread first.`
            })
          }
          return accept({ type: "thread.unarchived", payload: { threadId: thread.id } })
        },
        { allowArchived: true }
      )

    case "thread.delete":
      return withThread(
        model,
        command.threadId,
        (thread) =>
          thread.status !== "archived" || thread.deletedAt !== null
            ? reject({
                reason: "conflict",
                threadId: thread.id,
                message:
                  thread.deletedAt !== null
                    ? `Thread ${thread.id} is already deleted.`
                    : `Thread ${thread.id} must be archived before it is deleted.`
              })
            : accept({ type: "thread.deleted", payload: { threadId: thread.id } }),
        { allowArchived: true }
      )

    case "thread.worktree.record":
      return withThread(
        model,
        command.threadId,
        (thread) =>
          accept({
            type: "thread.worktree-cleaned",
            payload: { threadId: thread.id, cleanup: command.cleanup }
          }),
        { allowArchived: true }
      )

    case "thread.worktree.restore":
      return withThread(model, command.threadId, (thread) =>
        accept({
          type: "thread.worktree-restored",
          payload: { threadId: thread.id, worktreePath: command.worktreePath, branch: command.branch }
        })
      )

    case "thread.warn":
      // Said once: looking at the thread again refuses again, and records nothing new.
      return withThread(
        model,
        command.threadId,
        (thread) =>
          thread.warnings.includes(command.warning)
            ? accept()
            : accept({ type: "thread.warned", payload: { threadId: thread.id, warning: command.warning } }),
        { allowArchived: true, allowQueued: true }
      )

    case "thread.merge.record":
      // An archived thread's branch may still be merged; the merge is its history either way.
      return withThread(
        model,
        command.threadId,
        (thread) => accept({ type: "thread.merged", payload: { threadId: thread.id, merge: command.merge } }),
        { allowArchived: true }
      )

    case "project.overlap.record":
      return decideOverlap(command, model)
    case "thread.merge-conflict.record":
      return withThread(model, command.threadId, (thread) =>
        accept({
          type: "thread.merge-conflicted",
          payload: { threadId: thread.id, conflict: command.conflict }
        })
      )
    case "thread.changes.record":
      return withThread(model, command.threadId, (thread) => decideChanges(thread, command))
    case "project.notify.record":
      // A project removed while its notification was out has nothing left to show it on.
      return findProject(model, command.projectId) === undefined
        ? accept()
        : accept({
            type: command.outcome.ok ? "project.notify-delivered" : "project.notify-failed",
            payload: { projectId: command.projectId, outcome: command.outcome }
          })
    case "thread.wake":
      return withThread(model, command.threadId, (thread) => decideWake(thread, command, context))

    case "thread.check.record":
      // Recorded once per turn: a second run of the same turn's check (after a restart) is a no-op.
      return withThread(
        model,
        command.threadId,
        (thread) =>
          thread.check?.turnId === command.check.turnId
            ? accept()
            : accept({
                type: "thread.check-completed",
                payload: { threadId: thread.id, check: command.check }
              }),
        { allowArchived: true }
      )

    case "thread.idle.flag":
      return withThread(model, command.threadId, (thread) =>
        accept({
          type: "thread.flagged-idle",
          payload: { threadId: thread.id, idleSince: command.idleSince }
        })
      )
  }
}
