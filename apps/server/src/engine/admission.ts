// Admission: whether a new thread (or a bootstrap restarted on a failed one) may start, decided by
// the decider inside the single writer against the model as it is at that instant, so concurrent
// requests cannot slip past a limit between a check and the reservation. Pure; the rules for
// an agent's child (depth, children, autonomy) and for everyone (active threads, bootstrap slots,
// worktree binding) live only here.
import { type ProjectId, SpindleError, type Thread, type ThreadId } from "@spindle/contracts"
import type { ReadModel } from "@spindle/read-model"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import type { Limits } from "../config/ServerConfig.ts"

export interface AdmissionRequest {
  readonly threadId: ThreadId
  readonly projectId: ProjectId
  /** The agent's thread when an agent asks. */
  readonly parentThreadId: ThreadId | null
  readonly provider: Thread["provider"]
  readonly runtimeMode: Thread["runtimeMode"]
  readonly interactionMode: Thread["interactionMode"]
  /** True for a bootstrap, which holds one of the project's bootstrap slots while it runs. */
  readonly bootstrap: boolean
  /** The existing worktree this thread binds to (`existing_worktree`), which no other may hold. */
  readonly bindsWorktree: string | null
  /** A failed bootstrap started again on its own thread: it already counts as active. */
  readonly restart: boolean
}

/**
 * How much an agent may do on the host without asking, least to most: a child never gets more than
 * its parent. `sandboxed` asks nothing inside its sandbox (worktree writes, commands, no network)
 * where the two below ask before each command, and less than `full-access`, which has no sandbox.
 */
const AUTONOMY: Record<Thread["runtimeMode"], number> = {
  "approval-required": 0,
  "auto-accept-edits": 1,
  sandboxed: 2,
  "full-access": 3
}

/**
 * The mode a thread's agent effectively runs in: a command agent has no sandbox and no approvals
 * whatever its runtimeMode says, so it counts as full-access, for a child and for a parent alike.
 */
export const effectiveMode = (thread: Pick<Thread, "provider" | "runtimeMode">): Thread["runtimeMode"] =>
  thread.provider === "command" ? "full-access" : thread.runtimeMode
/** `plan` only plans; `default` may change things. */
const FREEDOM: Record<Thread["interactionMode"], number> = { plan: 0, default: 1 }

const refuse = (fields: ConstructorParameters<typeof SpindleError>[0]) =>
  Result.fail(new SpindleError(fields))

/** Counted in one pass without building a filtered map: this runs inside the writer. */
const count = (model: ReadModel, keep: (thread: Thread) => boolean) =>
  HashMap.reduce(model.threads, 0, (n, thread) => (keep(thread) ? n + 1 : n))

/** How many ancestors a thread has (bounded, in case of a cycle in a damaged log). */
export const depthOf = (model: ReadModel, thread: Thread) => {
  let depth = 0
  let current: Thread | undefined = thread
  while (current?.parentThreadId && depth < 100) {
    depth++
    current = Option.getOrUndefined(HashMap.get(model.threads, current.parentThreadId))
  }
  return depth
}

/** The active thread, other than `threadId`, whose workspace is `path`. */
export const worktreeHolder = (model: ReadModel, path: string, threadId: ThreadId) =>
  Option.getOrUndefined(
    HashMap.findFirst(
      model.threads,
      (t) =>
        t.id !== threadId &&
        t.status === "active" &&
        t.bootstrap.status !== "failed" &&
        t.workspace.worktreePath === path
    )
  )?.[0]

