// Best of N from the CLI: `thread start --variants N` sends one start per variant (each with the
// same attempt id, its index, and the check a person named), then prints the attempt and its
// variants; `spindle attempt show <id>` compares them and `spindle attempt pick <id> <thread>`
// merges the chosen one and archives the others. The comparing and picking are the server's.
import { randomBytes } from "node:crypto"
import {
  type AttemptComparison,
  AttemptId,
  type AttemptPickResult,
  type BootstrapAnswer,
  MergeStrategy,
  type Thread,
  type ThreadId,
  VariantsRequest,
  variantSettings
} from "@spindle/contracts"
import { describeIssue } from "@spindle/shared/schemaIssue"
import { THREAD_ID_HEX, threadIdOf } from "@spindle/shared/threadIds"
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { withClient } from "./connect.ts"
import { usageError } from "./errors.ts"
import { globalOptions } from "./globals.ts"
import { idArgument } from "./ids.ts"
import { commandId, print, table, writeErrorLine, writeLine } from "./output.ts"

export interface VariantFlags {
  readonly variants: Option.Option<number>
  readonly models: Option.Option<string>
  readonly providers: Option.Option<string>
  readonly check: Option.Option<string>
}

const list = (value: Option.Option<string>) =>
  Option.isNone(value)
    ? undefined
    : value.value
        .split(",")
        .map((item) => item.trim())
        .filter((item) => item !== "")

/** The flags as a VariantsRequest; undefined without --variants (the others then refused). */
export const variantsOf = (
  flags: VariantFlags,
  other: { readonly branch: boolean; readonly threadId: boolean; readonly follow: boolean }
) =>
  Effect.gen(function* () {
    if (Option.isNone(flags.variants)) {
      for (const [name, value] of [
        ["models", flags.models],
        ["providers", flags.providers],
        ["check", flags.check]
      ] as const) {
        if (Option.isSome(value)) return yield* usageError(`--${name} goes with --variants N (2 to 8).`)
      }
      return undefined
    }
    for (const [name, given] of [
      ["branch", other.branch],
      ["thread-id", other.threadId],
      ["follow", other.follow]
    ] as const) {
      if (given) {
        return yield* usageError(
          `--${name} names one thread; with --variants each variant gets its own. Leave --${name} out.`
        )
      }
    }
    const models = list(flags.models)
    const providers = list(flags.providers)
    return yield* Schema.decodeUnknownEffect(VariantsRequest)({
      variants: flags.variants.value,
      ...(models === undefined ? {} : { models }),
      ...(providers === undefined ? {} : { providers }),
      ...(Option.isSome(flags.check) ? { check: flags.check.value } : {})
    }).pipe(
      Effect.mapError((error) => {
        const { field, message } = describeIssue(error.issue)
        return usageError(`--${field === "" ? "variants" : field}: ${message.replace(`${field}: `, "")}`)
      })
    )
  })

interface StartCommand {
  readonly type: string
  readonly prompt: string
  readonly bootstrap: {
    readonly createThread: Record<string, unknown>
    readonly [key: string]: unknown
  }
}

/** Starts the variants (each answered once its workspace exists), then prints the attempt. */
export const startVariants = (base: StartCommand, request: VariantsRequest) =>
  Effect.gen(function* () {
    const { json } = yield* globalOptions
    const attemptId = `a-${randomBytes(6).toString("hex")}`
    const commands = variantSettings(request).map(({ index, ...settings }) => ({
      ...base,
      commandId: commandId("start"),
      threadId: threadIdOf(randomBytes(THREAD_ID_HEX / 2).toString("hex")),
      bootstrap: {
        ...base.bootstrap,
        createThread: {
          ...base.bootstrap.createThread,
          ...settings,
          attempt: { id: attemptId, index, of: request.variants, check: request.check ?? null }
        }
      }
    }))
    const threads = yield* withClient((client) =>
      Effect.forEach(
        commands,
        (command) =>
          Effect.gen(function* () {
            const answer = (yield* client["orchestration.dispatchCommand"]({ command })) as BootstrapAnswer
            if (!json) for (const warning of answer.warnings) writeErrorLine(`spindle: ! ${warning}`)
            return yield* client["thread.get"]({ threadId: command.threadId as ThreadId })
          }),
        { concurrency: 4 }
      )
    )
    if (json) return writeLine(JSON.stringify({ attemptId, threads }, null, 2))
    writeLine(
      [
        `Started attempt ${attemptId}: ${threads.length} variants${request.check === undefined ? "" : `, check: ${request.check}`}`,
        ...threads.map(
          (t: Thread) =>
            `  ${t.attempt?.index ?? "?"} ${t.id} ${t.provider}${t.model === null ? "" : `/${t.model}`} on ${t.workspace.branch ?? "-"}, turn ${t.latestTurn?.status ?? "not started"}`
        ),
        `  compare them: spindle attempt show ${attemptId}`,
        `  pick one:     spindle attempt pick ${attemptId} <thread>`
      ].join("\n")
    )
  })

