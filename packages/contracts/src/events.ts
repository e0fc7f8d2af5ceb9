// Events: past tense, append-only. Every event carries its global gapless `sequence`, who caused
// it (`actor`) and the `commandId` it came from, so the log doubles as an audit trail.
import * as Schema from "effect/Schema"
import { AgentNoticeReport } from "./agentNotices.ts"
import { ThreadAttachment } from "./attachments.ts"
import { ThreadCheck } from "./attempts.ts"
import { QueuedStart } from "./commands.ts"
import { ErrorReason } from "./errors.ts"
import { CommandId, EventId, ProjectId, Sequence, ThreadId, TurnId } from "./ids.ts"
import { ThreadMergeRecord } from "./merge.ts"
import { NotifyOutcome, NotifyWebhook } from "./notify.ts"
import {
  AgentCommand,
  AgentEnv,
  CodexBin,
  CodexConfig,
  PortCount,
  Project,
  ProjectCheckout,
  RetentionPolicy,
  SetupApproval,
  SetupEnv,
  SubmoduleUrls,
  WorktreePoolSize
} from "./project.ts"
import { OverlapFile } from "./radar.ts"
import {
  BootstrapStage,
  PortBlock,
  QueueWait,
  SetupStatus,
  Thread,
  ThreadChanges,
  ThreadMergeConflict,
  ThreadWorkspace,
  WorktreeCleanup
} from "./thread.ts"
import {
  ApprovalOutcome,
  ChildNotice,
  ItemPhase,
  PendingApproval,
  SessionStatus,
  TokenUsage,
  TurnEndStatus,
  TurnItem
} from "./turns.ts"
import {
  AbsolutePath,
  Actor,
  IsoTimestamp,
  ModelName,
  Prompt,
  ProviderKind,
  RuntimeMode,
  SetupScript,
  SetupTimeoutSeconds,
  StoredTitle,
  WorkspaceMode
} from "./values.ts"

export const EventEnvelope = {
  sequence: Sequence,
  eventId: EventId,
  occurredAt: IsoTimestamp,
  commandId: CommandId,
  actor: Actor
}

const event = <const T extends string, const P extends Schema.Struct.Fields>(type: T, payload: P) =>
  Schema.Struct({ type: Schema.Literal(type), ...EventEnvelope, payload: Schema.Struct(payload) })

export const ProjectCreated = event("project.created", { project: Project })

export const ProjectUpdated = event("project.updated", {
  projectId: ProjectId,
  changes: Schema.Struct({
    title: Schema.optionalKey(StoredTitle),
    defaultBranch: Schema.optionalKey(Schema.NullOr(Schema.String)),
    setupScript: Schema.optionalKey(Schema.NullOr(SetupScript)),
    setupTimeoutSeconds: Schema.optionalKey(SetupTimeoutSeconds),
    setupEnv: Schema.optionalKey(SetupEnv),
    agentEnv: Schema.optionalKey(AgentEnv),
    initSubmodules: Schema.optionalKey(Schema.Boolean),
    submoduleUrls: Schema.optionalKey(SubmoduleUrls),
    gitHooks: Schema.optionalKey(Schema.Boolean),
    defaultProvider: Schema.optionalKey(ProviderKind),
    defaultModel: Schema.optionalKey(Schema.NullOr(ModelName)),
    defaultRuntimeMode: Schema.optionalKey(RuntimeMode),
    codexBin: Schema.optionalKey(Schema.NullOr(CodexBin)),
    codexConfig: Schema.optionalKey(CodexConfig),
    agentCommand: Schema.optionalKey(Schema.NullOr(AgentCommand)),
    acpAgent: Schema.optionalKey(Schema.NullOr(AgentCommand)),
    worktreePoolSize: Schema.optionalKey(WorktreePoolSize),
    portCount: Schema.optionalKey(PortCount),
    retention: Schema.optionalKey(RetentionPolicy),
    setupApproval: Schema.optionalKey(SetupApproval),
    /** The webhook as it is now (null: removed); a secret's value is never in the log. */
    notifyWebhook: Schema.optionalKey(Schema.NullOr(NotifyWebhook))
  })
})

export const ProjectDeleted = event("project.deleted", { projectId: ProjectId })

/** A host's checkout of the project was added: its threads may run on that host too. */
export const ProjectCheckoutAdded = event("project.checkout-added", {
  projectId: ProjectId,
  checkout: ProjectCheckout
})

/** A notification reached the project's webhook (a 2xx answer). */
export const ProjectNotifyDelivered = event("project.notify-delivered", {
  projectId: ProjectId,
  outcome: NotifyOutcome
})

/** A notification could not be delivered (retries exhausted, refused, or dropped): it is given up. */
export const ProjectNotifyFailed = event("project.notify-failed", {
  projectId: ProjectId,
  outcome: NotifyOutcome
})

/**
 * Two live threads of the project started or stopped changing the same lines, or the files they
 * both change changed (the conflict radar). `files` is empty when the overlap disappeared.
 */
