// Pure decisions: (command, read model, now) -> events, or the error to answer. No I/O, no clock,
// no randomness: whatever a command needs from the outside world (resolved paths, detected
// branches) is filled in before it gets here.
import {
  type Command,
  DEFAULT_PORT_COUNT,
  DEFAULT_RETENTION,
  DEFAULT_SETUP_TIMEOUT_SECONDS,
  type EventDraft,
  type Project,
  type ProjectId,
  SpindleError,
  type Thread,
  type ThreadId
} from "@spindle/contracts"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import type { Limits } from "../config/ServerConfig.ts"
import { portHolder } from "../domain/ports.ts"
import type { ReadModel } from "../domain/readModel.ts"
import { admit, checkActiveLimit, worktreeHolder } from "./admission.ts"
import * as notFound from "./notFound.ts"
import {
  decideApprovalResponse,
  decideInterrupt,
  decideProviderReport,
  decideTurnStart
} from "./turnDecider.ts"

export interface DecideContext {
  /** The ISO timestamp the resulting events will carry. */
  readonly now: string
  /** The limits admission checks new threads against. */
  readonly limits: Limits
}

export type Decision = Result.Result<ReadonlyArray<EventDraft>, SpindleError>

const accept = (...events: ReadonlyArray<EventDraft>): Decision => Result.succeed(events)
const reject = (fields: ConstructorParameters<typeof SpindleError>[0]): Decision =>
  Result.fail(new SpindleError(fields))

const findProject = (model: ReadModel, id: ProjectId) =>
  Option.getOrUndefined(HashMap.get(model.projects, id))
const findThread = (model: ReadModel, id: ThreadId) => Option.getOrUndefined(HashMap.get(model.threads, id))

const projectNotFound = (projectId: ProjectId): Decision => Result.fail(notFound.projectNotFound(projectId))

const threadNotFound = (threadId: ThreadId): Decision => Result.fail(notFound.threadNotFound(threadId))

/** A project's default title: its folder's name, made a valid one-line title (the folder may not be). */
const titleFromPath = (path: string) => {
  const name = (path.replace(/\/+$/, "").split("/").pop() ?? "")
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is dropped
    .replace(/[\u0000-\u001f\u007f\ufffd]/gu, "")
    .trim()
    .slice(0, 200)
    .trim()
  return /[\p{L}\p{N}\p{P}\p{S}]/u.test(name) ? name : "project"
}

/** A thread's decisions that need it to exist (and, unless said otherwise, be active). */
const withThread = (
  model: ReadModel,
  threadId: ThreadId,
  f: (thread: Thread) => Decision,
  options?: { readonly allowArchived?: boolean }
): Decision => {
  const thread = findThread(model, threadId)
  if (thread === undefined) return threadNotFound(threadId)
  if (thread.status === "archived" && options?.allowArchived !== true) {
    return reject({
      reason: "conflict",
      threadId,
      message: `Thread ${threadId} is archived. Start a new thread instead.`
    })
  }
  return f(thread)
}

const inBootstrap = (thread: Thread, f: () => Decision): Decision =>
  thread.bootstrap.status === "running"
    ? f()
    : reject({
        reason: "conflict",
        threadId: thread.id,
        message: `Thread ${thread.id} is not being bootstrapped (bootstrap status: ${thread.bootstrap.status}).`
      })

