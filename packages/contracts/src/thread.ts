// The Thread read model: one conversation with a coding agent inside a git checkout.
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { AgentNotice } from "./agentNotices.ts"
import { ThreadAttachment } from "./attachments.ts"
import { ThreadAttempt, ThreadCheck } from "./attempts.ts"
import { ErrorReason } from "./errors.ts"
import { ProjectId, ThreadId, TurnId } from "./ids.ts"
import { ThreadMergeRecord } from "./merge.ts"
import { ChildNotice, PendingApproval, SessionStatus, TokenUsage, TurnStatus } from "./turns.ts"
import {
  AbsolutePath,
  InteractionMode,
  IsoTimestamp,
  ModelName,
  OnDone,
  ProviderKind,
  RuntimeMode,
  StoredTitle,
  Tags,
  WorkspaceMode
} from "./values.ts"

export const ThreadWorkspace = Schema.Struct({
  mode: WorkspaceMode,
  /** The checked-out branch; null on a detached HEAD or before the workspace exists. */
  branch: Schema.NullOr(Schema.String),
  /** The real path the agent works in; never null once a worktree exists. */
  worktreePath: Schema.NullOr(AbsolutePath),
  baseBranch: Schema.NullOr(Schema.String),
  /** True when Spindle created the worktree and branch (and so may remove them). */
  createdByUs: Schema.Boolean
})
export type ThreadWorkspace = typeof ThreadWorkspace.Type

export const BootstrapStage = Schema.Literals(["validate", "create-thread", "workspace", "setup", "turn"])
export type BootstrapStage = typeof BootstrapStage.Type

export const BootstrapStatus = Schema.Literals(["none", "running", "completed", "failed"])
export type BootstrapStatus = typeof BootstrapStatus.Type

export const ThreadBootstrap = Schema.Struct({
  status: BootstrapStatus,
  stage: Schema.NullOr(BootstrapStage),
  error: Schema.NullOr(Schema.Struct({ reason: ErrorReason, message: Schema.String }))
})

export const SetupStatus = Schema.Literals([
  "not-requested",
  "pending",
  "running",
  "succeeded",
  "failed",
  "timed-out",
  "cancelled",
  "interrupted",
  "no-script",
  /** A committed setup script the user has not approved (it changed since): not run. */
  "unapproved"
])
export type SetupStatus = typeof SetupStatus.Type

export const ThreadSetup = Schema.Struct({
  status: SetupStatus,
  /** How many setup runs this thread has had; the current run's number. */
  runs: Schema.Int,
  exitCode: Schema.NullOr(Schema.Int),
  signal: Schema.NullOr(Schema.String),
  durationMs: Schema.NullOr(Schema.Number),
  /** The last lines of output (at most 8 KiB). */
  logTail: Schema.String
})
export type ThreadSetup = typeof ThreadSetup.Type

/** A field added after the first release: absent in older events and rows, so it decodes to a default. */
const added = <S extends Schema.Top>(schema: S, value: S["Encoded"]) =>
  schema.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)))

/** What a live thread changed against its fork point, committed or not (the conflict radar's count). */
export const ThreadChanges = Schema.Struct({
  files: Schema.Int,
  /** Lines added; an untracked file's lines count as added. */
  insertions: Schema.Int,
  deletions: Schema.Int
}).annotate({ identifier: "ThreadChanges" })
export type ThreadChanges = typeof ThreadChanges.Type

/** Whether two counts of a thread's changes say the same (null: not counted yet). */
export const sameChanges = (a: ThreadChanges | null, b: ThreadChanges | null): boolean =>
  a === b ||
  (a !== null &&
    b !== null &&
    a.files === b.files &&
    a.insertions === b.insertions &&
    a.deletions === b.deletions)

/** A merge of the thread that conflicted: where into, and the files (a merge or a new turn clears it). */
export const ThreadMergeConflict = Schema.Struct({
  target: Schema.String,
  /** The conflicting files (at most 50). */
  files: Schema.Array(Schema.String),
  at: IsoTimestamp
}).annotate({ identifier: "ThreadMergeConflict" })
export type ThreadMergeConflict = typeof ThreadMergeConflict.Type