const admitChild = (
  model: ReadModel,
  request: AdmissionRequest,
  parentId: ThreadId,
  limits: Limits
): Result.Result<void, SpindleError> => {
  const parent = Option.getOrUndefined(HashMap.get(model.threads, parentId))
  if (parent === undefined || parent.status !== "active") {
    return refuse({
      reason: "forbidden",
      threadId: parentId,
      message: `The thread asking (${parentId}) no longer exists or is archived, so it cannot start threads.`
    })
  }
  if (parent.projectId !== request.projectId) {
    return refuse({
      reason: "forbidden",
      threadId: parentId,
      projectId: request.projectId,
      message: `Thread ${parentId} may only start threads in its own project (${parent.projectId}).`
    })
  }
  const depth = depthOf(model, parent) + 1
  if (depth > limits.spawnDepth) {
    return refuse({
      reason: "capacity",
      threadId: parentId,
      message: `Threads may only be nested ${limits.spawnDepth} deep, and this one would be at depth ${depth}. Do the work in this thread instead.`
    })
  }
  if (!request.restart) {
    const children = count(model, (t) => t.parentThreadId === parentId && t.status === "active")
    if (children >= limits.childrenPerThread) {
      return refuse({
        reason: "capacity",
        threadId: parentId,
        message: `Thread ${parentId} already has ${children} active child threads (the limit is ${limits.childrenPerThread}). Wait for one to finish, or ask the user to archive some.`
      })
    }
  }
  const parentMode = effectiveMode(parent)
  if (AUTONOMY[effectiveMode(request)] > AUTONOMY[parentMode]) {
    const allowed = Object.keys(AUTONOMY)
      .filter((mode) => AUTONOMY[mode as Thread["runtimeMode"]] <= AUTONOMY[parentMode])
      .join(", ")
    return refuse(
      request.provider === "command" && parentMode !== "full-access"
        ? {
            reason: "forbidden",
            field: "provider",
            threadId: parentId,
            message: `Thread ${parentId} runs in ${parentMode} mode and cannot start a child with provider command: a command agent has no sandbox and no approvals, so only a full-access thread may start one. Use provider codex with runtimeMode ${allowed}, or ask the user to start that thread from the Spindle app or CLI.`
          }
        : {
            reason: "forbidden",
            field: "runtimeMode",
            threadId: parentId,
            message: `Thread ${parentId} runs in ${parentMode} mode and cannot start a child in ${request.runtimeMode} mode (allowed: ${allowed}). Leave runtimeMode out, or ask the user to start that thread from the Spindle app or CLI.`
          }
    )
  }
  if (FREEDOM[request.interactionMode] > FREEDOM[parent.interactionMode]) {
    return refuse({
      reason: "forbidden",
      field: "interactionMode",
      threadId: parentId,
      message: `Thread ${parentId} is in ${parent.interactionMode} mode and cannot start a child in ${request.interactionMode} mode. Leave interactionMode out, or ask the user to start that thread from the Spindle app or CLI.`
    })
  }
  return Result.void
}

/** Whether one more thread of the project may be active (a new one, or one unarchived). */
export const checkActiveLimit = (
  model: ReadModel,
  projectId: ProjectId,
  limits: Limits
): Result.Result<void, SpindleError> => {
  const active = count(model, (t) => t.projectId === projectId && t.status === "active")
  return active >= limits.activeThreadsPerProject
    ? refuse({
        reason: "capacity",
        projectId,
        message: `Project ${projectId} already has ${active} active threads (the limit is ${limits.activeThreadsPerProject}). Archive some, or raise --max-threads-per-project.`
      })
    : Result.void
}

export const admit = (
  model: ReadModel,
  request: AdmissionRequest,
  limits: Limits
): Result.Result<void, SpindleError> => {
  const { projectId } = request
  if (request.parentThreadId !== null) {
    const child = admitChild(model, request, request.parentThreadId, limits)
    if (Result.isFailure(child)) return child
  }
  if (!request.restart) {
    const limit = checkActiveLimit(model, projectId, limits)
    if (Result.isFailure(limit)) return limit
  }
  if (request.bootstrap) {
    const running = count(
      model,
      (t) => t.projectId === projectId && t.bootstrap.status === "running" && t.id !== request.threadId
    )
    if (running >= limits.bootstrapsPerProject) {
      return refuse({
        reason: "capacity",
        projectId,
        message: `Project ${projectId} is already bootstrapping ${running} threads (the limit is ${limits.bootstrapsPerProject}). Retry when one finishes, or raise --max-bootstraps-per-project.`
      })
    }
  }
  if (request.bindsWorktree !== null) {
    const holder = worktreeHolder(model, request.bindsWorktree, request.threadId)
    if (holder !== undefined) {
      return refuse({
        reason: "conflict",
        field: "bootstrap.workspace.worktreePath",
        path: request.bindsWorktree,
        message: `${request.bindsWorktree} is already the workspace of active thread ${holder}. Archive that thread first, or use another worktree.`
      })
    }
  }
  return Result.void
}
