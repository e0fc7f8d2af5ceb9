// What an agent may do with threads from inside its own: start children (one bootstrapped
// thread.turn.start each, through the same door as every client, with the agent's thread as
// parent; several in one call), read what they produced, wait for them, send them a prompt, stop
// them. Only its own children. Which rights the caller has (its token's capabilities) is the
// transport's check; what a child may be (limits, depth, autonomy) is admission's, in the writer.
import {
  type AttemptId,
  type BootstrapAnswer,
  DEFAULT_WAIT_SECONDS,
  type ProjectId,
  SpindleError,
  STOP_WAIT_SECONDS,
  type Thread,
  type ThreadAttempt,
  type ThreadId,
  type ThreadListOutput,
  type ThreadMergeRequest,
  type ThreadMergeResult,
  type ThreadOutput,
  type ThreadStartInput,
  type ThreadStartOutput,
  type ThreadStatusOutput,
  type ThreadStopOutput,
  type ThreadWaitInput,
  type ThreadWaitOutput,
  TurnId,
  VariantsRequest,
  variantSettings
} from "@spindle/contracts"
import { hasLiveTurn } from "@spindle/read-model"
import { hashId } from "@spindle/shared/hashId"
import { makeKeyedLock } from "@spindle/shared/keyedLock"
import { randomHex } from "@spindle/shared/random"
import { describeIssue } from "@spindle/shared/schemaIssue"
import { THREAD_ID_HEX, threadIdOf } from "@spindle/shared/threadIds"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { StartupGate } from "../bootstrap/StartupGate.ts"
import { ClusterCalls } from "../cluster/ClusterCalls.ts"
import { Commands } from "../commands/Commands.ts"
import { AdmissionLimits } from "../config/ServerConfig.ts"
import { Engine } from "../engine/Engine.ts"
import { ConflictRadar } from "../radar/ConflictRadar.ts"
import { ThreadWatch } from "../reads/ThreadWatch.ts"
import { Attempts } from "./Attempts.ts"
import { type BatchEntry, type BatchRequest, runBatch } from "./childBatch.ts"
import { ThreadMerge } from "./ThreadMerge.ts"

/** The thread an agent's session runs in, as its token says: never from tool input. */
export interface Caller {
  readonly threadId: ThreadId
  readonly projectId: ProjectId
  readonly providerSessionId: string
}

const notAChild = (threadId: ThreadId) =>
  new SpindleError({
    reason: "forbidden",
    threadId,
    message: `Thread ${threadId} is not one this thread started; only its own child threads can be read or steered. List them with t3_thread_list.`
  })

/**
 * A child busy with a turn its agent cannot take a prompt in, said in the tools an agent has (the
 * writer's refusal names the CLI, which an agent cannot run).
 */
const busyForAgent = (thread: Thread, error: SpindleError): SpindleError =>
  thread.latestTurn === null || !hasLiveTurn(thread)
    ? error
    : new SpindleError({
        reason: "conflict",
        threadId: thread.id,
        message: `Thread ${thread.id} is still ${thread.latestTurn.status === "running" ? "running" : "about to run"} turn ${thread.latestTurn.turnId}, and its ${thread.provider} agent cannot take a prompt mid-turn. Wait for the turn with t3_thread_wait and send the prompt then, or stop it first with t3_thread_stop.`
      })

/**
 * An agent names its retries with clientRequestId, never a commandId: a conflict on the command
 * derived from it is told in those words.
 */
const inAgentTerms = (error: SpindleError, input: ThreadStartInput): SpindleError => {
  if (
    error.reason === "conflict" &&
    input.clientRequestId !== undefined &&
    error.message.startsWith("commandId ")
  ) {
    return new SpindleError({
      reason: "conflict",
      field: "clientRequestId",
      ...(error.threadId === undefined ? {} : { threadId: error.threadId }),
      message: `clientRequestId ${input.clientRequestId} was already used by this thread for a different t3_thread_start (another prompt or other settings). Repeat the same call to get the same thread, or use a new clientRequestId for a new one.`
    })
  }
  const field = error.field === undefined ? undefined : AGENT_FIELDS[error.field]
  // `message` is not an own field of an error: given again, as the dispatcher does.
  return field === undefined ? error : new SpindleError({ ...error, message: error.message, field })
}