export const ProjectOverlapChanged = event("project.overlap-changed", {
  projectId: ProjectId,
  threadIds: Schema.Array(ThreadId),
  change: Schema.Literals(["appeared", "changed", "disappeared"]),
  files: Schema.Array(OverlapFile),
  filesTruncated: Schema.Int
})

export const ThreadCreated = event("thread.created", { thread: Thread })

/**
 * A start past a limit, queued instead of refused: the thread (status `queued`), what it waits
 * for, and the request to send again when a slot frees. The queue's order is this event's sequence.
 */
export const ThreadQueued = event("thread.queued", {
  thread: Thread,
  waitsFor: QueueWait,
  request: QueuedStart
})

/** A queued thread leaves the queue and its bootstrap begins. */
export const ThreadDequeued = event("thread.dequeued", {
  threadId: ThreadId,
  workspaceMode: WorkspaceMode,
  worktreePath: Schema.NullOr(Schema.String),
  runSetupScript: Schema.Boolean,
  /** The host that took it from the queue and owns it now; absent in events from before hosts. */
  host: Schema.optionalKey(Schema.String)
})

export const ThreadArchived = event("thread.archived", { threadId: ThreadId })

/** The thread is hidden from lists; its events stay. */
export const ThreadDeleted = event("thread.deleted", { threadId: ThreadId })

export const ThreadUnarchived = event("thread.unarchived", { threadId: ThreadId })

/** What archiving or the retention cleanup did with the thread's worktree and branch. */
export const ThreadWorktreeCleaned = event("thread.worktree-cleaned", {
  threadId: ThreadId,
  cleanup: WorktreeCleanup
})

/** An unarchived thread's removed worktree, checked out again from its branch. */
export const ThreadWorktreeRestored = event("thread.worktree-restored", {
  threadId: ThreadId,
  worktreePath: AbsolutePath,
  branch: Schema.String
})

/** Ports given to a live thread (null: none could be found free). Archiving releases them. */
export const ThreadPortsAssigned = event("thread.ports-assigned", {
  threadId: ThreadId,
  ports: Schema.NullOr(PortBlock)
})

/** The retention policy found the thread idle since `idleSince`; any later activity clears it. */
export const ThreadFlaggedIdle = event("thread.flagged-idle", { threadId: ThreadId, idleSince: IsoTimestamp })

/** Something Spindle refused to do with the thread, and why (shown with the thread). */
export const ThreadWarned = event("thread.warned", { threadId: ThreadId, warning: Schema.String })

/** Its children woke the idle thread: turn `turnId` was started for their notices. */
export const ThreadWoken = event("thread.woken", {
  threadId: ThreadId,
  turnId: TurnId,
  noticeIds: Schema.Array(Schema.String)
})

/** The thread's branch was merged into another (thread.merge). */
export const ThreadMerged = event("thread.merged", { threadId: ThreadId, merge: ThreadMergeRecord })

export const ThreadWorkspacePrepared = event("thread.workspace-prepared", {
  threadId: ThreadId,
  workspace: ThreadWorkspace,
  warnings: Schema.Array(Schema.String)
})

export const ThreadSetupStarted = event("thread.setup-started", {
  threadId: ThreadId,
  run: Schema.Int,
  logPath: AbsolutePath
})

export const ThreadSetupCompleted = event("thread.setup-completed", {
  threadId: ThreadId,
  run: Schema.Int,
  status: SetupStatus,
  exitCode: Schema.NullOr(Schema.Int),
  signal: Schema.NullOr(Schema.String),
  durationMs: Schema.NullOr(Schema.Number),
  logTail: Schema.String
})

export const ThreadTurnStartRequested = event("thread.turn-start-requested", {
  threadId: ThreadId,
  turnId: TurnId,
  prompt: Prompt,
  /** Spindle's copies of the files given with the prompt. */
  attachments: Schema.optionalKey(Schema.Array(AbsolutePath))
})

export const ThreadAttachmentsAdded = event("thread.attachments-added", {
  threadId: ThreadId,
  attachments: Schema.Array(ThreadAttachment)
})

export const ThreadBootstrapFailed = event("thread.bootstrap-failed", {
  threadId: ThreadId,
  stage: BootstrapStage,
  error: Schema.Struct({ reason: ErrorReason, message: Schema.String })
})

export const ThreadBootstrapCompleted = event("thread.bootstrap-completed", { threadId: ThreadId })

/** A thread whose bootstrap failed is bootstrapped again (with a new commandId). */
export const ThreadBootstrapRestarted = event("thread.bootstrap-restarted", {
  threadId: ThreadId,
  workspaceMode: WorkspaceMode,
  /** The checkout it binds to, when known before the workspace step (absent in older logs). */
  worktreePath: Schema.optionalKey(Schema.NullOr(Schema.String)),
  runSetupScript: Schema.Boolean
})

/** A follow-up prompt for the running turn (providers that can steer, such as Codex). */
export const ThreadTurnSteerRequested = event("thread.turn-steer-requested", {
  threadId: ThreadId,
  turnId: TurnId,
  prompt: Prompt,
  /** Spindle's copies of the files given with the prompt. */
  attachments: Schema.optionalKey(Schema.Array(AbsolutePath))
})