export const decide = (command: Command, model: ReadModel, context: DecideContext): Decision => {
  const { now } = context
  switch (command.type) {
    case "project.create": {
      if (findProject(model, command.projectId) !== undefined) {
        return reject({
          reason: "conflict",
          projectId: command.projectId,
          message: `Project ${command.projectId} already exists. Choose another id, or update it with project.update.`
        })
      }
      const existing = HashMap.findFirst(model.projects, (p) => p.workspaceRoot === command.workspaceRoot)
      if (Option.isSome(existing)) {
        const [id] = existing.value
        return reject({
          reason: "conflict",
          projectId: id,
          path: command.workspaceRoot,
          message: `The repository ${command.workspaceRoot} is already registered as project ${id}. Use that project instead.`
        })
      }
      const project: Project = {
        id: command.projectId,
        title: command.title ?? titleFromPath(command.workspaceRoot),
        workspaceRoot: command.workspaceRoot,
        defaultBranch: command.defaultBranch ?? null,
        setupScript: command.setupScript ?? null,
        setupTimeoutSeconds: command.setupTimeoutSeconds ?? DEFAULT_SETUP_TIMEOUT_SECONDS,
        setupEnv: command.setupEnv ?? {},
        initSubmodules: command.initSubmodules ?? false,
        defaultProvider: command.defaultProvider ?? "codex",
        defaultModel: command.defaultModel ?? null,
        codexBin: command.codexBin ?? null,
        codexConfig: command.codexConfig ?? [],
        agentCommand: command.agentCommand ?? null,
        worktreePoolSize: command.worktreePoolSize ?? 0,
        portCount: command.portCount ?? DEFAULT_PORT_COUNT,
        retention: command.retention ?? DEFAULT_RETENTION,
        createdAt: now,
        updatedAt: now
      }
      return accept({ type: "project.created", payload: { project } })
    }

    case "project.update": {
      if (findProject(model, command.projectId) === undefined) return projectNotFound(command.projectId)
      const { type: _type, commandId: _commandId, projectId, ...changes } = command
      if (Object.keys(changes).length === 0) {
        return reject({
          reason: "validation",
          projectId,
          message: "project.update changes nothing: give at least one setting to change."
        })
      }
      return accept({ type: "project.updated", payload: { projectId, changes } })
    }

    case "project.remove": {
      if (findProject(model, command.projectId) === undefined) return projectNotFound(command.projectId)
      const active = HashMap.size(
        HashMap.filter(model.threads, (t) => t.projectId === command.projectId && t.status === "active")
      )
      if (active > 0) {
        return reject({
          reason: "conflict",
          projectId: command.projectId,
          message: `Project ${command.projectId} still has ${active} active thread(s). Archive them first ('spindle thread archive <id>'), or remove the project with --archive-threads.`
        })
      }
      return accept({ type: "project.deleted", payload: { projectId: command.projectId } })
    }

    case "thread.create":
    case "thread.bootstrap.begin": {
      const project = findProject(model, command.projectId)
      if (project === undefined) return projectNotFound(command.projectId)
      const existing = findThread(model, command.threadId)
      const bootstrapping = command.type === "thread.bootstrap.begin"
      const restart =
        existing !== undefined &&
        bootstrapping &&
        existing.bootstrap.status === "failed" &&
        existing.status === "active" &&
        existing.projectId === command.projectId
      if (existing !== undefined && !restart) {
        return reject({
          reason: "conflict",
          threadId: command.threadId,
          message: `Thread ${command.threadId} already exists. Use a new threadId, or start a turn on it without bootstrap.`
        })
      }
      const runtimeMode = command.runtimeMode ?? "full-access"
      const interactionMode = command.interactionMode ?? "default"
      const admitted = admit(
        model,
        {
          threadId: command.threadId,
          projectId: project.id,
          parentThreadId: bootstrapping ? command.parentThreadId : null,
          runtimeMode,
          interactionMode,
          bootstrap: bootstrapping,
          bindsWorktree:
            bootstrapping && command.workspaceMode === "existing_worktree" ? command.worktreePath : null,
          restart
        },
        context.limits
      )
      if (Result.isFailure(admitted)) return Result.fail(admitted.failure)
      if (restart && bootstrapping) {
        return accept({
          type: "thread.bootstrap-restarted",
          payload: {
            threadId: command.threadId,
            workspaceMode: command.workspaceMode,
            worktreePath: command.worktreePath,
            runSetupScript: command.runSetupScript
          }
        })
      }
      const thread: Thread = {
        id: command.threadId,
        projectId: project.id,
        parentThreadId: bootstrapping ? command.parentThreadId : null,
        title: command.title,
        tags: command.tags ?? [],
        provider: command.provider ?? project.defaultProvider,
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
              worktreePath: project.workspaceRoot,
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
        session: { status: "none", providerSessionId: null, resumeCursor: null, error: null },
        latestTurn: null,
        pendingApprovals: [],
        childNotices: [],
        attachments: [],
        ports: null,
        cleanup: null,
        idleSince: null,
        deletedAt: null,
        createdAt: now,
        updatedAt: now,
        archivedAt: null
      }
      return accept({ type: "thread.created", payload: { thread } })
    }

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
      return withThread(model, command.threadId, (thread) => decideTurnStart(thread, command))
    }

    case "thread.turn.interrupt":
      return withThread(model, command.threadId, (thread) => decideInterrupt(thread, command))

    case "thread.approval.respond":
      return withThread(model, command.threadId, (thread) => decideApprovalResponse(thread, command))

    case "thread.attachments.record":
      return withThread(model, command.threadId, (thread) =>
        inBootstrap(thread, () =>
          accept({
            type: "thread.attachments-added",
            payload: { threadId: thread.id, attachments: command.attachments }
          })
        )
      )

    case "thread.child.notify":
      return withThread(model, command.threadId, (parent) =>
        accept({ type: "thread.child-notified", payload: { threadId: parent.id, notice: command.notice } })
      )

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
      return withThread(model, command.threadId, (thread) =>
        thread.bootstrap.status === "running"
          ? reject({
              reason: "conflict",
              threadId: thread.id,
              message: `Thread ${thread.id} is still being bootstrapped. Wait for it ('spindle thread wait ${thread.id} --for setup-completed'), then archive it.`
            })
          : accept({ type: "thread.archived", payload: { threadId: thread.id } })
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
          if (findProject(model, thread.projectId) === undefined) return projectNotFound(thread.projectId)
          const limit = checkActiveLimit(model, thread.projectId, context.limits)
          if (Result.isFailure(limit)) return Result.fail(limit.failure)
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

    case "thread.idle.flag":
      return withThread(model, command.threadId, (thread) =>
        accept({
          type: "thread.flagged-idle",
          payload: { threadId: thread.id, idleSince: command.idleSince }
        })
      )

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
        (thread) =>
          inBootstrap(thread, () =>
            accept({
              type: "thread.bootstrap-failed",
              payload: { threadId: thread.id, stage: command.stage, error: command.error }
            })
          ),
        { allowArchived: true }
      )

    case "thread.bootstrap.complete":
      return withThread(model, command.threadId, (thread) =>
        inBootstrap(thread, () =>
          accept({ type: "thread.bootstrap-completed", payload: { threadId: thread.id } })
        )
      )
  }
}
