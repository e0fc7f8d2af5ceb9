// `spindle thread merge <id>`: the thread's branch into its parent's branch, else the branch it
// started from, or --into; --dry-run says what would happen; --stop, --commit and --archive do what
// would otherwise be refused or left to do. A refusal (uncommitted work, a running turn, a conflict
// with its files and hunks) exits 1 with what to do.
import { MergeStrategy, ThreadMergeRequest, type ThreadMergeResult } from "@spindle/contracts"
import { describeIssue } from "@spindle/shared/schemaIssue"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { withClient } from "./connect.ts"
import { usageError } from "./errors.ts"
import { idArgument } from "./ids.ts"
import { print } from "./output.ts"

const files = (result: ThreadMergeResult) => {
  const changed = result.files.map(
    (f) => `  ${f.path} ${f.added === null ? "(binary)" : `+${f.added} -${f.removed}`}`
  )
  return changed.length === 0 ? [] : [`${result.files.length} file(s):`, ...changed]
}

const describe = (result: ThreadMergeResult) => {
  const what = `${result.source} into ${result.target} (${result.strategy})`
  if (result.upToDate)
    return `Nothing to merge: ${result.target} already has every commit of ${result.source}.`
  if (result.dryRun) {
    return result.conflicts.length > 0
      ? [
          `Merging ${what} would conflict:`,
          ...result.conflicts.map(
            (c) => `  ${c.path} lines ${c.hunks.map((h) => `${h.startLine}-${h.endLine}`).join(", ")}`
          )
        ].join("\n")
      : [`Merging ${what} would apply cleanly. Nothing was written (--dry-run).`, ...files(result)].join("\n")
  }
  return [
    ...(result.stopped == null ? [] : [`Stopped its turn first (it ended ${result.stopped}).`]),
    ...(result.committed == null
      ? []
      : [`Committed its uncommitted changes first as ${result.committed.slice(0, 12)}.`]),
    `Merged ${what}: ${result.target} is now ${result.commit?.slice(0, 12)}.`,
    ...files(result),
    ...(result.archived === true ? [`Archived thread ${result.threadId}.`] : [])
  ].join("\n")
}

const yes = (name: string, description: string) =>
  Flag.Boolean(name).pipe(Flag.withDescription(description), Flag.withDefault(false))

export const mergeCommand = Command.make(
  "merge",
  {
    thread: idArgument("thread", "The thread whose branch to merge"),
    into: Flag.String("into").pipe(
      Flag.withDescription(
        "The local branch to merge into (default: its parent's branch, else the branch it started from)"
      ),
      Flag.optional
    ),
    strategy: Flag.Literals("strategy", MergeStrategy.literals).pipe(
      Flag.withDescription(
        "ff-only, merge, squash or rebase (default: ff-only when the target has not moved, else merge)"
      ),
      Flag.optional
    ),
    dryRun: yes("dry-run", "Say what would happen; write nothing"),
    commit: yes("commit", "Commit the thread's uncommitted changes on its branch first"),
    stop: yes("stop", "Interrupt the thread's running turn first"),
    archive: yes("archive", "Archive the thread once merged")
  },
  ({ thread, into, strategy, dryRun, commit, stop, archive }) =>
    Effect.gen(function* () {
      // Checked before connecting, as the server would check it: a name git would read otherwise.
      const request = yield* Schema.decodeUnknownEffect(ThreadMergeRequest)({
        threadId: thread,
        ...(Option.isSome(into) ? { into: into.value } : {}),
        ...(Option.isSome(strategy) ? { strategy: strategy.value } : {}),
        ...(dryRun ? { dryRun } : {}),
        ...(commit ? { commit } : {}),
        ...(stop ? { stop } : {}),
        ...(archive ? { archive } : {})
      }).pipe(
        Effect.mapError((error) => {
          const { field, message } = describeIssue(error.issue)
          return usageError(`--${field === "" ? "into" : field}: ${message.replace(`${field}: `, "")}`)
        })
      )
      const result = yield* withClient((client) => client["thread.merge"](request))
      yield* print(result, describe)
    })
).pipe(
  Command.withDescription(
    "Merge the thread's branch back (into its parent's branch, else the branch it started from)"
  )
)