/** The bootstrap's fields an agent set under another name in t3_thread_start. */
const AGENT_FIELDS: Readonly<Record<string, string>> = {
  "bootstrap.workspace.fromThread": "baseBranchSource",
  "bootstrap.workspace.includeUncommitted": "includeUncommitted"
}

/** What makes a start an attempt (best of N): how many variants, their models or providers, a check. */
export interface AttemptSpec {
  readonly variants?: number
  readonly models?: ReadonlyArray<string>
  readonly providers?: ReadonlyArray<string>
  readonly check?: string
}

export class ChildThreads extends Context.Service<
  ChildThreads,
  {
    /** Starts a child of the caller's thread; answers once its workspace exists. */
    readonly start: (
      caller: Caller,
      input: ThreadStartInput
    ) => Effect.Effect<ThreadStartOutput, SpindleError>
    /** The child as the one Thread read model, with what its agent produced beside it. */
    readonly status: (caller: Caller, threadId: ThreadId) => Effect.Effect<ThreadStatusOutput, SpindleError>
    readonly list: (caller: Caller) => Effect.Effect<ThreadListOutput, SpindleError>
    /** Starts several children, each answered on its own; refused whole if they would pass the limit. */
    readonly startMany: (
      caller: Caller,
      request: BatchRequest
    ) => Effect.Effect<{ readonly threads: ReadonlyArray<BatchEntry> }, SpindleError>
    /**
     * Best of N: the one entry started `variants` times as one attempt (each with its model or
     * provider when listed). An agent may not name a check command (`forbidden`).
     */
    readonly startAttempt: (
      caller: Caller,
      spec: AttemptSpec,
      request: BatchRequest
    ) => Effect.Effect<
      { readonly attemptId: AttemptId; readonly threads: ReadonlyArray<BatchEntry> },
      SpindleError
    >
    /** Waits (bounded) until its children reach a state; answers their states either way. */
    readonly wait: (caller: Caller, input: ThreadWaitInput) => Effect.Effect<ThreadWaitOutput, SpindleError>
    /** A follow-up prompt: into the child's running turn when its agent can take it, else its next turn. */
    readonly send: (
      caller: Caller,
      threadId: ThreadId,
      prompt: string
    ) => Effect.Effect<
      { readonly threadId: ThreadId; readonly turnId: TurnId; readonly steered: boolean },
      SpindleError
    >
    /** Merges the child's branch back (ThreadMerge), or with dryRun says what that would do. */
    readonly merge: (
      caller: Caller,
      request: ThreadMergeRequest
    ) => Effect.Effect<ThreadMergeResult, SpindleError>
    /** Interrupts the child's running turn, and archives it when asked (a queued child always: it leaves the queue). */
    readonly stop: (
      caller: Caller,
      threadId: ThreadId,
      archive: boolean
    ) => Effect.Effect<ThreadStopOutput, SpindleError>
  }
