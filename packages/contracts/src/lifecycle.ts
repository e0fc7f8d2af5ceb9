// What archiving, unarchiving, deleting and the worktree cleanup answer, and how `spindle
// worktrees` describes each worktree under Spindle's root.
import * as Schema from "effect/Schema"
import { ProjectId, Sequence, ThreadId } from "./ids.ts"
import { ThreadStatus, WorktreeCleanup } from "./thread.ts"

/** What thread.archive, thread.unarchive and thread.delete answer. */
export const ArchiveResult = Schema.Struct({
  sequence: Sequence,
  threadId: ThreadId,
  status: ThreadStatus,
  deleted: Schema.Boolean,
  /** The thread's worktree now (null once removed). */
  worktreePath: Schema.NullOr(Schema.String),
  /** What was done with the worktree (archive, delete); null after unarchive. */
  worktree: Schema.NullOr(WorktreeCleanup)
}).annotate({ identifier: "ArchiveResult", description: "What archiving or unarchiving a thread did" })
export type ArchiveResult = typeof ArchiveResult.Type

/** What project.remove answers: the threads it archived first (with archiveThreads). */
export const ProjectRemoveResult = Schema.Struct({
  sequence: Sequence,
  projectId: ProjectId,
  archived: Schema.Array(ArchiveResult)
}).annotate({ identifier: "ProjectRemoveResult" })
export type ProjectRemoveResult = typeof ProjectRemoveResult.Type

export const WorktreeState = Schema.Literals([
  /** No uncommitted changes, every commit also on another branch or upstream. */
  "clean",
  "dirty",
  "unpushed",
  /** Under Spindle's root but no thread (and no pool) owns it. */
  "orphaned",
  /** A spare worktree of the project's pool. */
  "pooled",
  /** A thread's recorded worktree whose directory is gone. */
  "missing"
])
export type WorktreeState = typeof WorktreeState.Type

export const WorktreeAction = Schema.Literals(["remove", "keep", "prune"])

export const WorktreeEntry = Schema.Struct({
  path: Schema.String,
  projectId: Schema.NullOr(ProjectId),
  threadId: Schema.NullOr(ThreadId),
  /** The owning thread's status, "deleted" for a deleted one; null without a thread. */
  threadStatus: Schema.NullOr(Schema.Literals(["active", "queued", "archived", "deleted"])),
  branch: Schema.NullOr(Schema.String),
  /** Bytes on disk (du); null when it could not be measured. */
  sizeBytes: Schema.NullOr(Schema.Number),
  state: WorktreeState,
  /** What makes it dirty or unpushed, or why it is orphaned. */
  details: Schema.Array(Schema.String),
  /** What `spindle worktrees --apply` does with it, and why. */
  action: WorktreeAction,
  why: Schema.String,
  /** Set by the cleanup: what it did ("removed", "pruned", or why it did not). */
  result: Schema.optionalKey(Schema.String)
}).annotate({ identifier: "WorktreeEntry" })
export type WorktreeEntry = typeof WorktreeEntry.Type
