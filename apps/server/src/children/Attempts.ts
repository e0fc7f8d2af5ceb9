// An attempt (best of N) read and settled: its variants compared (turn state, diff stat, files two
// variants both changed, the check's exit code), and one picked: merged through ThreadMerge, the
// others archived through ThreadLifecycle (which keeps a worktree holding unmerged work). Starting
// the variants is the start command's (`attempt` on each); running the check is CheckRunner's.
import {
  type Actor,
  type AttemptComparison,
  type AttemptId,
  type AttemptPickRequest,
  type AttemptPickResult,
  type AttemptVariant,
  type CommandId,
  SpindleError,
  type Thread
} from "@spindle/contracts"
import { randomHex } from "@spindle/shared/random"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import { Engine } from "../engine/Engine.ts"
import { ThreadLifecycle } from "../lifecycle/ThreadLifecycle.ts"
import { ThreadWatch } from "../reads/ThreadWatch.ts"
import { ThreadMerge } from "./ThreadMerge.ts"

/** The check as the comparison shows it: this turn's result, pending, or none named. */
const checkOf = (thread: Thread): AttemptVariant["check"] => {
  if (thread.attempt?.check == null) return null
  const turnId = thread.latestTurn?.turnId
  return thread.check !== null && thread.check.turnId === turnId ? thread.check : "pending"
}

/** Files each pair of variants both changed (pairs with none left out). */
export const overlapsOf = (
  variants: ReadonlyArray<{ readonly threadId: Thread["id"]; readonly files: ReadonlyArray<string> }>
): AttemptComparison["overlaps"] =>
  variants.flatMap((a, i) =>
    variants.slice(i + 1).flatMap((b) => {
      const theirs = new Set(b.files)
      const files = a.files.filter((file) => theirs.has(file)).sort()
      return files.length === 0 ? [] : [{ threads: [a.threadId, b.threadId] as const, files }]
    })
  )

export class Attempts extends Context.Service<
  Attempts,
  {
    /** The attempt's variants compared; `not-found` for an attempt no thread belongs to. */
    readonly show: (attemptId: AttemptId) => Effect.Effect<AttemptComparison, SpindleError>
    /** The comparison of the attempt `thread` is a variant of; undefined when it is none. */
    readonly ofThread: (thread: Thread) => Effect.Effect<AttemptComparison | undefined>
    /** Merges the chosen variant, then archives the others; nothing changes when it is refused. */
    readonly pick: (
      request: AttemptPickRequest,
      actor: Actor
    ) => Effect.Effect<AttemptPickResult, SpindleError>
  }
>()("spindle/children/Attempts") {
  static readonly layer = Layer.effect(
    Attempts,
    Effect.gen(function* () {
      const engine = yield* Engine
      const watch = yield* ThreadWatch
      const merges = yield* ThreadMerge
      const lifecycle = yield* ThreadLifecycle

      const variantsOf = (attemptId: string) =>
        Effect.map(engine.readModel, (model) =>
          Array.from(HashMap.values(model.threads))
            .filter((t) => t.attempt?.id === attemptId && t.deletedAt === null)
            .sort((a, b) => (a.attempt?.index ?? 0) - (b.attempt?.index ?? 0))
        )

      const unknown = (attemptId: string) =>
        new SpindleError({
          reason: "not-found",
          field: "attemptId",
          message: `There is no attempt ${attemptId}. 'spindle thread start --variants N' prints an attempt's id; 'spindle thread list --json' shows each thread's attempt.`
        })

      const compare = (attemptId: AttemptId, threads: ReadonlyArray<Thread>) =>
        Effect.gen(function* () {
          const outputs = yield* Effect.forEach(threads, (thread) => watch.output(thread), { concurrency: 4 })
          const variants = threads.map(
            (thread, i): AttemptVariant => ({
              threadId: thread.id,
              index: thread.attempt?.index ?? i,
              provider: thread.provider,
              model: thread.model,
              status: thread.status,
              turn: thread.latestTurn?.status ?? null,
              branch: thread.workspace.branch,
              diff: outputs[i]?.diff ?? null,
              check: checkOf(thread),
              merged: thread.merged !== null
            })
          )
          return {
            attemptId,
            check: threads[0]?.attempt?.check ?? null,
            variants,
            overlaps: overlapsOf(
              variants.map((v) => ({ threadId: v.threadId, files: (v.diff?.files ?? []).map((f) => f.path) }))
            ),
            picked: threads.find((t) => t.merged !== null)?.id ?? null
          } satisfies AttemptComparison
        })

      const show = Effect.fn("Attempts.show")(function* (attemptId: AttemptId) {
        const threads = yield* variantsOf(attemptId)
        if (threads.length === 0) return yield* unknown(attemptId)
        return yield* compare(attemptId, threads)
      })

      const ofThread = Effect.fn("Attempts.ofThread")(function* (thread: Thread) {
        if (thread.attempt === null) return undefined
        return yield* compare(thread.attempt.id, yield* variantsOf(thread.attempt.id))
      })

      const pick = Effect.fn("Attempts.pick")(function* (request: AttemptPickRequest, actor: Actor) {
        const threads = yield* variantsOf(request.attemptId)
        if (threads.length === 0) return yield* unknown(request.attemptId)
        const chosen = threads.find((t) => t.id === request.threadId)
        if (chosen === undefined) {
          return yield* new SpindleError({
            reason: "validation",
            threadId: request.threadId,
            message: `Thread ${request.threadId} is not a variant of attempt ${request.attemptId}; its variants are ${threads.map((t) => t.id).join(", ")}. Pick one of them.`
          })
        }
        // The merge is checked whole before it writes; a refusal leaves every variant as it was.
        const merge = yield* merges.merge(
          { threadId: chosen.id, ...(request.strategy === undefined ? {} : { strategy: request.strategy }) },
          actor
        )
        const archived = yield* Effect.forEach(
          threads.filter((t) => t.id !== chosen.id),
          (thread) =>
            thread.status === "archived"
              ? Effect.succeed({
                  threadId: thread.id,
                  worktree: thread.cleanup?.outcome ?? null,
                  reasons: thread.cleanup?.reasons ?? []
                })
              : Effect.gen(function* () {
                  const commandId = `archive-${yield* randomHex(10)}` as CommandId
                  const result = yield* lifecycle.archive({ commandId, threadId: thread.id }, actor)
                  return {
                    threadId: thread.id,
                    worktree: result.worktree?.outcome ?? null,
                    reasons: result.worktree?.reasons ?? []
                  }
                })
        )
        return { attemptId: request.attemptId, merge, archived } satisfies AttemptPickResult
      })

      return { show, ofThread, pick }
    })
  )
}
