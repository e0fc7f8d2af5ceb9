// Admission: whether a new thread (or a bootstrap restarted on a failed one, or a queued one) may
// start, decided by the decider inside the single writer against the model as it is at that
// instant, so concurrent requests cannot slip past a limit between a check and the reservation.
// Pure; the rules for an agent's child (depth, children, autonomy) and for everyone (active
// threads, bootstrap slots, running turns on the host, worktree binding, the queue's order) live
// only here. A refusal that only a moment's limit causes says what the start may wait for.
// What holds each slot is counted once per decision (occupancy.ts), not once per question.
import { type ProjectId, type QueueWait, SpindleError, type Thread, type ThreadId } from "@spindle/contracts"
import { hasCheckoutOn, type ReadModel } from "@spindle/read-model"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import type { Limits } from "../config/ServerConfig.ts"
import { asStarted, type Occupancy, occupancyOf } from "./occupancy.ts"

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
  /** The host it would run on, whose running turns it counts against; null: no hosts recorded. */
  readonly host: string | null
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
 * The mode a thread's agent effectively runs in: a command agent has no sandbox and no approvals,
 * and an ACP agent (claude, gemini, ...) has no sandbox and asks only when it chooses to, whatever
 * the runtimeMode says; so both count as full-access, for a child and for a parent alike.
 */
export const effectiveMode = (thread: Pick<Thread, "provider" | "runtimeMode">): Thread["runtimeMode"] =>
  thread.provider === "codex" ? thread.runtimeMode : "full-access"
/** `plan` only plans; `default` may change things. */
const FREEDOM: Record<Thread["interactionMode"], number> = { plan: 0, default: 1 }

/** Why a start may not begin now; with `wait` when it may wait in the queue instead. */
export interface Refusal {
  readonly error: SpindleError
  readonly wait?: QueueWait
}

const refuse = (fields: ConstructorParameters<typeof SpindleError>[0], wait?: QueueWait) =>
  Result.fail<Refusal>(
    wait === undefined ? { error: new SpindleError(fields) } : { error: new SpindleError(fields), wait }
  )

/** A limit's refusal says what to do, queued or not. */
const OR_QUEUE = "Leave queue unset (it defaults to true) to wait in the queue instead"

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
  occupancyOf(model).worktreeHolder(path, threadId)

/** Turn slots held on `host` (each host has its own `runningTurns`); null: on all hosts. */
export const turnSlotsInUse = (model: ReadModel, host: string | null = null) =>
  occupancyOf(model).turnSlotsOn(host)

