// Pure decisions about a thread's creation and bootstrap: the thread itself (admitted against
// the limits), then each stage the dispatcher records (attachments, ports, workspace, setup runs,
// the first turn's request) and how the bootstrap ends.
import type { Command, Thread } from "@spindle/contracts"
import { checkoutOn, hasCheckoutOn, type ReadModel } from "@spindle/read-model"
import * as Result from "effect/Result"
import { portHolder } from "../domain/ports.ts"
import { admitInOrder } from "./admission.ts"
import {
  accept,
  type DecideContext,
  type Decision,
  findProject,
  findThread,
  inBootstrap,
  projectNotFound,
  reject,
  withThread
} from "./decision.ts"

export const decideBootstrap = (
  command: Extract<
    Command,
    {
      type:
        | "thread.create"
        | "thread.bootstrap.begin"
        | "thread.attachments.record"
        | "thread.ports.assign"
        | "thread.workspace.record"
        | "thread.setup.start"
        | "thread.setup.finish"
        | "thread.turn.request"
        | "thread.bootstrap.fail"
        | "thread.bootstrap.complete"
    }
  >,
  model: ReadModel,
  context: DecideContext
): Decision => {
  const { now } = context
  switch (command.type) {
    case "thread.create":
    case "thread.bootstrap.begin": {
      const project = findProject(model, command.projectId)
      if (project === undefined) return projectNotFound(command.projectId)
      // A thread runs where its worktree is made: a host with a checkout of the project.
      if (!hasCheckoutOn(project, context.hostId)) {
        return reject({
          reason: "unavailable",
          projectId: project.id,
          message: `Project ${project.id} has no checkout on this host, so its threads cannot run here. Add one (spindle project checkout add ${project.id} <path of a clone>), or start the thread on a host that has one.`
        })
      }
      const existing = findThread(model, command.threadId)
      const bootstrapping = command.type === "thread.bootstrap.begin"
      const fromQueue = bootstrapping && command.fromQueue === true
      const restart =
        existing !== undefined &&
        bootstrapping &&
        !fromQueue &&
        existing.bootstrap.status === "failed" &&
        existing.status === "active" &&
        existing.projectId === command.projectId
      const dequeue =
        existing !== undefined &&
        fromQueue &&
        existing.status === "queued" &&
        existing.projectId === command.projectId
      if (fromQueue && !dequeue) {
        return reject({
          reason: "conflict",
          threadId: command.threadId,
          message: `Thread ${command.threadId} is not queued (${existing === undefined ? "it does not exist" : `its status is ${existing.status}`}), so there is nothing to start from the queue.`
        })
      }
      if (existing !== undefined && !restart && !dequeue) {
        return reject({
          reason: "conflict",
          threadId: command.threadId,
          message: `Thread ${command.threadId} already exists. Use a new threadId, or start a turn on it without bootstrap.`
        })
      }
      const runtimeMode = command.runtimeMode ?? project.defaultRuntimeMode
      const interactionMode = command.interactionMode ?? "default"
      const provider = command.provider ?? project.defaultProvider
      const admitted = admitInOrder(
        model,
        {
          threadId: command.threadId,
          projectId: project.id,
          parentThreadId: bootstrapping ? command.parentThreadId : null,
          provider,
          runtimeMode,
          interactionMode,
          bootstrap: bootstrapping,
          bindsWorktree:
            bootstrapping && command.workspaceMode === "existing_worktree" ? command.worktreePath : null,
          restart,
          host: context.hostId ?? null
        },
        context.limits
      )
      // Past a limit that frees as threads end, a start that may wait is queued instead (not a
      // restart of a failed thread, which is refused as before); one already queued stays queued.
      const queueRequest = bootstrapping && !restart && !dequeue ? command.queue : undefined
      const wait = Result.isFailure(admitted) ? admitted.failure.wait : undefined
      if (Result.isFailure(admitted) && (queueRequest === undefined || wait === undefined)) {
        return Result.fail(admitted.failure.error)
      }
      if (dequeue && bootstrapping) {
        return accept({
          type: "thread.dequeued",
          payload: {
            threadId: command.threadId,
            workspaceMode: command.workspaceMode,
            worktreePath: command.worktreePath,
            runSetupScript: command.runSetupScript,
            ...(context.hostId === undefined ? {} : { host: context.hostId })
          }
        })
      }
      const thread: Thread = {
        id: command.threadId,
        projectId: project.id,
        host: context.hostId ?? null,
        parentThreadId: bootstrapping ? command.parentThreadId : null,
        title: command.title,
        tags: command.tags ?? [],
        provider,
        model: command.model ?? project.defaultModel,
        runtimeMode,
        interactionMode,
        status: "active",
        workspace: bootstrapping
          ? {
              mode: command.workspaceMode,
              branch: null,
              worktreePath: command.worktreePath,
              baseBranch: null,
              createdByUs: false
            }
          : {
              mode: "current_checkout",
              branch: null,
              worktreePath: checkoutOn(project, context.hostId) ?? project.workspaceRoot,
              baseBranch: null,
              createdByUs: false
            },
        bootstrap: { status: bootstrapping ? "running" : "none", stage: null, error: null },
        setup: {
          status: bootstrapping && command.runSetupScript ? "pending" : "not-requested",
          runs: 0,
          exitCode: null,
          signal: null,
          durationMs: null,
          logTail: ""
        },
        session: { status: "none", providerSessionId: null, resumeCursor: null, error: null, reason: null },
        latestTurn: null,
        pendingApprovals: [],
        childNotices: [],
        attachments: [],
        ports: null,
        cleanup: null,
        idleSince: null,
        warnings: [],
        agentNotices: [],
        merged: null,
        onDone: command.onDone ?? "none",
        wokenAt: [],
        deletedAt: null,
        queue: null,
        attempt: bootstrapping && command.attempt !== undefined ? command.attempt : null,
        check: null,
        changes: null,
        mergeConflict: null,
        createdAt: now,
        updatedAt: now,
        archivedAt: null
      }
      if (queueRequest !== undefined && wait !== undefined) {
        return accept({
          type: "thread.queued",
          payload: {
            // No workspace, setup or bootstrap until it leaves the queue (thread.dequeued).
            thread: {
              ...thread,
              // Any host with a checkout may take it from the queue, unless the caller named this
              // one or it is an agent's child (its base branch is on its parent's host).
              host:
                thread.parentThreadId !== null ||
                queueRequest.command.bootstrap?.createThread.host !== undefined
                  ? thread.host
                  : null,
              status: "queued",
              workspace: { ...thread.workspace, worktreePath: null },
              bootstrap: { status: "none", stage: null, error: null },
              setup: { ...thread.setup, status: "not-requested" }
            },
            waitsFor: wait,
            request: queueRequest
          }
        })
      }
      return accept({ type: "thread.created", payload: { thread } })
    }

    case "thread.attachments.record":
      return withThread(model, command.threadId, (thread) =>
        inBootstrap(thread, () =>
          accept({
            type: "thread.attachments-added",
            payload: { threadId: thread.id, attachments: command.attachments }
          })
        )
      )

    case "thread.ports.assign":
      return withThread(model, command.threadId, (thread) => {
        const holder = command.ports === null ? undefined : portHolder(model, command.ports, thread.id)
        if (holder !== undefined) {
          return reject({
            reason: "conflict",
            threadId: thread.id,
            message: `Ports ${command.ports?.first}+${command.ports?.count} overlap those of thread ${holder.id}.`
          })
        }
        return accept({
          type: "thread.ports-assigned",
          payload: { threadId: thread.id, ports: command.ports }
        })
      })

    case "thread.workspace.record":
      return withThread(model, command.threadId, (thread) =>
        inBootstrap(thread, () =>
          accept({
            type: "thread.workspace-prepared",
            payload: { threadId: thread.id, workspace: command.workspace, warnings: command.warnings }
          })
        )
      )

    case "thread.setup.start":
      return withThread(model, command.threadId, (thread) => {
        if (command.run !== thread.setup.runs + 1) {
          return reject({
            reason: "conflict",
            threadId: thread.id,
            message: `Setup run ${command.run} is out of order: thread ${thread.id} has had ${thread.setup.runs} run(s).`
          })
        }
        if (thread.setup.status === "running") {
          return reject({
            reason: "conflict",
            threadId: thread.id,
            message: `Setup is already running for thread ${thread.id}.`
          })
        }
        return accept({
          type: "thread.setup-started",
          payload: { threadId: thread.id, run: command.run, logPath: command.logPath }
        })
      })

    case "thread.setup.finish":
      return withThread(
        model,
        command.threadId,
        (thread) => {
          // A run shown interrupted because its end could not be recorded may still get its real end.
          const open = thread.setup.status === "running" || thread.setup.status === "interrupted"
          if (command.run !== thread.setup.runs || !open) {
            return reject({
              reason: "conflict",
              threadId: thread.id,
              message: `Setup run ${command.run} of thread ${thread.id} is not the one running.`
            })
          }
          const { type: _type, commandId: _commandId, ...payload } = command
          return accept({ type: "thread.setup-completed", payload })
        },
        { allowArchived: true }
      )

    case "thread.turn.request":
      return withThread(model, command.threadId, (thread) =>
        accept({
          type: "thread.turn-start-requested",
          payload: {
            threadId: thread.id,
            turnId: command.turnId,
            prompt: command.prompt.trim(),
            ...(command.attachments === undefined ? {} : { attachments: command.attachments })
          }
        })
      )

    case "thread.bootstrap.fail":
      return withThread(
        model,
        command.threadId,
        (thread) => {
          const failed = accept({
            type: "thread.bootstrap-failed",
            payload: { threadId: thread.id, stage: command.stage, error: command.error }
          })
          // A queued start whose request no longer holds when its turn comes fails where it waits.
          if (thread.status === "queued") return failed
          // A start refused before it made anything cannot fail a bootstrap another start runs.
          if (command.stage === "validate") {
            return reject({
              reason: "conflict",
              threadId: thread.id,
              message: `Thread ${thread.id} is no longer queued: a refusal before anything was made does not fail its bootstrap.`
            })
          }
          return inBootstrap(thread, () => failed)
        },
        { allowArchived: true, allowQueued: true }
      )

    case "thread.bootstrap.complete":
      return withThread(model, command.threadId, (thread) =>
        inBootstrap(thread, () =>
          accept({ type: "thread.bootstrap-completed", payload: { threadId: thread.id } })
        )
      )
  }
}
