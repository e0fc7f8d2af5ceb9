// Commands: imperative and dotted. Client commands are what the app, the CLI and agents may send;
// internal commands are issued only by the server itself (the bootstrap dispatcher) and are never
// accepted from a transport.
import * as Schema from "effect/Schema"
import { Attachments, ThreadAttachment } from "./attachments.ts"
import { ThreadAttempt, ThreadCheck } from "./attempts.ts"
import { ErrorReason } from "./errors.ts"
import { CommandId, HostRef, ProjectId, ThreadId, TurnId } from "./ids.ts"
import { ThreadMergeRecord } from "./merge.ts"
import { NotifyOutcome, NotifySecret, WebhookUrl } from "./notify.ts"
import {
  AgentCommand,
  AgentEnv,
  CodexBin,
  CodexConfig,
  PortCount,
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
  SetupStatus,
  ThreadChanges,
  ThreadMergeConflict,
  ThreadWorkspace,
  WorktreeCleanup
} from "./thread.ts"
import { ApprovalDecision, ProviderReport } from "./turns.ts"
import {
  AbsolutePath,
  InteractionMode,
  IsoTimestamp,
  ModelName,
  OnDone,
  Prompt,
  ProviderKind,
  RuntimeMode,
  SetupScript,
  SetupTimeoutSeconds,
  Tags,
  Title,
  WorkspaceMode
} from "./values.ts"
import {
  BaseRef,
  BranchName,
  fieldsForMode,
  fromThreadAlone,
  PullRequestNumber,
  prAlone
} from "./workspaceInput.ts"

const command = <const T extends string, const F extends Schema.Struct.Fields>(type: T, fields: F) =>
  Schema.Struct({ type: Schema.Literal(type), commandId: CommandId, ...fields })

// ---- client commands ------------------------------------------------------------------------

export const ProjectCreate = command("project.create", {
  projectId: ProjectId,
  workspaceRoot: AbsolutePath,
  title: Schema.optionalKey(Title),
  defaultBranch: Schema.optionalKey(BranchName),
  setupScript: Schema.optionalKey(SetupScript),
  setupTimeoutSeconds: Schema.optionalKey(SetupTimeoutSeconds),
  setupEnv: Schema.optionalKey(SetupEnv),
  agentEnv: Schema.optionalKey(AgentEnv),
  /**
   * On (true), also records the submodule URLs of `.gitmodules` on the default branch as the ones
   * new worktrees may fetch; turning it on again records them again.
   */
  initSubmodules: Schema.optionalKey(Schema.Boolean),
  /** Filled in by the server from the default branch when initSubmodules is given; a client's value is replaced. */
  submoduleUrls: Schema.optionalKey(SubmoduleUrls),
  /** Run the repository's hooks on Spindle's checkouts (off by default). */
  gitHooks: Schema.optionalKey(Schema.Boolean),
  defaultProvider: Schema.optionalKey(ProviderKind),
  defaultModel: Schema.optionalKey(ModelName),
  /** The runtimeMode of threads started without one (default: sandboxed). */
  defaultRuntimeMode: Schema.optionalKey(RuntimeMode),
  codexBin: Schema.optionalKey(CodexBin),
  codexConfig: Schema.optionalKey(CodexConfig),
  agentCommand: Schema.optionalKey(AgentCommand),
  acpAgent: Schema.optionalKey(AgentCommand),
  worktreePoolSize: Schema.optionalKey(WorktreePoolSize),
  portCount: Schema.optionalKey(PortCount),
  retention: Schema.optionalKey(RetentionPolicy),
  /** Where to POST the project's notifications (approval asked for, turn failed, ready to review). */
  notifyWebhook: Schema.optionalKey(WebhookUrl),
  /** Signs each delivery; needs notifyWebhook. Stored by the server, never shown back or logged. */
  notifySecret: Schema.optionalKey(NotifySecret)
}).annotate({ identifier: "ProjectCreate", description: "Register a git repository as a project" })