const checkText = (check: AttemptComparison["variants"][number]["check"]) =>
  check === null
    ? "-"
    : check === "pending"
      ? "pending"
      : check.exitCode === null
        ? check.status
        : `exit ${check.exitCode}`

const describeComparison = (c: AttemptComparison) =>
  [
    `Attempt ${c.attemptId}: ${c.variants.length} variants${c.check === null ? "" : `, check: ${c.check}`}${c.picked === null ? "" : `, picked ${c.picked}`}`,
    table(
      ["#", "THREAD", "AGENT", "TURN", "DIFF", "FILES", "CHECK"],
      c.variants.map((v) => [
        String(v.index),
        v.threadId,
        `${v.provider}${v.model === null ? "" : `/${v.model}`}`,
        v.turn ?? "-",
        v.diff === null ? "-" : `${v.diff.filesChanged} file(s) +${v.diff.insertions} -${v.diff.deletions}`,
        v.diff === null ? "" : v.diff.files.map((f) => f.path).join(", "),
        checkText(v.check)
      ])
    ),
    ...(c.overlaps.length === 0
      ? ["No file was changed by two variants."]
      : [
          "Changed by two variants:",
          ...c.overlaps.map((o) => `  ${o.threads[0]} and ${o.threads[1]}: ${o.files.join(", ")}`)
        ])
  ].join("\n")

const describePick = (r: AttemptPickResult) =>
  [
    r.merge.upToDate
      ? `Picked ${r.merge.threadId}: ${r.merge.target} already had its work.`
      : `Picked ${r.merge.threadId}: merged ${r.merge.source} into ${r.merge.target} (${r.merge.strategy}), now ${r.merge.commit?.slice(0, 12)}.`,
    ...r.archived.map(
      (a) =>
        `Archived ${a.threadId}${a.worktree === "kept" ? `; its worktree was kept: ${a.reasons.join("; ")}` : a.worktree === "removed" ? "; its worktree was removed" : ""}.`
    )
  ].join("\n")

const attemptArg = Argument.String("attempt").pipe(
  Argument.withDescription("The attempt's id (a-…), as 'thread start --variants' printed it")
)

const decodeAttempt = (value: string) =>
  Schema.decodeUnknownEffect(AttemptId)(value).pipe(
    Effect.mapError(() =>
      usageError(
        `${value} is not an attempt id: attempt ids are a- and hex digits, as 'thread start --variants' printed.`
      )
    )
  )

const show = Command.make("show", { attempt: attemptArg }, ({ attempt }) =>
  Effect.gen(function* () {
    const attemptId = yield* decodeAttempt(attempt)
    const comparison = yield* withClient((client) => client["attempt.show"]({ attemptId }))
    yield* print(comparison, describeComparison)
  })
).pipe(
  Command.withDescription(
    "Compare an attempt's variants: turn state, diff stat, files, files two variants both changed, the check's exit code"
  )
)

const pick = Command.make(
  "pick",
  {
    attempt: attemptArg,
    thread: idArgument("thread", "The variant to keep"),
    strategy: Flag.Literals("strategy", MergeStrategy.literals).pipe(
      Flag.withDescription("ff-only, merge, squash or rebase (default: as 'thread merge' decides)"),
      Flag.optional
    )
  },
  ({ attempt, thread, strategy }) =>
    Effect.gen(function* () {
      const attemptId = yield* decodeAttempt(attempt)
      const result = yield* withClient((client) =>
        client["attempt.pick"]({
          attemptId,
          threadId: thread as ThreadId,
          ...(Option.isSome(strategy) ? { strategy: strategy.value } : {})
        })
      )
      yield* print(result, describePick)
    })
).pipe(
  Command.withDescription(
    "Merge the chosen variant (as 'thread merge') and archive the others (a worktree holding unmerged work is kept)"
  )
)

export const attemptCommand = Command.make("attempt").pipe(
  Command.withDescription("Best of N: compare an attempt's variants, pick one"),
  Command.withSubcommands([show, pick])
)