/** The rules that no waiting will change (the parent, depth, autonomy): a start past them is refused. */
const checkChild = (
  model: ReadModel,
  request: AdmissionRequest,
  parentId: ThreadId,
  limits: Limits
): Result.Result<void, Refusal> => {
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
  const parentMode = effectiveMode(parent)
  if (AUTONOMY[effectiveMode(request)] > AUTONOMY[parentMode]) {
    const allowed = Object.keys(AUTONOMY)
      .filter((mode) => AUTONOMY[mode as Thread["runtimeMode"]] <= AUTONOMY[parentMode])
      .join(", ")
    return refuse(
      request.provider !== "codex" && parentMode !== "full-access"
        ? {
            reason: "forbidden",
            field: "provider",
            threadId: parentId,
            message: `Thread ${parentId} runs in ${parentMode} mode and cannot start a child with provider ${request.provider}: ${request.provider === "command" ? "a command agent has no sandbox and no approvals" : "an ACP agent has no sandbox and asks for approval only when it chooses to"}, so only a full-access thread may start one. Use provider codex with runtimeMode ${allowed}, or ask the user to start that thread from the Spindle app or CLI.`
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
): Result.Result<void, Refusal> => activeLimit(occupancyOf(model).activeIn(projectId), projectId, limits)

const activeLimit = (active: number, projectId: ProjectId, limits: Limits): Result.Result<void, Refusal> =>
  active >= limits.activeThreadsPerProject
    ? refuse(
        {
          reason: "capacity",
          projectId,
          message: `Project ${projectId} already has ${active} active threads (the limit is ${limits.activeThreadsPerProject}). Archive some, or raise --max-threads-per-project.`
        },
        { kind: "active-threads", limit: limits.activeThreadsPerProject }
      )
    : Result.void

/** The limits a moment sets (slots that free as threads end): a start past them may wait in the queue. */
const checkSlots = (
  occupancy: Occupancy,
  request: AdmissionRequest,
  limits: Limits
): Result.Result<void, Refusal> => {
  const { projectId, parentThreadId } = request
  if (parentThreadId !== null && !request.restart) {
    const children = occupancy.childrenOf(parentThreadId)
    if (children >= limits.childrenPerThread) {
      return refuse(
        {
          reason: "capacity",
          threadId: parentThreadId,
          message: `Thread ${parentThreadId} already has ${children} active child threads (the limit is ${limits.childrenPerThread}). Wait for one to finish, or ask the user to archive some. ${OR_QUEUE}.`
        },
        { kind: "children", limit: limits.childrenPerThread }
      )
    }
  }
  if (!request.restart) {
    const limit = activeLimit(occupancy.activeIn(projectId), projectId, limits)
    if (Result.isFailure(limit)) return limit
  }
  if (request.bootstrap) {
    const running = occupancy.bootstrapsIn(projectId, request.threadId)
    if (running >= limits.bootstrapsPerProject) {
      return refuse(
        {
          reason: "capacity",
          projectId,
          message: `Project ${projectId} is already bootstrapping ${running} threads (the limit is ${limits.bootstrapsPerProject}). Retry when one finishes, or raise --max-bootstraps-per-project. ${OR_QUEUE}.`
        },
        { kind: "bootstraps", limit: limits.bootstrapsPerProject }
      )
    }
    const inUse = occupancy.turnSlotsOn(request.host, request.threadId)
    if (inUse >= limits.runningTurns) {
      return refuse(
        {
          reason: "capacity",
          message: `This host already runs ${inUse} turns (the limit is ${limits.runningTurns}). Retry when one ends, or raise --max-running-turns. ${OR_QUEUE}.`
        },
        { kind: "running-turns", limit: limits.runningTurns }
      )
    }
  }
  return Result.void
}

/** Whether `request` may start now in `model`, whose slots `occupancy` counts. */
const admitIn = (
  model: ReadModel,
  occupancy: Occupancy,
  request: AdmissionRequest,
  limits: Limits
): Result.Result<void, Refusal> => {
  if (request.parentThreadId !== null) {
    const child = checkChild(model, request, request.parentThreadId, limits)
    if (Result.isFailure(child)) return child
  }
  if (request.bindsWorktree !== null) {
    const holder = occupancy.worktreeHolder(request.bindsWorktree, request.threadId)
    if (holder !== undefined) {
      return refuse({
        reason: "conflict",
        field: "bootstrap.workspace.worktreePath",
        path: request.bindsWorktree,
        message: `${request.bindsWorktree} is already the workspace of active thread ${holder}. Archive that thread first, or use another worktree.`
      })
    }
  }
  return checkSlots(occupancy, request, limits)
}

export const admit = (model: ReadModel, request: AdmissionRequest, limits: Limits) =>
  admitIn(model, occupancyOf(model), request, limits)

/**
 * Whether a queued thread may be taken from the queue by `host`: it is not held for another host
 * (named by its caller, or its parent's), and its project has a checkout there.
 */
export const placeableOn = (model: ReadModel, thread: Thread, host: string | null) => {
  if (host === null) return true
  if (thread.host !== null && thread.host !== host) return false
  const project = Option.getOrUndefined(HashMap.get(model.projects, thread.projectId))
  return project !== undefined && hasCheckoutOn(project, host)
}

/** What a queued thread asks for when `host` starts it from the queue. */
export const queuedRequest = (thread: Thread, host: string | null): AdmissionRequest => ({
  threadId: thread.id,
  projectId: thread.projectId,
  parentThreadId: thread.parentThreadId,
  provider: thread.provider,
  runtimeMode: thread.runtimeMode,
  interactionMode: thread.interactionMode,
  bootstrap: true,
  bindsWorktree: thread.workspace.mode === "existing_worktree" ? thread.workspace.worktreePath : null,
  restart: false,
  host
})

/** The model as if `thread` had left the queue and begun its bootstrap. */
const reserve = (model: ReadModel, thread: Thread, host: string | null): ReadModel => ({
  ...model,
  threads: HashMap.set(model.threads, thread.id, asStarted(thread, host))
})

/**
 * Walks the queue in order, each queued thread that may start taking its slot (in the model and
 * in `occupancy`, which it updates) before the next is looked at; stops at `until`, or once
 * `enough` of those that may start are found. Answers those and the model once they have.
 */
const walkQueue = (
  model: ReadModel,
  occupancy: Occupancy,
  limits: Limits,
  host: string | null,
  options: { readonly until?: ThreadId; readonly enough?: (startable: ThreadId) => boolean } = {}
) => {
  let reserved = model
  const startable: Array<ThreadId> = []
  for (const id of model.queue) {
    if (id === options.until) break
    const thread = Option.getOrUndefined(HashMap.get(model.threads, id))
    if (thread === undefined || thread.status !== "queued" || !placeableOn(model, thread, host)) continue
    if (Result.isSuccess(admitIn(reserved, occupancy, queuedRequest(thread, host), limits))) {
      reserved = reserve(reserved, thread, host)
      occupancy.reserve(thread, host)
      startable.push(id)
      if (options.enough?.(id) === true) break
    }
  }
  return { startable, reserved }
}

/**
 * The queued threads `host` may start now, next first, each leaving room for those before it.
 * Null: no hosts recorded (every thread is the one host's).
 */
export const startableQueued = (
  model: ReadModel,
  limits: Limits,
  host: string | null = null
): ReadonlyArray<ThreadId> => walkQueue(model, occupancyOf(model), limits, host).startable

/**
 * The first queued thread `host` may start now that `skip` does not pass over (those ahead of it
 * that may start keep their slots); undefined when there is none.
 */
export const nextStartable = (
  model: ReadModel,
  limits: Limits,
  host: string | null,
  skip: (threadId: ThreadId) => boolean
): ThreadId | undefined =>
  walkQueue(model, occupancyOf(model), limits, host, { enough: (id) => !skip(id) }).startable.find(
    (id) => !skip(id)
  )

/**
 * Admission that keeps the queue's order: a start (a newcomer, or a queued thread itself) takes
 * a slot only if every queued thread ahead of it that could start now still can; otherwise it
 * waits for what it would have taken.
 */
export const admitInOrder = (
  model: ReadModel,
  request: AdmissionRequest,
  limits: Limits
): Result.Result<void, Refusal> => {
  // Counted once: the walk below takes the slots of those ahead in the same count.
  const occupancy = occupancyOf(model)
  const now = admitIn(model, occupancy, request, limits)
  if (Result.isFailure(now) || model.queue.length === 0) return now
  const ahead = walkQueue(model, occupancy, limits, request.host, { until: request.threadId })
  if (ahead.startable.length === 0) return now
  const after = admitIn(ahead.reserved, occupancy, request, limits)
  if (Result.isSuccess(after) || after.failure.wait === undefined) return after
  return Result.fail({
    wait: after.failure.wait,
    error: new SpindleError({
      ...after.failure.error,
      reason: "capacity",
      message: `${ahead.startable.length} queued thread(s) ahead take the free slots: ${after.failure.error.message}`
    })
  })
}

const ordinal = (n: number) => {
  const tens = n % 100
  const suffix =
    tens >= 11 && tens <= 13 ? "th" : n % 10 === 1 ? "st" : n % 10 === 2 ? "nd" : n % 10 === 3 ? "rd" : "th"
  return `${n}${suffix}`
}

/** What a queued thread waits for, in words, with how much of it is in use now. */
export const describeWait = (model: ReadModel, thread: Thread, wait: QueueWait) => {
  const occupancy = occupancyOf(model)
  switch (wait.kind) {
    case "running-turns":
      return `waiting for a running-turn slot (${occupancy.turnSlotsOn(thread.host)} of ${wait.limit} in use)`
    case "active-threads":
      return `waiting for an active-thread slot in project ${thread.projectId} (${occupancy.activeIn(thread.projectId)} of ${wait.limit} in use)`
    case "children":
      return `waiting for a child slot under thread ${thread.parentThreadId} (${thread.parentThreadId === null ? 0 : occupancy.childrenOf(thread.parentThreadId)} of ${wait.limit} in use)`
    case "bootstraps":
      return `waiting for a bootstrap slot in project ${thread.projectId} (${occupancy.bootstrapsIn(thread.projectId)} of ${wait.limit} in use)`
  }
}

/** "queued: 3rd, waiting for a running-turn slot (2 of 2 in use)", or undefined when not queued. */
export const queueMessage = (model: ReadModel, thread: Thread) =>
  thread.status !== "queued" || thread.queue === null
    ? undefined
    : `queued: ${ordinal(thread.queue.position)}, ${describeWait(model, thread, thread.queue.waitsFor)}`
