// Reading threads as their agents' work goes on: what a thread produced (its agent's last message,
// files and commits against its base) and waiting until threads reach a state. A wait holds no
// lock and no transaction: it checks the read model, then re-checks on each event of its threads,
// so any number of waits cost one subscription each. Who may wait for what is the caller's check.
import {
  SpindleError,
  type Thread,
  type ThreadDiff,
  type ThreadId,
  type ThreadOutput,
  type WaitFor
} from "@spindle/contracts"
import { type ReadModel, threadOfEvent } from "@spindle/read-model"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { Engine } from "../engine/Engine.ts"
import { diffSummary, fullDiff } from "../git/diffSummary.ts"
import { GitCli } from "../git/GitCli.ts"
import { markRefused } from "./gitRefusals.ts"

export interface WaitRequest {
  readonly threadIds: ReadonlyArray<ThreadId>
  readonly until: "any" | "all"
  readonly for: WaitFor
  readonly timeoutMs: number
}

export interface WaitResult {
  /** True when the condition held before the timeout. */
  readonly done: boolean
  readonly timedOut: boolean
  /** The threads as they are now (a deleted one is missing). */
  readonly threads: ReadonlyArray<Thread>
  readonly reached: ReadonlyArray<ThreadId>
}

const ENDED = new Set(["completed", "failed", "interrupted"])

/** A thread whose agent will do nothing more unless asked again. */
export const settled = (thread: Thread) =>
  thread.status === "archived" ||
  thread.bootstrap.status === "failed" ||
  (thread.latestTurn !== null && ENDED.has(thread.latestTurn.status)) ||
  (thread.bootstrap.status === "completed" && thread.latestTurn === null)

export const hasReached = (thread: Thread | undefined, state: WaitFor) => {
  if (thread === undefined) return true
  switch (state) {
    case "turn-completed":
      return settled(thread)
    case "setup-completed":
      return (thread.setup.status !== "pending" && thread.setup.status !== "running") || settled(thread)
    case "needs-approval":
      return thread.pendingApprovals.length > 0 || settled(thread)
  }
}

export class ThreadWatch extends Context.Service<
  ThreadWatch,
  {
    readonly output: (thread: Thread) => Effect.Effect<ThreadOutput>
    /** The thread's full patch against its base; `not-found` when it has no worktree or base. */
    readonly diff: (thread: Thread) => Effect.Effect<ThreadDiff, SpindleError>
    readonly wait: (request: WaitRequest) => Effect.Effect<WaitResult>
    /** Waits (at most `timeoutMs`) until the thread meets `predicate` or is gone; answers it as it is then. */
    readonly until: (
      threadId: ThreadId,
      predicate: (thread: Thread) => boolean,
      timeoutMs: number
    ) => Effect.Effect<Thread | undefined>
  }
>()("spindle/reads/ThreadWatch") {
  static readonly layer = Layer.effect(
    ThreadWatch,
    Effect.gen(function* () {
      const engine = yield* Engine
      const git = yield* GitCli

      /** The repository the thread's worktree must link into: its project's. */
      const repoOf = (thread: Thread) =>
        Effect.map(engine.getProject(thread.projectId), (project) => project?.workspaceRoot)

      const output = Effect.fn("ThreadWatch.output")(function* (thread: Thread) {
        const { worktreePath, baseBranch } = thread.workspace
        const repo = yield* repoOf(thread)
        const diff =
          worktreePath === null || baseBranch === null || repo === undefined
            ? null
            : yield* diffSummary(git, repo, worktreePath, baseBranch).pipe(
                Effect.tapError((error) => markRefused(engine, thread.id, error)),
                Effect.orElseSucceed(() => null)
              )
        return {
          lastMessage: thread.latestTurn?.lastMessage ?? null,
          lastMessageTruncated: thread.latestTurn?.lastMessageTruncated ?? false,
          diff
        } satisfies ThreadOutput
      })

      const judge = (model: ReadModel, request: WaitRequest) => {
        const threads = request.threadIds.map((id) => Option.getOrUndefined(HashMap.get(model.threads, id)))
        const reached = request.threadIds.filter((_, i) => hasReached(threads[i], request.for))
        const done =
          request.until === "any" ? reached.length > 0 : reached.length === request.threadIds.length
        return {
          done,
          reached,
          threads: threads.filter((t): t is Thread => t !== undefined),
          sequence: model.sequence
        }
      }

      const wait = Effect.fn("ThreadWatch.wait")(function* (request: WaitRequest) {
        const first = judge(yield* engine.readModel, request)
        if (first.done || request.timeoutMs <= 0) {
          const { sequence: _, ...result } = first
          return { ...result, timedOut: !first.done }
        }
        const ids = new Set<string>(request.threadIds)
        const later = yield* engine
          .events(first.sequence, { wanted: (event) => ids.has(threadOfEvent(event) ?? "") })
          .pipe(
            Stream.mapEffect(() => Effect.map(engine.readModel, (model) => judge(model, request))),
            Stream.takeUntil((judged) => judged.done),
            Stream.runLast,
            Effect.timeoutOption(request.timeoutMs),
            Effect.orElseSucceed(() => Option.none())
          )
        const last = judge(yield* engine.readModel, request)
        const { sequence: _, ...result } = last
        return { ...result, timedOut: !last.done && Option.isNone(later) }
      })

      const diff = Effect.fn("ThreadWatch.diff")(function* (thread: Thread) {
        const { worktreePath, baseBranch } = thread.workspace
        if (worktreePath === null || baseBranch === null) {
          return yield* new SpindleError({
            reason: "not-found",
            threadId: thread.id,
            message: `Thread ${thread.id} has no ${worktreePath === null ? "worktree" : "base branch"} to compare with; only threads in a new worktree have a diff against their base.`
          })
        }
        const repo = yield* repoOf(thread)
        if (repo === undefined) {
          return yield* new SpindleError({
            reason: "not-found",
            threadId: thread.id,
            message: `Thread ${thread.id}'s project ${thread.projectId} is gone, so its worktree is not looked at.`
          })
        }
        return yield* fullDiff(git, repo, worktreePath, baseBranch).pipe(
          Effect.tapError((error) => markRefused(engine, thread.id, error)),
          Effect.mapError(
            (error) =>
              new SpindleError({
                reason: error.reason === "foreign-gitdir" ? "forbidden" : "git",
                threadId: thread.id,
                path: worktreePath,
                message: `Could not diff ${worktreePath} against ${baseBranch}: ${error.message}`
              })
          )
        )
      })

      const until = Effect.fn("ThreadWatch.until")(function* (
        threadId: ThreadId,
        predicate: (thread: Thread) => boolean,
        timeoutMs: number
      ) {
        const model = yield* engine.readModel
        const now = Option.getOrUndefined(HashMap.get(model.threads, threadId))
        if (now === undefined || predicate(now)) return now
        yield* engine.events(model.sequence, { wanted: (event) => threadOfEvent(event) === threadId }).pipe(
          Stream.mapEffect(() => engine.getThread(threadId)),
          Stream.takeUntil((thread) => thread === undefined || predicate(thread)),
          Stream.runDrain,
          Effect.timeoutOption(timeoutMs),
          Effect.ignore
        )
        return yield* engine.getThread(threadId)
      })

      return { output, wait, diff, until }
    })
  )
}