>()("spindle/children/ChildThreads") {
  static readonly layer = Layer.effect(
    ChildThreads,
    Effect.gen(function* () {
      const engine = yield* Engine
      const commands = yield* Commands
      const cluster = yield* ClusterCalls
      const gate = yield* StartupGate
      const merges = yield* ThreadMerge
      const watch = yield* ThreadWatch
      const radar = yield* ConflictRadar
      const limits = yield* AdmissionLimits
      const attempts = yield* Attempts
      // A parent's starts one at a time, so a batch's room under the children limit is checked and
      // taken together (admission in the writer still checks each child).
      const asParent = makeKeyedLock<ThreadId>()
      const actor = (caller: Caller) => ({
        kind: "provider-session" as const,
        sessionId: caller.providerSessionId
      })

      /** Threads with what each one's agent produced, keyed by thread id. */
      const withOutputs = (threads: ReadonlyArray<Thread>) =>
        Effect.map(
          Effect.forEach(threads, (thread) => watch.output(thread), { concurrency: 4 }),
          (outputs) => ({
            threads,
            outputs: Object.fromEntries(
              threads.map((thread, i) => [thread.id, outputs[i]] as const)
            ) as Record<string, ThreadOutput>
          })
        )

      /** The radar's overlaps any of `threads` is part of, each pair once. */
      const overlapsOfAll = (threads: ReadonlyArray<Thread>) =>
        Effect.map(Effect.forEach(threads, radar.overlapsOf), (lists) => {
          const pairs = new Map(lists.flat().map((o) => [o.threadIds.join("\0"), o] as const))
          return [...pairs.values()]
        })

      /** The caller's own child, or `forbidden`. */
      const child = (caller: Caller, threadId: ThreadId) =>
        Effect.flatMap(engine.getThread(threadId), (thread) =>
          thread === undefined || thread.parentThreadId !== caller.threadId
            ? Effect.fail(notAChild(threadId))
            : Effect.succeed(thread)
        )

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
      const childCommand = (
        caller: Caller,
        parent: Thread | undefined,
        input: ThreadStartInput,
        attempt?: ThreadAttempt
      ) =>
        Effect.gen(function* () {
          const project = yield* engine.getProject(caller.projectId)
          const mode = input.mode ?? "new_worktree"
          // From its present: the bootstrap reads its HEAD (and its uncommitted changes when asked).
          const fromParent = mode === "new_worktree" && input.baseBranchSource === "parent"
          const baseBranch =
            mode !== "new_worktree" || input.pr !== undefined || fromParent
              ? undefined
              : (input.baseBranch ??
                (input.baseBranchSource === "source" ? parent?.workspace.branch : undefined) ??
                project?.defaultBranch ??
                parent?.workspace.branch ??
                undefined)
          // A retry with the same clientRequestId is the same command: it finds the same thread.
          const key = input.clientRequestId
          const idHex =
            key === undefined ? yield* randomHex(THREAD_ID_HEX / 2) : hashId("", caller.threadId, key)
          return {
            type: "thread.turn.start",
            commandId: key === undefined ? `mcp-${idHex}` : hashId("mcp-", caller.threadId, key),
            threadId: threadIdOf(idHex),
            prompt: input.prompt,
            bootstrap: {
              createThread: {
                projectId: caller.projectId,
                ...(input.title === undefined ? {} : { title: input.title }),
                ...(input.tags === undefined ? {} : { tags: input.tags }),
                ...(input.provider === undefined ? {} : { provider: input.provider }),
                ...(input.model === undefined ? {} : { model: input.model }),
                ...(input.runtimeMode === undefined ? {} : { runtimeMode: input.runtimeMode }),
                ...(input.interactionMode === undefined ? {} : { interactionMode: input.interactionMode }),
                ...(input.onDone === undefined ? {} : { onDone: input.onDone }),
                ...(input.host === undefined ? {} : { host: input.host }),
                ...(attempt === undefined ? {} : { attempt })
              },
              workspace: {
                mode,
                ...(input.branch === undefined ? {} : { branch: input.branch }),
                ...(input.pr === undefined ? {} : { pr: input.pr }),
                ...(baseBranch === undefined ? {} : { baseBranch }),
                ...(fromParent ? { fromThread: caller.threadId } : {}),
                ...(input.includeUncommitted === undefined
                  ? {}
                  : { includeUncommitted: input.includeUncommitted }),
                ...(input.worktreePath === undefined ? {} : { worktreePath: input.worktreePath })
              },
              ...(input.runSetupScript === undefined ? {} : { runSetupScript: input.runSetupScript }),
              ...(input.attachments === undefined ? {} : { attachments: input.attachments }),
              ...(input.queue === undefined ? {} : { queue: input.queue })
            }
          }
        })

      /** One child, started and answered once its workspace exists. */
      const startOne = (caller: Caller, input: ThreadStartInput, attempt?: ThreadAttempt) =>
        Effect.gen(function* () {
          const parent = yield* engine.getThread(caller.threadId)
          const command = yield* childCommand(caller, parent, input, attempt)
          const result = (yield* commands.dispatch(command, actor(caller), {
            await: "workspace",
            parent: { threadId: caller.threadId, worktreePath: parent?.workspace.worktreePath ?? null }
          })) as BootstrapAnswer
          const { sequence: _sequence, durationMs: _durationMs, ...output } = result
          return output satisfies ThreadStartOutput
        }).pipe(Effect.mapError((error) => inAgentTerms(error, input)))

      const start = Effect.fn("ChildThreads.start")(function* (caller: Caller, input: ThreadStartInput) {
        // The whole start waits in the startup gate: the defaults read state that is only whole once ready.
        return yield* gate.enqueue(asParent(caller.threadId, startOne(caller, input)))
      })

      const startMany = Effect.fn("ChildThreads.startMany")(function* (
        caller: Caller,
        request: BatchRequest
      ) {
        return yield* gate.enqueue(
          asParent(
            caller.threadId,
            runBatch(request, {
              room: Effect.map(engine.readModel, (model) => {
                const live = HashMap.reduce(model.threads, 0, (n, t) =>
                  t.parentThreadId === caller.threadId && t.status === "active" ? n + 1 : n
                )
                return limits.childrenPerThread - live
              }),
              start: (input) => startOne(caller, input),
              stageOf: (threadId) =>
                Effect.map(engine.getThread(threadId), (thread) =>
                  thread?.bootstrap.status === "failed" ? (thread.bootstrap.stage ?? "validate") : "validate"
                )
            })
          )
        )
      })

      const startAttempt = Effect.fn("ChildThreads.startAttempt")(function* (
        caller: Caller,
        spec: AttemptSpec,
        request: BatchRequest
      ) {
        if (spec.check !== undefined) {
          return yield* new SpindleError({
            reason: "forbidden",
            field: "check",
            message:
              "An agent may not name a check command: it would run outside the sandbox in every variant's worktree. Leave check out and compare the variants with t3_thread_status, or ask the user to start the attempt with 'spindle thread start --variants N --check CMD'."
          })
        }
        if (spec.variants === undefined) {
          return yield* new SpindleError({
            reason: "validation",
            field: "variants",
            message: "models and providers go with variants (2 to 8): give variants, or leave them out."
          })
        }
        const variants = yield* Schema.decodeUnknownEffect(VariantsRequest)(spec).pipe(
          Effect.mapError((error) => {
            const { field, message } = describeIssue(error.issue)
            return new SpindleError({
              reason: "validation",
              field: field === "" ? "variants" : field,
              message
            })
          })
        )
        const entry = request[0]
        if (request.length !== 1 || entry === undefined) {
          return yield* new SpindleError({
            reason: "validation",
            field: "threads",
            message: `With variants, give exactly one entry in threads (got ${request.length}): it is started ${variants.variants} times.`
          })
        }
        if (entry instanceof SpindleError) return yield* entry
        const key = entry.clientRequestId
        const attemptId = (
          key === undefined ? `a-${yield* randomHex(6)}` : hashId("a-", caller.threadId, key).slice(0, 14)
        ) as AttemptId
        const inputs = variantSettings(variants).map(({ index, ...settings }) => ({
          ...entry,
          ...settings,
          ...(key === undefined ? {} : { clientRequestId: `${key}.v${index}` })
        }))
        const attempt = (index: number): ThreadAttempt => ({
          id: attemptId,
          index,
          of: variants.variants,
          check: null
        })
        const result = yield* gate.enqueue(
          asParent(
            caller.threadId,
            runBatch(inputs, {
              room: Effect.map(engine.readModel, (model) => {
                const live = HashMap.reduce(model.threads, 0, (n, t) =>
                  t.parentThreadId === caller.threadId && t.status === "active" ? n + 1 : n
                )
                return limits.childrenPerThread - live
              }),
              start: (input) => startOne(caller, input, attempt(inputs.indexOf(input))),
              stageOf: (threadId) =>
                Effect.map(engine.getThread(threadId), (thread) =>
                  thread?.bootstrap.status === "failed" ? (thread.bootstrap.stage ?? "validate") : "validate"
                )
            })
          )
        )
        return { attemptId, threads: result.threads }
      })

      const status = Effect.fn("ChildThreads.status")(function* (caller: Caller, threadId: ThreadId) {
        return yield* whenReady(
          Effect.gen(function* () {
            // Its own thread too: that is where a parent reads its children's merge order.
            const own = threadId === caller.threadId ? yield* engine.getThread(threadId) : undefined
            const thread = own ?? (yield* child(caller, threadId))
            const [output, overlaps, mergeOrder, attempt] = yield* Effect.all(
              [
                watch.output(thread),
                radar.overlapsOf(thread),
                radar.mergeOrder(thread),
                attempts.ofThread(thread)
              ],
              { concurrency: 4 }
            )
            return {
              thread,
              output,
              ...(overlaps.length === 0 ? {} : { overlaps }),
              ...(mergeOrder.length === 0 ? {} : { mergeOrder }),
              ...(attempt === undefined ? {} : { attempt })
            }
          })
        )
      })

      const list = Effect.fn("ChildThreads.list")(function* (caller: Caller) {
        return yield* whenReady(
          Effect.flatMap(engine.readModel, (model) =>
            withOutputs(
              Array.from(HashMap.values(model.threads))
                .filter((t) => t.parentThreadId === caller.threadId)
                .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
            )
          )
        )
      })

      const wait = Effect.fn("ChildThreads.wait")(function* (caller: Caller, input: ThreadWaitInput) {
        return yield* whenReady(
          Effect.gen(function* () {
            const ids = [...new Set(input.threadIds)]
            yield* Effect.forEach(ids, (id) => child(caller, id), { discard: true })
            const result = yield* watch.wait({
              threadIds: ids,
              until: input.until ?? "all",
              for: input.for ?? "turn-completed",
              timeoutMs: (input.timeoutSeconds ?? DEFAULT_WAIT_SECONDS) * 1000
            })
            const { threads, outputs } = yield* withOutputs(result.threads)
            const overlaps = yield* overlapsOfAll(threads)
            return {
              done: result.done,
              timedOut: result.timedOut,
              reached: result.reached,
              threads,
              outputs,
              ...(overlaps.length === 0 ? {} : { overlaps })
            }
          })
        )
      })

      const send = Effect.fn("ChildThreads.send")(function* (
        caller: Caller,
        threadId: ThreadId,
        prompt: string
      ) {
        yield* whenReady(child(caller, threadId))
        const turnId = TurnId.make(`send-${yield* randomHex(10)}`)
        yield* commands
          .dispatch({ type: "thread.turn.start", commandId: turnId, threadId, turnId, prompt }, actor(caller))
          .pipe(
            Effect.catch((error: SpindleError) =>
              Effect.flatMap(engine.getThread(threadId), (now) =>
                Effect.fail(
                  error.reason === "conflict" && now !== undefined ? busyForAgent(now, error) : error
                )
              )
            )
          )
        const after = yield* engine.getThread(threadId)
        const running = after?.latestTurn?.turnId ?? turnId
        return { threadId, turnId: running, steered: running !== turnId }
      })

      const stop = Effect.fn("ChildThreads.stop")(function* (
        caller: Caller,
        threadId: ThreadId,
        archive: boolean
      ) {
        const thread = yield* whenReady(child(caller, threadId))
        const live = hasLiveTurn(thread) ? thread.latestTurn : null
        if (live !== null) {
          yield* commands.dispatch(
            { type: "thread.turn.interrupt", commandId: `stop-${yield* randomHex(10)}`, threadId },
            actor(caller)
          )
          // Answer how the turn really ended: it may complete before the interrupt reaches the agent.
          yield* watch.until(threadId, (t) => !hasLiveTurn(t, live.turnId), STOP_WAIT_SECONDS * 1000)
        }
        // A queued child is taken out of the queue: archived, it never starts.
        const archived = (archive || thread.status === "queued") && thread.status !== "archived"
        if (archived) {
          yield* commands.dispatch(
            { type: "thread.archive", commandId: `archive-${yield* randomHex(10)}`, threadId },
            actor(caller)
          )
        }
        const now = (yield* engine.getThread(threadId)) ?? thread
        const turnStatus =
          live === null ? null : now.latestTurn?.turnId === live.turnId ? now.latestTurn.status : "running"
        return { interrupted: turnStatus === "interrupted", turnStatus, archived, thread: now }
      })

      const merge = Effect.fn("ChildThreads.merge")(function* (caller: Caller, request: ThreadMergeRequest) {
        const thread = yield* whenReady(child(caller, request.threadId))
        // A child another host owns is merged there, where its branch and worktree are.
        const owner = yield* cluster.elsewhere(thread)
        if (owner !== undefined) return yield* cluster.merge(owner, request, actor(caller))
        return yield* gate.enqueue(merges.merge(request, actor(caller)))
      })

      return { start, startMany, startAttempt, status, list, wait, send, stop, merge }
    })
  )
}