export const ThreadSession = Schema.Struct({
  status: SessionStatus,
  providerSessionId: Schema.NullOr(Schema.String),
  /** The provider's own conversation id (Codex thread id): the next session resumes it. */
  resumeCursor: added(Schema.NullOr(Schema.String), null),
  /** Why the session ended in `error`. */
  error: added(Schema.NullOr(Schema.String), null),
  /** Why Spindle stopped the session on its own (`stopped` at the idle timeout); null otherwise. */
  reason: added(Schema.NullOr(Schema.String), null)
})
export type ThreadSession = typeof ThreadSession.Type

/** The last agent message of a turn is kept up to this many characters (the end is kept). */
export const MAX_LAST_MESSAGE = 4_000

export const ThreadTurn = Schema.Struct({
  turnId: TurnId,
  status: TurnStatus,
  requestedAt: IsoTimestamp,
  completedAt: Schema.NullOr(IsoTimestamp),
  /** Why it failed or was interrupted. */
  reason: added(Schema.NullOr(Schema.String), null),
  /** The agent's last message in this turn (at most MAX_LAST_MESSAGE characters). */
  lastMessage: added(Schema.NullOr(Schema.String), null),
  /** True when the last message was longer than MAX_LAST_MESSAGE and only its end is kept. */
  lastMessageTruncated: added(Schema.Boolean, false),
  usage: added(Schema.NullOr(TokenUsage), null),
  /**
   * Set while the running turn has shown no progress (no item, output, usage or turn event from
   * the agent) since this time, for longer than the server's stall timeout; cleared by progress.
   */
  stalledSince: added(Schema.NullOr(IsoTimestamp), null)
})
export type ThreadTurn = typeof ThreadTurn.Type

/** queued: started past a limit, waiting for a slot (see `queue`); it has no workspace yet. */
export const ThreadStatus = Schema.Literals(["active", "queued", "archived"])

/**
 * What a queued start waits for: a running-turn slot on this host, an active-thread slot in its
 * project, a child slot under its parent, or a bootstrap slot in its project; `limit` is the
 * limit it met.
 */
export const QueueWait = Schema.Struct({
  kind: Schema.Literals(["running-turns", "active-threads", "children", "bootstraps"]),
  limit: Schema.Int
}).annotate({ identifier: "QueueWait" })
export type QueueWait = typeof QueueWait.Type

/** A queued thread's place: starts run in the order they were queued (`sequence`). */
export const ThreadQueue = Schema.Struct({
  /** The sequence of its `thread.queued` event: the queue's order. */
  sequence: Schema.Int,
  /** 1 for the next to start. */
  position: Schema.Int,
  waitsFor: QueueWait,
  queuedAt: IsoTimestamp
}).annotate({ identifier: "ThreadQueue" })
export type ThreadQueue = typeof ThreadQueue.Type

/** A block of consecutive ports on 127.0.0.1 that no other live thread holds (SPINDLE_PORT...). */
export const PortBlock = Schema.Struct({
  first: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 65_535 })),
  count: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 100 }))
}).annotate({ identifier: "PortBlock" })
export type PortBlock = typeof PortBlock.Type

/**
 * What archiving (or the retention cleanup) did with the worktree and branch Spindle created:
 * removed them, kept them (and why), or left them alone because Spindle did not create them.
 */
export const WorktreeCleanup = Schema.Struct({
  outcome: Schema.Literals(["removed", "kept", "not-ours"]),
  /** Why the worktree was kept; for a forced removal, what was lost. */
  reasons: Schema.Array(Schema.String),
  worktreePath: Schema.NullOr(Schema.String),
  branch: Schema.NullOr(Schema.String),
  /** The branch's commit at cleanup: unarchive re-creates the branch there if it was deleted. */
  head: Schema.NullOr(Schema.String),
  branchDeleted: Schema.Boolean,
  /** Set on a forced removal: the uncommitted files and the commits on no other branch. */
  lost: Schema.NullOr(
    Schema.Struct({ files: Schema.Array(Schema.String), commits: Schema.Array(Schema.String) })
  ),
  at: IsoTimestamp
}).annotate({ identifier: "WorktreeCleanup" })
export type WorktreeCleanup = typeof WorktreeCleanup.Type

