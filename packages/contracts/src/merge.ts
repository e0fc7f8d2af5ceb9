// Bringing a thread's work back: merging its branch into its parent's branch, or into the branch
// it was started from (or one named). What a merge would do, or did.
import * as Schema from "effect/Schema"
import { ThreadId } from "./ids.ts"
import { LocalBranchRef } from "./workspaceInput.ts"

export const MergeStrategy = Schema.Literals(["ff-only", "merge", "squash"]).annotate({
  identifier: "MergeStrategy",
  description:
    "ff-only: move the target to the thread's branch (only when the target has not moved since the fork); merge: a merge commit; squash: one commit with the thread's changes"
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
        "ff-only, merge or squash (default: ff-only when the target has not moved since the fork, else merge)"
    })
  ),
  dryRun: Schema.optionalKey(
    Schema.Boolean.annotate({
      description: "true: answer what would happen (files, conflicts) and write nothing"
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
  conflicts: Schema.Array(MergeConflictFile)
}).annotate({ identifier: "ThreadMergeResult" })
export type ThreadMergeResult = typeof ThreadMergeResult.Type