export const ProjectUpdate = command("project.update", {
  projectId: ProjectId,
  title: Schema.optionalKey(Title),
  /** Naming a default branch approves its committed setup script as it is now, as registering does. */
  defaultBranch: Schema.optionalKey(Schema.NullOr(BranchName)),
  /** null clears the setting (then `.spindle/setup.sh` committed on the default branch is used when present). */
  setupScript: Schema.optionalKey(Schema.NullOr(SetupScript)),
  setupTimeoutSeconds: Schema.optionalKey(SetupTimeoutSeconds),
  /** Replaces the whole set; `{}` clears it. */
  setupEnv: Schema.optionalKey(SetupEnv),
  /** Replaces the whole set; `{}` clears it. */
  agentEnv: Schema.optionalKey(AgentEnv),
  /**
   * On (true), also records the submodule URLs of `.gitmodules` on the default branch as the ones
   * new worktrees may fetch; turning it on again records them again.
   */
  initSubmodules: Schema.optionalKey(Schema.Boolean),
  /** Filled in by the server from the default branch when initSubmodules is given; a client's value is replaced. */
  submoduleUrls: Schema.optionalKey(SubmoduleUrls),
  /** Run the repository's hooks on Spindle's checkouts; the event records who turned them on. */
  gitHooks: Schema.optionalKey(Schema.Boolean),
  defaultProvider: Schema.optionalKey(ProviderKind),
  defaultModel: Schema.optionalKey(Schema.NullOr(ModelName)),
  defaultRuntimeMode: Schema.optionalKey(RuntimeMode),
  /** null: use the server's Codex binary. */
  codexBin: Schema.optionalKey(Schema.NullOr(CodexBin)),
  /** Replaces the whole list; [] clears it. */
  codexConfig: Schema.optionalKey(CodexConfig),
  /** null: the command provider is not set up for this project. */
  agentCommand: Schema.optionalKey(Schema.NullOr(AgentCommand)),
  /** null: the `acp` provider is not set up for this project (presets use their own command). */
  acpAgent: Schema.optionalKey(Schema.NullOr(AgentCommand)),
  worktreePoolSize: Schema.optionalKey(WorktreePoolSize),
  portCount: Schema.optionalKey(PortCount),
  retention: Schema.optionalKey(RetentionPolicy),
  /** Where to POST the project's notifications; null removes the webhook and its secret. A new URL keeps the secret. */
  notifyWebhook: Schema.optionalKey(Schema.NullOr(WebhookUrl)),
  /**
   * Sets (or replaces) the secret that signs deliveries; null removes it (deliveries go unsigned).
   * Needs a webhook, set already or in the same command. Never shown back or logged.
   */
  notifySecret: Schema.optionalKey(Schema.NullOr(NotifySecret)),
  /**
   * Approve `.spindle/setup.sh` as the default branch holds it now (and the branch's commit as
   * seen): until then a committed script that changed since the last approval does not run.
   */
  approveSetup: Schema.optionalKey(Schema.Boolean)
}).annotate({ identifier: "ProjectUpdate", description: "Change a project's settings" })

export const ProjectRemove = command("project.remove", {
  projectId: ProjectId,
  /** Archive its active threads first (each worktree removed only when clean and pushed). */
  archiveThreads: Schema.optionalKey(Schema.Boolean)
}).annotate({
  identifier: "ProjectRemove",
  description:
    "Unregister a project; refused while it has active threads unless archiveThreads (the repository is never touched)"
})

export const ProjectCheckoutAdd = command("project.checkout.add", {
  projectId: ProjectId,
  /** A clone of the project's repository on the host that takes the command. */
  workspaceRoot: AbsolutePath,
  /** The host (id or name) that holds the checkout; default the host the command was sent to. */
  host: Schema.optionalKey(HostRef)
}).annotate({
  identifier: "ProjectCheckoutAdd",
  description:
    "Add a host's checkout of the project's repository, so the project's threads may run on that host too"
})

const threadSettings = {
  tags: Schema.optionalKey(Tags),
  provider: Schema.optionalKey(ProviderKind),
  model: Schema.optionalKey(ModelName),
  runtimeMode: Schema.optionalKey(RuntimeMode),
  interactionMode: Schema.optionalKey(InteractionMode),
  /** For a child: what its end does for its parent (default: wake when an agent started it, else none). */
  onDone: Schema.optionalKey(OnDone)
}

