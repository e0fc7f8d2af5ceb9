// What an agent may do with threads from inside its own: start a child (one bootstrapped
// thread.turn.start through the same door as every client, with the agent's thread as parent),
// read its children and list them. Which rights the caller has (its token's capabilities) is the
// transport's check; what a child may be (limits, depth, autonomy) is admission's, in the writer.
import { createHash } from "node:crypto"
import {
  type BootstrapResult,
  type ChildThreadStatus,
  type ProjectId,
  SpindleError,
  type Thread,
  type ThreadId,
  type ThreadStartInput,
  type ThreadStartOutput
} from "@spindle/contracts"
import { randomHex } from "@spindle/shared/random"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import { turnStateOf } from "../domain/turnState.ts"
import { Commands } from "./Commands.ts"
import { Engine } from "./Engine.ts"
import { StartupGate } from "./StartupGate.ts"

/** The thread an agent's session runs in, as its token says: never from tool input. */
export interface Caller {
  readonly threadId: ThreadId
  readonly projectId: ProjectId
  readonly providerSessionId: string
}

const hashId = (prefix: string, ...parts: Array<string>) =>
  `${prefix}${createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 20)}`

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
  turn: { status: turnStateOf(thread), reason: thread.latestTurn?.reason ?? null },
  worktreePath: thread.workspace.worktreePath,
  branch: thread.workspace.branch
})

/**
 * An agent names its retries with clientRequestId, never a commandId: a conflict on the command
 * derived from it is told in those words.
 */
const inAgentTerms = (error: SpindleError, input: ThreadStartInput): SpindleError =>
  error.reason === "conflict" && input.clientRequestId !== undefined && error.message.startsWith("commandId ")
    ? new SpindleError({
        reason: "conflict",
        field: "clientRequestId",
        ...(error.threadId === undefined ? {} : { threadId: error.threadId }),
        message: `clientRequestId ${input.clientRequestId} was already used by this thread for a different t3_thread_start (another prompt or other settings). Repeat the same call to get the same thread, or use a new clientRequestId for a new one.`
      })
    : error

export class ChildThreads extends Context.Service<
  ChildThreads,
  {
    /** Starts a child of the caller's thread; answers once its workspace exists. */
    readonly start: (
      caller: Caller,
      input: ThreadStartInput
    ) => Effect.Effect<ThreadStartOutput, SpindleError>
    readonly status: (caller: Caller, threadId: ThreadId) => Effect.Effect<ChildThreadStatus, SpindleError>
    readonly list: (
      caller: Caller
    ) => Effect.Effect<{ readonly threads: ReadonlyArray<ChildThreadStatus> }, SpindleError>
  }
>()("spindle/orchestration/ChildThreads") {
  static readonly layer = Layer.effect(
    ChildThreads,
    Effect.gen(function* () {
      const engine = yield* Engine
      const commands = yield* Commands
      const gate = yield* StartupGate

      /** Reads answer at once, but not from a model that is still catching up. */
      const whenReady = <A>(effect: Effect.Effect<A, SpindleError>) =>
        Effect.flatMap(gate.state, (state) =>
          state.status === "ready"
            ? effect
            : Effect.fail(
                new SpindleError({
                  reason: "unavailable",
                  message: "Spindle is still starting (or failed to start); try again in a few seconds."
                })
              )
        )

      /** The bootstrap command for a child; defaults the caller's thread decides (base branch, ids). */
      const childCommand = (caller: Caller, parent: Thread | undefined, input: ThreadStartInput) =>
        Effect.gen(function* () {
          const project = yield* engine.getProject(caller.projectId)
          const mode = input.mode ?? "new_worktree"
          const baseBranch =
            mode !== "new_worktree"
              ? undefined
              : (input.baseBranch ??
                (input.baseBranchSource === "source" ? parent?.workspace.branch : undefined) ??
                project?.defaultBranch ??
                parent?.workspace.branch ??
                undefined)
          // A retry with the same clientRequestId is the same command: it finds the same thread.
          const key = input.clientRequestId
          const suffix = key === undefined ? yield* randomHex(10) : undefined
          return {
            type: "thread.turn.start",
            commandId: key === undefined ? `mcp-${suffix}` : hashId("mcp-", caller.threadId, key),
            threadId: key === undefined ? `t-${suffix}` : hashId("t-", caller.threadId, key),
            prompt: input.prompt,
            bootstrap: {
              createThread: {
                projectId: caller.projectId,
                ...(input.title === undefined ? {} : { title: input.title }),
                ...(input.tags === undefined ? {} : { tags: input.tags }),
                ...(input.provider === undefined ? {} : { provider: input.provider }),
                ...(input.model === undefined ? {} : { model: input.model }),
                ...(input.runtimeMode === undefined ? {} : { runtimeMode: input.runtimeMode }),
                ...(input.interactionMode === undefined ? {} : { interactionMode: input.interactionMode })
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
        })

      const start = Effect.fn("ChildThreads.start")(function* (caller: Caller, input: ThreadStartInput) {
        // The whole start waits in the startup gate: the defaults read state that is only whole once ready.
        return yield* gate.enqueue(
          Effect.gen(function* () {
            const parent = yield* engine.getThread(caller.threadId)
            const command = yield* childCommand(caller, parent, input)
            const result = (yield* commands.dispatch(
              command,
              { kind: "provider-session", sessionId: caller.providerSessionId },
              {
                await: "workspace",
                parent: { threadId: caller.threadId, worktreePath: parent?.workspace.worktreePath ?? null }
              }
            )) as BootstrapResult
            const { sequence: _sequence, durationMs: _durationMs, ...output } = result
            return output satisfies ThreadStartOutput
          }).pipe(Effect.mapError((error) => inAgentTerms(error, input)))
        )
      })

      const status = Effect.fn("ChildThreads.status")(function* (caller: Caller, threadId: ThreadId) {
        return yield* whenReady(
          Effect.gen(function* () {
            const thread = yield* engine.getThread(threadId)
            if (thread === undefined || thread.parentThreadId !== caller.threadId) {
              return yield* new SpindleError({
                reason: "forbidden",
                threadId,
                message: `Thread ${threadId} is not one this thread started; only its own child threads can be read. List them with t3_thread_list.`
              })
            }
            return statusOf(thread)
          })
        )
      })

      const list = Effect.fn("ChildThreads.list")(function* (caller: Caller) {
        return yield* whenReady(
          Effect.map(engine.readModel, (model) => ({
            threads: Array.from(HashMap.values(model.threads))
              .filter((t) => t.parentThreadId === caller.threadId)
              .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
              .map(statusOf)
          }))
        )
      })

      return { start, status, list }
    })
  )
}
