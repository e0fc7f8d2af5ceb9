// Best of N: the same prompt in N sibling threads (variants), grouped as one attempt, compared
// (turn state, diff stat, files, files two variants both changed, an optional check command's exit
// code), and one of them picked: merged, the others archived. What an attempt is and how it is read;
// not how variants are started (that is the start command's `attempt`).
import * as Schema from "effect/Schema"
import { DiffSummary } from "./children.ts"
import { ThreadId, TurnId } from "./ids.ts"
import { MergeStrategy, ThreadMergeResult } from "./merge.ts"
import { TurnStatus } from "./turns.ts"
import { IsoTimestamp, ModelName, multilineText, ProviderKind } from "./values.ts"

export const MIN_VARIANTS = 2
export const MAX_VARIANTS = 8

export const AttemptId = Schema.String.check(
  Schema.isPattern(/^a-[0-9a-f]{6,32}$/u, { message: "an attempt id is a- and 6-32 lowercase hex digits" })
)
  .annotate({ description: "An attempt: a- and hex digits" })
  .pipe(Schema.brand("AttemptId"))
export type AttemptId = typeof AttemptId.Type

export const VariantCount = Schema.Int.check(
  Schema.isBetween(
    { minimum: MIN_VARIANTS, maximum: MAX_VARIANTS },
    { message: `variants must be between ${MIN_VARIANTS} and ${MAX_VARIANTS}` }
  )
)

/** A person's command, run with /bin/sh -c in each variant's worktree after its turn completes. */
export const CheckCommand = multilineText(4_000).annotate({
  description: "A shell command run in each variant's worktree after its turn completes (e.g. npm test)"
})

/** Which attempt a thread is a variant of, set when it is created and never changed. */
export const ThreadAttempt = Schema.Struct({
  id: AttemptId,
  /** 0-based position among the attempt's variants. */
  index: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: MAX_VARIANTS - 1 })),
  of: VariantCount,
  /** The check command a person named; null for none. An agent may not name one. */
  check: Schema.NullOr(CheckCommand)
})
  .check(
    Schema.makeFilter((attempt: { readonly index: number; readonly of: number }) =>
      attempt.index < attempt.of ? undefined : { path: ["index"], issue: "must be less than `of`" }
    )
  )
  .annotate({ identifier: "ThreadAttempt" })
export type ThreadAttempt = typeof ThreadAttempt.Type

/** The last this many characters of a check's output are kept. */
export const MAX_CHECK_OUTPUT = 4_000

/**
 * A check's run after a variant's turn: its exit code (null when it did not exit on its own:
 * timed out, killed, or could not start, `error` saying why), how long it took, its output's end.
 */
export const ThreadCheck = Schema.Struct({
  turnId: TurnId,
  command: Schema.String,
  status: Schema.Literals(["passed", "failed", "timed-out", "error"]),
  exitCode: Schema.NullOr(Schema.Int),
  durationMs: Schema.Number,
  /** stdout and stderr interleaved, the last MAX_CHECK_OUTPUT characters. */
  outputTail: Schema.String,
  /** Why it could not run or finish (no worktree, could not start, timed out). */
  error: Schema.NullOr(Schema.String),
  at: IsoTimestamp
}).annotate({ identifier: "ThreadCheck" })
export type ThreadCheck = typeof ThreadCheck.Type

export const AttemptVariant = Schema.Struct({
  threadId: ThreadId,
  index: Schema.Int,
  provider: Schema.String,
  model: Schema.NullOr(Schema.String),
  status: Schema.String,
  /** The latest turn's state; null before its first turn. */
  turn: Schema.NullOr(TurnStatus),
  branch: Schema.NullOr(Schema.String),
  diff: Schema.NullOr(DiffSummary),
  /** Pending: a check is named and the turn has not completed (or its check has not ended) yet. */
  check: Schema.NullOr(Schema.Union([ThreadCheck, Schema.Literal("pending")])),
  merged: Schema.Boolean
}).annotate({ identifier: "AttemptVariant" })
export type AttemptVariant = typeof AttemptVariant.Type

/** Files two variants both changed. */
export const AttemptOverlap = Schema.Struct({
  threads: Schema.Tuple([ThreadId, ThreadId]),
  files: Schema.Array(Schema.String)
})

export const AttemptComparison = Schema.Struct({
  attemptId: AttemptId,
  check: Schema.NullOr(Schema.String),
  variants: Schema.Array(AttemptVariant),
  overlaps: Schema.Array(AttemptOverlap),
  /** The variant that was picked (merged), if one was. */
  picked: Schema.NullOr(ThreadId)
}).annotate({ identifier: "AttemptComparison" })
export type AttemptComparison = typeof AttemptComparison.Type

export const AttemptPickRequest = Schema.Struct({
  attemptId: AttemptId,
  threadId: ThreadId,
  strategy: Schema.optionalKey(MergeStrategy)
}).annotate({ identifier: "AttemptPickRequest" })
export type AttemptPickRequest = typeof AttemptPickRequest.Type

export const AttemptPickResult = Schema.Struct({
  attemptId: AttemptId,
  merge: ThreadMergeResult,
  /** The other variants, each archived (or already archived), with what archiving did with its worktree. */
  archived: Schema.Array(
    Schema.Struct({
      threadId: ThreadId,
      worktree: Schema.NullOr(Schema.Literals(["removed", "kept", "not-ours"])),
      reasons: Schema.Array(Schema.String)
    })
  )
}).annotate({ identifier: "AttemptPickResult" })
export type AttemptPickResult = typeof AttemptPickResult.Type

/**
 * How a client asks for N variants (the CLI's flags, t3_threads_start's fields): N, and optionally
 * one model or one provider per variant (not both); `check` only from a person.
 */
export const VariantsRequest = Schema.Struct({
  variants: VariantCount,
  models: Schema.optionalKey(Schema.Array(ModelName)),
  providers: Schema.optionalKey(Schema.Array(ProviderKind)),
  check: Schema.optionalKey(CheckCommand)
}).check(
  Schema.makeFilter(
    (request: {
      readonly variants: number
      readonly models?: ReadonlyArray<string>
      readonly providers?: ReadonlyArray<string>
    }) => {
      if (request.models !== undefined && request.providers !== undefined) {
        return {
          path: ["providers"],
          issue: "give models or providers, not both (one list, one entry per variant)"
        }
      }
      for (const field of ["models", "providers"] as const) {
        const list = request[field]
        if (list !== undefined && list.length !== request.variants) {
          return {
            path: [field],
            issue: `give one entry per variant: ${request.variants} variants, ${list.length} ${field}`
          }
        }
      }
      return undefined
    }
  )
)
export type VariantsRequest = typeof VariantsRequest.Type

/** Each variant's own settings, in order: its model or provider when the request lists them. */
export const variantSettings = (request: VariantsRequest) =>
  Array.from({ length: request.variants }, (_, index) => ({
    index,
    ...(request.models === undefined ? {} : { model: request.models[index] as string }),
    ...(request.providers === undefined ? {} : { provider: request.providers[index] as ProviderKind })
  }))