export const ThreadCreate = command("thread.create", {
  threadId: ThreadId,
  projectId: ProjectId,
  title: Title,
  ...threadSettings
}).annotate({
  identifier: "ThreadCreate",
  description: "Create a thread that works in the project's own checkout, without starting a turn"
})

export const BootstrapRequest = Schema.Struct({
  createThread: Schema.Struct({
    projectId: ProjectId,
    /** Defaults to the prompt, whitespace collapsed, cut to 80 characters. */
    title: Schema.optionalKey(Title),
    ...threadSettings,
    /**
     * A variant of an attempt (best of N): the client sends one start per variant, each with the
     * same attempt id and its own index. `check` only from a person (an agent's is refused).
     */
    attempt: Schema.optionalKey(ThreadAttempt),
    /**
     * The host (id or name) to run the thread on; it needs a checkout of the project. Default:
     * an agent's child on its parent's host, any other on the host with the most free capacity.
     */
    host: Schema.optionalKey(HostRef)
  }),
  workspace: Schema.Struct({
    mode: WorkspaceMode,
    /** New branch name for `new_worktree` (default `spindle/<8 hex>`). */
    branch: Schema.optionalKey(BranchName),
    /** Ref to branch from for `new_worktree` (default: the project's default branch). */
    baseBranch: Schema.optionalKey(BaseRef),
    /** Fetch the base branch from origin first (bounded; falls back to the local ref). */
    fetchBase: Schema.optionalKey(Schema.Boolean),
    /** Required for `existing_worktree`: a worktree registered in the project's repository. */
    worktreePath: Schema.optionalKey(AbsolutePath),
    /** For `new_worktree`: start from this pull request's head, fetched from origin (not with branch or baseBranch). */
    pr: Schema.optionalKey(PullRequestNumber),
    /**
     * For `new_worktree`: start from this thread's present, its HEAD (an active thread of the same
     * project, with a worktree; an agent may name only its own thread). Not with baseBranch,
     * fetchBase or pr.
     */
    fromThread: Schema.optionalKey(ThreadId),
    /**
     * With fromThread: also its uncommitted changes (tracked and untracked, not ignored), as one
     * commit on top of its HEAD that the new branch starts at; its index and files are not touched.
     */
    includeUncommitted: Schema.optionalKey(Schema.Boolean)
  }).check(
    fieldsForMode({
      new_worktree: { refused: ["worktreePath"] },
      existing_worktree: {
        refused: ["branch", "baseBranch", "fetchBase", "pr", "fromThread", "includeUncommitted"],
        required: ["worktreePath"]
      },
      current_checkout: {
        refused: [
          "worktreePath",
          "branch",
          "baseBranch",
          "fetchBase",
          "pr",
          "fromThread",
          "includeUncommitted"
        ]
      }
    }),
    prAlone(["branch", "baseBranch", "fetchBase"]),
    fromThreadAlone("fromThread", (workspace) => workspace.fromThread !== undefined, [
      "baseBranch",
      "fetchBase",
      "pr"
    ])
  ),
  /** Default: true for `new_worktree`, false otherwise. */
  runSetupScript: Schema.optionalKey(Schema.Boolean),
  /** `stop` (default): no turn until setup succeeds. `continue`: start the turn anyway. */
  onSetupFailure: Schema.optionalKey(Schema.Literals(["stop", "continue"])),
  /** Images and text files for the first prompt (at most 8). */
  attachments: Schema.optionalKey(Attachments),
  /**
   * Past a limit (children per parent, active threads per project, running turns on this host)
   * the start is queued (default, true) and starts in order when a slot frees; false refuses it
   * with reason `capacity` instead.
   */
  queue: Schema.optionalKey(Schema.Boolean)
}).annotate({ identifier: "BootstrapRequest" })
export type BootstrapRequest = typeof BootstrapRequest.Type

export const ThreadTurnStart = command("thread.turn.start", {
  threadId: ThreadId,
  turnId: Schema.optionalKey(TurnId),
  prompt: Prompt,
  /** Present when the thread does not exist yet: create it, prepare its workspace, run setup. */
  bootstrap: Schema.optionalKey(BootstrapRequest),
  /**
   * Images and text files with a follow-up prompt (at most 8), for a thread that exists; the first
   * prompt's go in `bootstrap.attachments`.
   */
  attachments: Schema.optionalKey(Attachments)
}).annotate({ identifier: "ThreadTurnStart", description: "Start a turn, bootstrapping the thread first" })