export const Thread = Schema.Struct({
  id: ThreadId,
  projectId: ProjectId,
  /** Set when an agent spawned this thread from another one. */
  parentThreadId: Schema.NullOr(ThreadId),
  title: StoredTitle,
  tags: Tags,
  provider: ProviderKind,
  model: Schema.NullOr(ModelName),
  runtimeMode: RuntimeMode,
  interactionMode: InteractionMode,
  status: ThreadStatus,
  workspace: ThreadWorkspace,
  bootstrap: ThreadBootstrap,
  setup: ThreadSetup,
  session: ThreadSession,
  latestTurn: Schema.NullOr(ThreadTurn),
  /** Approval requests of the running turn that wait for an answer (thread.approval.respond). */
  pendingApprovals: added(Schema.Array(PendingApproval), []),
  /** What its end does for its parent (values.ts OnDone); threads from before it was set: next-prompt. */
  onDone: added(OnDone, "next-prompt"),
  /** When its children last woke it (a turn started for them), newest last; the wake cap counts these. */
  wokenAt: added(Schema.Array(IsoTimestamp), []),
  /** Notices about its children its agent has not been given yet (they go with its next prompt). */
  childNotices: added(Schema.Array(ChildNotice), []),
  /** Files given with the first prompt (Spindle's copies). */
  attachments: added(Schema.Array(ThreadAttachment), []),
  /** Its ports while it is live (released on archive); null when it has none. */
  ports: added(Schema.NullOr(PortBlock), null),
  /** What archiving did with its worktree; null until then, and again once unarchived. */
  cleanup: added(Schema.NullOr(WorktreeCleanup), null),
  /** Set by the retention policy when the thread has been idle for its project's limit. */
  idleSince: added(Schema.NullOr(IsoTimestamp), null),
  /**
   * What Spindle refused to do with the thread and why, each said once (e.g. running git in a
   * worktree whose .git no longer links into the project's repository).
   */
  warnings: added(Schema.Array(Schema.String), []),
  /** The latest errors and warnings its agent reported (MAX_AGENT_NOTICES at most), oldest first. */
  agentNotices: added(Schema.Array(AgentNotice), []),
  /** Its latest merge into another branch (thread.merge); null until it is merged. */
  merged: added(Schema.NullOr(ThreadMergeRecord), null),
  /** Deleted threads are hidden from lists; their events stay in the log. */
  deletedAt: added(Schema.NullOr(IsoTimestamp), null),
  /** Set while the thread is queued (status `queued`): its place and what it waits for. */
  queue: added(Schema.NullOr(ThreadQueue), null),
  /** The attempt (best of N) it is a variant of, set at creation; null for a thread on its own. */
  attempt: added(Schema.NullOr(ThreadAttempt), null),
  /** Its attempt's check command, as it last ran after a completed turn; null until then. */
  check: added(Schema.NullOr(ThreadCheck), null),
  /**
   * What it changed against its fork point, as the conflict radar last counted it while it was
   * live; null until counted.
   */
  changes: added(Schema.NullOr(ThreadChanges), null),
  /** Its last merge that conflicted, until a merge lands or a new turn starts; null otherwise. */
  mergeConflict: added(Schema.NullOr(ThreadMergeConflict), null),
  /**
   * The host that owns it: holds its worktree and runs its setup and agent (its id in the store's
   * hosts); null for threads from before hosts were recorded.
   */
  host: added(Schema.NullOr(Schema.String), null),
  createdAt: IsoTimestamp,
  updatedAt: IsoTimestamp,
  archivedAt: Schema.NullOr(IsoTimestamp)
}).annotate({ identifier: "Thread", description: "A conversation with a coding agent in a git checkout" })
export type Thread = typeof Thread.Type
