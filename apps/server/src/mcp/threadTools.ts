// The thread tools an agent calls over MCP: t3_thread_start (start a child thread), t3_thread_status
// and t3_thread_list (read the children). Checks the session's capabilities and limits, builds one
// bootstrapped thread.turn.start and hands it to the same door every transport uses.
import { createHash } from "node:crypto"
import {
  type BootstrapResult,
  type ChildThreadStatus,
  SpindleError,
  type Thread,
  type ThreadId,
  type ThreadStartInput,
  type ThreadStartOutput
} from "@spindle/contracts"
import { randomHex } from "@spindle/shared/random"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import { ServerConfig } from "../config/ServerConfig.ts"
import { Commands } from "../orchestration/Commands.ts"
import { Engine } from "../orchestration/Engine.ts"
import { StartupGate } from "../orchestration/StartupGate.ts"
import type { McpInvocationContext, ProviderCapability } from "./McpInvocationContext.ts"

const forbidden = (capability: ProviderCapability) =>
  new SpindleError({
    reason: "forbidden",
    message: `This session's token lacks the ${capability} capability. Ask the user to start the thread from the Spindle app or CLI instead.`
  })

const requireCapability = (context: McpInvocationContext, capability: ProviderCapability) =>
  context.capabilities.includes(capability) ? Effect.void : Effect.fail(forbidden(capability))

/** The invoking thread, which must still exist and be active. */
const invokingThread = (engine: Engine["Service"], context: McpInvocationContext) =>
  Effect.gen(function* () {
    const thread = yield* engine.getThread(context.threadId)
    if (thread === undefined || thread.status !== "active") {
      return yield* new SpindleError({
        reason: "forbidden",
        threadId: context.threadId,
        message: `The thread this session belongs to (${context.threadId}) no longer exists or is archived; its token cannot start threads.`
      })
    }
    return thread
  })

/** How many ancestors a thread has. */
const depthOf = (threads: HashMap.HashMap<ThreadId, Thread>, thread: Thread) => {
  let depth = 0
  let current: Thread | undefined = thread
  while (current?.parentThreadId && depth < 100) {
    depth++
    const next: Option.Option<Thread> = HashMap.get(threads, current.parentThreadId)
    current = Option.getOrUndefined(next)
  }
  return depth
}

const AUTONOMY: Record<Thread["runtimeMode"], number> = {
  "approval-required": 0,
  "auto-accept-edits": 1,
  "full-access": 2
}

const hashId = (prefix: string, ...parts: Array<string>) =>
  `${prefix}${createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 20)}`

/** The whole start waits in the startup gate: its checks read state that is only whole once ready. */
export const startThread = (context: McpInvocationContext, input: ThreadStartInput) =>
  Effect.gen(function* () {
    const gate = yield* StartupGate
    return yield* gate.enqueue(startThreadNow(context, input))
  })

/** Reads answer at once, but not from a model that is still catching up. */
const whenReady = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const gate = yield* StartupGate
    const state = yield* gate.state
    if (state.status !== "ready") {
      return yield* new SpindleError({
        reason: "unavailable",
        message: "Spindle is still starting (or failed to start); try again in a few seconds."
      })
    }
    return yield* effect
  })