/** Remove the worktree and branch even with uncommitted changes or unpushed commits (they are lost). */
const force = Schema.optionalKey(Schema.Boolean)

export const ThreadArchive = command("thread.archive", { threadId: ThreadId, force }).annotate({
  identifier: "ThreadArchive",
  description:
    "Archive a thread: stop its agent, release its ports, and remove the worktree and branch Spindle created when nothing would be lost (force: remove anyway)"
})

export const ThreadUnarchive = command("thread.unarchive", { threadId: ThreadId }).annotate({
  identifier: "ThreadUnarchive",
  description: "Make an archived thread active again, checking its removed worktree out again from its branch"
})

export const ThreadDelete = command("thread.delete", { threadId: ThreadId, force }).annotate({
  identifier: "ThreadDelete",
  description: "Archive a thread and hide it from lists (its events stay in the log)"
})

export const ThreadSetupRerun = command("thread.setup.rerun", {
  threadId: ThreadId,
  /** Once the setup passes, start the thread's first turn with its original prompt (it has none yet). */
  runTurn: Schema.optionalKey(Schema.Boolean)
}).annotate({
  identifier: "ThreadSetupRerun",
  description:
    "Run the thread's setup script again in its worktree (joins a run already in progress); with runTurn, then its first turn with the prompt it was started with"
})

export const ThreadTurnInterrupt = command("thread.turn.interrupt", {
  threadId: ThreadId,
  /** The turn to interrupt; default the thread's running turn. */
  turnId: Schema.optionalKey(TurnId)
}).annotate({ identifier: "ThreadTurnInterrupt", description: "Interrupt the thread's running turn" })

export const ThreadApprovalRespond = command("thread.approval.respond", {
  threadId: ThreadId,
  /** The request to answer, as listed in the thread's pendingApprovals. */
  requestId: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(200)),
  decision: ApprovalDecision
}).annotate({
  identifier: "ThreadApprovalRespond",
  description: "Answer an approval request of the thread's agent"
})

export const ClientCommandSchemas = {
  "project.create": ProjectCreate,
  "project.update": ProjectUpdate,
  "project.remove": ProjectRemove,
  "project.checkout.add": ProjectCheckoutAdd,
  "thread.create": ThreadCreate,
  "thread.turn.start": ThreadTurnStart,
  "thread.archive": ThreadArchive,
  "thread.unarchive": ThreadUnarchive,
  "thread.delete": ThreadDelete,
  "thread.setup.rerun": ThreadSetupRerun,
  "thread.turn.interrupt": ThreadTurnInterrupt,
  "thread.approval.respond": ThreadApprovalRespond
} as const

export const ClientCommand = Schema.Union(Object.values(ClientCommandSchemas)).annotate({
  identifier: "ClientCommand"
})
export type ClientCommand = typeof ClientCommand.Type
export type ClientCommandType = ClientCommand["type"]

// ---- internal commands ----------------------------------------------------------------------

/**
 * A start that was queued, as it must be sent again when a slot frees: the command as the caller
 * sent it, and the agent's thread when an agent asked.
 */
export const QueuedStart = Schema.Struct({
  command: ThreadTurnStart,
  parent: Schema.NullOr(Schema.Struct({ threadId: ThreadId, worktreePath: Schema.NullOr(Schema.String) }))
}).annotate({ identifier: "QueuedStart" })
export type QueuedStart = typeof QueuedStart.Type

export const ThreadBootstrapBegin = command("thread.bootstrap.begin", {
  threadId: ThreadId,
  projectId: ProjectId,
  parentThreadId: Schema.NullOr(ThreadId),
  title: Title,
  tags: Tags,
  provider: ProviderKind,
  model: Schema.NullOr(ModelName),
  runtimeMode: RuntimeMode,
  interactionMode: InteractionMode,
  workspaceMode: WorkspaceMode,
  /** The checkout the thread binds to when it is known before the workspace step (existing_worktree, current_checkout). */
  worktreePath: Schema.NullOr(AbsolutePath),
  runSetupScript: Schema.Boolean,
  /** When given, a start past a limit is queued with this request instead of refused. */
  queue: Schema.optionalKey(QueuedStart),
  /** The queued thread of this id is started from the queue (it leaves it, or stays when still full). */
  fromQueue: Schema.optionalKey(Schema.Boolean),
  onDone: Schema.optionalKey(OnDone),
  attempt: Schema.optionalKey(ThreadAttempt)
}).annotate({ identifier: "ThreadBootstrapBegin" })

