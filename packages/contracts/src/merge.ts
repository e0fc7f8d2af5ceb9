// Bringing a thread's work back: merging its branch into its parent's branch, or into the branch
// it was started from (or one named). What a merge would do, or did.
import * as Schema from "effect/Schema"
import { ThreadId } from "./ids.ts"
import { IsoTimestamp } from "./values.ts"
import { LocalBranchRef } from "./workspaceInput.ts"

export const MergeStrategy = Schema.Literals(["ff-only", "merge", "squash", "rebase"]).annotate({
  identifier: "MergeStrategy",
  description:
    "ff-only: move the target to the thread's branch (only when the target has not moved since the fork); merge: a merge commit; squash: one commit with the thread's changes; rebase: the thread's commits replayed on the target"
})
export type MergeStrategy = typeof MergeStrategy.Type

export const ThreadMergeRequest = Schema.Struct({
  threadId: ThreadId.annotate({ description: "The thread whose branch to merge" }),
  into: Schema.optionalKey(
    LocalBranchRef.annotate({
      description:
        "The local branch to merge into (default: the parent thread's branch, else the branch the thread started from)"
    })
  ),
  strategy: Schema.optionalKey(
    MergeStrategy.annotate({
      description:
        "ff-only, merge, squash or rebase (default: ff-only when the target has not moved since the fork, else merge)"
    })
  ),
  dryRun: Schema.optionalKey(
    Schema.Boolean.annotate({
      description: "true: answer what would happen (files, conflicts) and write nothing"
    })
  ),
  commit: Schema.optionalKey(
    Schema.Boolean.annotate({
      description: "true: commit the thread's uncommitted changes (untracked files too) on its branch first"
    })
  ),
  stop: Schema.optionalKey(
    Schema.Boolean.annotate({
      description: "true: interrupt the thread's running turn first (otherwise a running turn is refused)"
    })
  ),
  archive: Schema.optionalKey(
    Schema.Boolean.annotate({
      description: "true: archive the thread once merged (its worktree and branch go when nothing is lost)"
    })
  )
}).annotate({ identifier: "ThreadMergeRequest" })
export type ThreadMergeRequest = typeof ThreadMergeRequest.Type

export const MergeConflictFile = Schema.Struct({
  path: Schema.String,
  hunks: Schema.Array(Schema.Struct({ startLine: Schema.Int, endLine: Schema.Int }))
})

export const ThreadMergeResult = Schema.Struct({
  threadId: ThreadId,
  dryRun: Schema.Boolean,
  strategy: MergeStrategy,
  /** The branch merged into, and the thread's branch. */
  target: Schema.String,
  source: Schema.String,
  /** The thread's commits were already in the target: nothing was (or would be) done. */
  upToDate: Schema.Boolean,
  /** The target's commit before, and after (null for a dry run or when up to date). */
  before: Schema.String,
  commit: Schema.NullOr(Schema.String),
  files: Schema.Array(
    Schema.Struct({
      path: Schema.String,
      added: Schema.NullOr(Schema.Int),
      removed: Schema.NullOr(Schema.Int)
    })
  ),
  /** For a dry run that would conflict: the files and their hunks. */
  conflicts: Schema.Array(MergeConflictFile),
  /** The commit `commit: true` made of the thread's uncommitted changes, if any. */
  committed: Schema.optionalKey(Schema.NullOr(Schema.String)),
  /** How the running turn `stop: true` interrupted ended, if there was one. */
  stopped: Schema.optionalKey(Schema.NullOr(Schema.String)),
  /** True when `archive: true` archived the thread. */
  archived: Schema.optionalKey(Schema.Boolean)
}).annotate({ identifier: "ThreadMergeResult" })
export type ThreadMergeResult = typeof ThreadMergeResult.Type

/** A merge as the thread records it (`thread.merged`), the latest on `Thread.merge`. */
export const ThreadMergeRecord = Schema.Struct({
  strategy: MergeStrategy,
  target: Schema.String,
  /** The thread's branch tip that was merged, and the target's commit before and after. */
  sourceCommit: Schema.String,
  before: Schema.String,
  commit: Schema.String,
  files: Schema.Int,
  added: Schema.Int,
  removed: Schema.Int,
  at: IsoTimestamp
}).annotate({ identifier: "ThreadMergeRecord" })
export type ThreadMergeRecord = typeof ThreadMergeRecord.Type