export const ThreadTurnInterruptRequested = event("thread.turn-interrupt-requested", {
  threadId: ThreadId,
  turnId: TurnId
})

// ---- what the provider session reported (ProviderReport) ------------------------------------

export const ThreadSessionChanged = event("thread.session-changed", {
  threadId: ThreadId,
  status: SessionStatus,
  providerSessionId: Schema.NullOr(Schema.String),
  resumeCursor: Schema.NullOr(Schema.String),
  error: Schema.NullOr(Schema.String),
  /** Why Spindle stopped the session on its own (the idle timeout). */
  reason: Schema.optionalKey(Schema.String)
})

export const ThreadTurnStarted = event("thread.turn-started", { threadId: ThreadId, turnId: TurnId })

export const ThreadTurnItem = event("thread.turn-item", {
  threadId: ThreadId,
  turnId: TurnId,
  phase: ItemPhase,
  item: TurnItem
})

export const ThreadTurnUsage = event("thread.turn-usage", {
  threadId: ThreadId,
  turnId: TurnId,
  usage: TokenUsage
})

export const ThreadTurnEnded = event("thread.turn-ended", {
  threadId: ThreadId,
  turnId: TurnId,
  status: TurnEndStatus,
  reason: Schema.NullOr(Schema.String)
})

/** An error or warning the agent said; repeats of one notice are counted (`notice.count`). */
export const ThreadAgentNoticed = event("thread.agent-noticed", {
  threadId: ThreadId,
  notice: AgentNoticeReport
})

/** The running turn showed no progress since `since`; its next progress clears it. */
export const ThreadTurnStalled = event("thread.turn-stalled", {
  threadId: ThreadId,
  turnId: TurnId,
  since: IsoTimestamp
})

export const ThreadApprovalRequested = event("thread.approval-requested", {
  threadId: ThreadId,
  approval: PendingApproval
})

/** Answered by a client, or expired because its turn or session ended first. */
export const ThreadApprovalResolved = event("thread.approval-resolved", {
  threadId: ThreadId,
  requestId: Schema.String,
  outcome: ApprovalOutcome
})

/** A parent is told about its child (its turn ended, or it needs an approval). */
export const ThreadChildNotified = event("thread.child-notified", { threadId: ThreadId, notice: ChildNotice })

export const ThreadChildNoticesDelivered = event("thread.child-notices-delivered", {
  threadId: ThreadId,
  noticeIds: Schema.Array(Schema.String)
})

/** A variant's check command ran after its turn completed (or could not run, and why). */
export const ThreadCheckCompleted = event("thread.check-completed", {
  threadId: ThreadId,
  check: ThreadCheck
})

/** The conflict radar counted the thread's changes anew, and the count changed. */
export const ThreadChangesUpdated = event("thread.changes-updated", {
  threadId: ThreadId,
  changes: ThreadChanges
})

/** A merge of the thread was refused for conflicts (nothing was changed); the thread needs its user. */
export const ThreadMergeConflicted = event("thread.merge-conflicted", {
  threadId: ThreadId,
  conflict: ThreadMergeConflict
})

export const SpindleEvent = Schema.Union([
  ProjectCreated,
  ProjectUpdated,
  ProjectDeleted,
  ProjectCheckoutAdded,
  ProjectOverlapChanged,
  ProjectNotifyDelivered,
  ProjectNotifyFailed,
  ThreadCreated,
  ThreadQueued,
  ThreadDequeued,
  ThreadArchived,
  ThreadDeleted,
  ThreadUnarchived,
  ThreadWorktreeCleaned,
  ThreadWorktreeRestored,
  ThreadPortsAssigned,
  ThreadFlaggedIdle,
  ThreadWarned,
  ThreadMerged,
  ThreadWoken,
  ThreadWorkspacePrepared,
  ThreadSetupStarted,
  ThreadSetupCompleted,
  ThreadTurnStartRequested,
  ThreadBootstrapFailed,
  ThreadBootstrapCompleted,
  ThreadBootstrapRestarted,
  ThreadTurnSteerRequested,
  ThreadTurnInterruptRequested,
  ThreadSessionChanged,
  ThreadTurnStarted,
  ThreadTurnItem,
  ThreadTurnUsage,
  ThreadTurnEnded,
  ThreadApprovalRequested,
  ThreadApprovalResolved,
  ThreadChildNotified,
  ThreadChildNoticesDelivered,
  ThreadAttachmentsAdded,
  ThreadAgentNoticed,
  ThreadTurnStalled,
  ThreadCheckCompleted,
  ThreadChangesUpdated,
  ThreadMergeConflicted
]).annotate({ identifier: "SpindleEvent" })
export type SpindleEvent = typeof SpindleEvent.Type
export type SpindleEventType = SpindleEvent["type"]

/** What the decider produces: an event before the engine gives it an id, a time and a sequence. */
export type EventDraft = SpindleEvent extends infer E
  ? E extends SpindleEvent
    ? Pick<E, "type" | "payload">
    : never
  : never