export const ThreadWorkspaceRecord = command("thread.workspace.record", {
  threadId: ThreadId,
  workspace: ThreadWorkspace,
  warnings: Schema.Array(Schema.String)
}).annotate({ identifier: "ThreadWorkspaceRecord" })

export const ThreadSetupStart = command("thread.setup.start", {
  threadId: ThreadId,
  run: Schema.Int,
  logPath: AbsolutePath
}).annotate({ identifier: "ThreadSetupStart" })

export const ThreadSetupFinish = command("thread.setup.finish", {
  threadId: ThreadId,
  run: Schema.Int,
  status: SetupStatus,
  exitCode: Schema.NullOr(Schema.Int),
  signal: Schema.NullOr(Schema.String),
  durationMs: Schema.NullOr(Schema.Number),
  logTail: Schema.String
}).annotate({ identifier: "ThreadSetupFinish" })

export const ThreadTurnRequest = command("thread.turn.request", {
  threadId: ThreadId,
  turnId: TurnId,
  prompt: Prompt,
  /** Spindle's copies of the files given with the prompt. */
  attachments: Schema.optionalKey(Schema.Array(AbsolutePath))
}).annotate({ identifier: "ThreadTurnRequest" })

/** A follow-up prompt whose attachments Spindle has stored: the next turn, or a steer of the running one. */
export const ThreadTurnSend = command("thread.turn.send", {
  threadId: ThreadId,
  turnId: TurnId,
  prompt: Prompt,
  /** Spindle's copies of the files given with the prompt, recorded on the thread with it. */
  attachments: Schema.Array(ThreadAttachment)
}).annotate({ identifier: "ThreadTurnSend" })

export const ThreadAttachmentsRecord = command("thread.attachments.record", {
  threadId: ThreadId,
  attachments: Schema.Array(ThreadAttachment)
}).annotate({ identifier: "ThreadAttachmentsRecord" })

export const ThreadBootstrapFail = command("thread.bootstrap.fail", {
  threadId: ThreadId,
  stage: BootstrapStage,
  error: Schema.Struct({ reason: ErrorReason, message: Schema.String })
}).annotate({ identifier: "ThreadBootstrapFail" })

export const ThreadBootstrapComplete = command("thread.bootstrap.complete", { threadId: ThreadId }).annotate({
  identifier: "ThreadBootstrapComplete"
})

/** What a thread's provider session reported, recorded as the matching event. */
export const ThreadProviderRecord = command("thread.provider.record", {
  threadId: ThreadId,
  report: ProviderReport
}).annotate({ identifier: "ThreadProviderRecord" })

export const ThreadWorktreeRecord = command("thread.worktree.record", {
  threadId: ThreadId,
  cleanup: WorktreeCleanup
}).annotate({ identifier: "ThreadWorktreeRecord" })

export const ThreadWorktreeRestore = command("thread.worktree.restore", {
  threadId: ThreadId,
  worktreePath: AbsolutePath,
  branch: Schema.String
}).annotate({ identifier: "ThreadWorktreeRestore" })

export const ThreadPortsAssign = command("thread.ports.assign", {
  threadId: ThreadId,
  ports: Schema.NullOr(PortBlock)
}).annotate({ identifier: "ThreadPortsAssign" })

export const ThreadIdleFlag = command("thread.idle.flag", {
  threadId: ThreadId,
  idleSince: IsoTimestamp
}).annotate({ identifier: "ThreadIdleFlag" })

/**
 * project.create / project.update as the engine gets them: with the setup approval the server read
 * from the repository (at registration, a change of default branch, or approveSetup). A client
 * cannot send it (the client schemas refuse unknown fields).
 */