const startThreadNow = (context: McpInvocationContext, input: ThreadStartInput) =>
  Effect.gen(function* () {
    const engine = yield* Engine
    const commands = yield* Commands
    const config = yield* ServerConfig
    yield* requireCapability(context, "thread-management")
    const parent: Thread = yield* invokingThread(engine, context)
    const model = yield* engine.readModel
    const depth = depthOf(model.threads, parent) + 1
    if (depth > config.limits.spawnDepth) {
      return yield* new SpindleError({
        reason: "capacity",
        threadId: parent.id,
        message: `Threads may only be nested ${config.limits.spawnDepth} deep, and this one would be at depth ${depth}. Do the work in this thread instead.`
      })
    }
    const children = HashMap.size(
      HashMap.filter(model.threads, (t) => t.parentThreadId === parent.id && t.status === "active")
    )
    // A retry with the same clientRequestId is the same command: it returns the same thread.
    const retryKey = input.clientRequestId
    const existingChild =
      retryKey === undefined
        ? undefined
        : HashMap.get(model.threads, hashId("t-", parent.id, retryKey) as ThreadId)
    if (
      children >= config.limits.childrenPerThread &&
      (existingChild === undefined || existingChild._tag === "None")
    ) {
      return yield* new SpindleError({
        reason: "capacity",
        threadId: parent.id,
        message: `This thread already has ${children} active child threads (the limit is ${config.limits.childrenPerThread}). Wait for one to finish or ask the user to archive some.`
      })
    }
    // An agent may hand its child less autonomy than it has, never more.
    if (input.runtimeMode !== undefined && AUTONOMY[input.runtimeMode] > AUTONOMY[parent.runtimeMode]) {
      return yield* new SpindleError({
        reason: "forbidden",
        field: "runtimeMode",
        message: `This thread runs in ${parent.runtimeMode} mode and cannot start a child in ${input.runtimeMode} mode. Leave runtimeMode out, or ask the user to start that thread from the Spindle app or CLI.`
      })
    }
    const project = yield* engine.getProject(context.projectId)
    if (project === undefined) {
      return yield* new SpindleError({
        reason: "not-found",
        message: `Project ${context.projectId} no longer exists.`
      })
    }
    const mode = input.mode ?? "new_worktree"
    const baseBranch =
      mode !== "new_worktree"
        ? undefined
        : (input.baseBranch ??
          (input.baseBranchSource === "source" ? parent.workspace.branch : null) ??
          project.defaultBranch ??
          parent.workspace.branch ??
          undefined)
    if (mode === "new_worktree" && baseBranch === undefined) {
      return yield* new SpindleError({
        reason: "validation",
        field: "baseBranch",
        message:
          "Could not tell which branch to start from (no default branch, and this thread has none). Pass baseBranch."
      })
    }
    const suffix = retryKey === undefined ? yield* randomHex(10) : undefined
    const threadId = retryKey === undefined ? `t-${suffix}` : hashId("t-", parent.id, retryKey)
    const commandId = retryKey === undefined ? `mcp-${suffix}` : hashId("mcp-", parent.id, retryKey)
    const command = {
      type: "thread.turn.start",
      commandId,
      threadId,
      prompt: input.prompt,
      bootstrap: {
        createThread: {
          projectId: project.id,
          ...(input.title === undefined ? {} : { title: input.title }),
          ...(input.tags === undefined ? {} : { tags: input.tags }),
          provider: input.provider ?? parent.provider,
          ...((input.model ?? parent.model) === null ? {} : { model: input.model ?? parent.model }),
          runtimeMode: input.runtimeMode ?? parent.runtimeMode,
          interactionMode: input.interactionMode ?? parent.interactionMode
        },
        workspace: {
          mode,
          ...(input.branch === undefined ? {} : { branch: input.branch }),
          ...(baseBranch === undefined ? {} : { baseBranch }),
          ...(input.worktreePath === undefined ? {} : { worktreePath: input.worktreePath })
        },
        ...(input.runSetupScript === undefined ? {} : { runSetupScript: input.runSetupScript })
      }
    }
    const result = (yield* commands.dispatch(
      command,
      { kind: "provider-session", sessionId: context.providerSessionId },
      { await: "workspace", parent: { threadId: parent.id, worktreePath: parent.workspace.worktreePath } }
    )) as BootstrapResult
    return {
      threadId: result.threadId,
      projectId: result.projectId,
      parentThreadId: result.parentThreadId,
      mode: result.mode,
      branch: result.branch,
      worktreePath: result.worktreePath,
      baseBranch: result.baseBranch,
      setup: result.setup,
      turn: result.turn,
      warnings: result.warnings
    } satisfies ThreadStartOutput
  })

const statusOf = (thread: Thread): ChildThreadStatus => ({
  threadId: thread.id,
  title: thread.title,
  status: thread.status,
  bootstrap: {
    status: thread.bootstrap.status,
    stage: thread.bootstrap.stage,
    error: thread.bootstrap.error?.message ?? null
  },
  setup: { status: thread.setup.status, logTail: thread.setup.logTail },
  turn: { status: thread.latestTurn?.status ?? null },
  worktreePath: thread.workspace.worktreePath,
  branch: thread.workspace.branch
})

export const threadStatus = (context: McpInvocationContext, threadId: ThreadId) =>
  whenReady(
    Effect.gen(function* () {
      const engine = yield* Engine
      yield* requireCapability(context, "thread-read")
      const thread = yield* engine.getThread(threadId)
      if (thread === undefined || thread.parentThreadId !== context.threadId) {
        return yield* new SpindleError({
          reason: "forbidden",
          threadId,
          message: `Thread ${threadId} is not one this thread started; only its own child threads can be read. List them with t3_thread_list.`
        })
      }
      return statusOf(thread)
    })
  )

export const listThreads = (context: McpInvocationContext) =>
  whenReady(
    Effect.gen(function* () {
      const engine = yield* Engine
      yield* requireCapability(context, "thread-read")
      const model = yield* engine.readModel
      const children = Array.from(HashMap.values(model.threads))
        .filter((t) => t.parentThreadId === context.threadId)
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
      return { threads: children.map(statusOf) }
    })
  )