export const ProjectCreateResolved = Schema.Struct({
  ...ProjectCreate.fields,
  setupApproval: Schema.optionalKey(SetupApproval)
}).annotate({ identifier: "ProjectCreateResolved" })
export type ProjectCreateResolved = typeof ProjectCreateResolved.Type

export const ProjectUpdateResolved = Schema.Struct({
  ...ProjectUpdate.fields,
  setupApproval: Schema.optionalKey(SetupApproval)
}).annotate({ identifier: "ProjectUpdateResolved" })
export type ProjectUpdateResolved = typeof ProjectUpdateResolved.Type
/** Records on the thread something Spindle refused to do with it, and why. */
export const ThreadWarn = command("thread.warn", {
  threadId: ThreadId,
  warning: Schema.String
}).annotate({ identifier: "ThreadWarn" })

/**
 * Wakes an idle parent for its children: a turn with `prompt`, its pending notices going with it.
 * Nothing happens when the parent is busy, gone, archived, or past its wakes per hour.
 */
export const ThreadWake = command("thread.wake", {
  threadId: ThreadId,
  turnId: TurnId,
  prompt: Prompt,
  noticeIds: Schema.Array(Schema.String)
}).annotate({ identifier: "ThreadWake" })

/** Records a merge of the thread's branch that ThreadMerge made. */
export const ThreadMergeRecordCommand = command("thread.merge.record", {
  threadId: ThreadId,
  merge: ThreadMergeRecord
}).annotate({ identifier: "ThreadMergeRecordCommand" })

/** The conflict radar's overlap of two live threads now (no files: none). */
export const ProjectOverlapRecord = command("project.overlap.record", {
  projectId: ProjectId,
  threadIds: Schema.Array(ThreadId),
  files: Schema.Array(OverlapFile),
  filesTruncated: Schema.Int
}).annotate({ identifier: "ProjectOverlapRecord" })

/** Records how a notification's delivery ended (delivered, or given up). */
export const ProjectNotifyRecord = command("project.notify.record", {
  projectId: ProjectId,
  outcome: NotifyOutcome
}).annotate({ identifier: "ProjectNotifyRecord" })

/** Records how a variant's check ran after its turn completed. */
export const ThreadCheckRecord = command("thread.check.record", {
  threadId: ThreadId,
  check: ThreadCheck
}).annotate({ identifier: "ThreadCheckRecord" })

/** The conflict radar's count of what a live thread changed (recorded when it differs). */
export const ThreadChangesRecord = command("thread.changes.record", {
  threadId: ThreadId,
  changes: ThreadChanges
}).annotate({ identifier: "ThreadChangesRecord" })

/** Records that a merge of the thread was refused for conflicts. */
export const ThreadMergeConflictRecord = command("thread.merge-conflict.record", {
  threadId: ThreadId,
  conflict: ThreadMergeConflict
}).annotate({ identifier: "ThreadMergeConflictRecord" })

export const InternalCommand = Schema.Union([
  ThreadBootstrapBegin,
  ThreadWorkspaceRecord,
  ThreadSetupStart,
  ThreadSetupFinish,
  ThreadTurnRequest,
  ThreadTurnSend,
  ThreadBootstrapFail,
  ThreadBootstrapComplete,
  ThreadProviderRecord,
  ThreadAttachmentsRecord,
  ThreadWorktreeRecord,
  ThreadWorktreeRestore,
  ThreadPortsAssign,
  ThreadIdleFlag,
  ThreadWarn,
  ThreadMergeRecordCommand,
  ProjectOverlapRecord,
  ThreadWake,
  ThreadCheckRecord,
  ThreadChangesRecord,
  ThreadMergeConflictRecord,
  ProjectNotifyRecord
]).annotate({ identifier: "InternalCommand" })
export type InternalCommand = typeof InternalCommand.Type

export const Command = Schema.Union([
  ClientCommand,
  ProjectCreateResolved,
  ProjectUpdateResolved,
  InternalCommand
])
export type Command =
  | Exclude<ClientCommand, { readonly type: "project.create" | "project.update" }>
  | ProjectCreateResolved
  | ProjectUpdateResolved
  | InternalCommand
export type CommandType = Command["type"]
