// What an agent's turn is made of, as Spindle records it whatever the provider: the session that
// runs it, the items it produces (messages, reasoning, commands, file changes, tool calls), its
// token usage, its approval requests and how it ended. Providers map their own protocol onto these.
import * as Schema from "effect/Schema"
import { AgentNoticeReport } from "./agentNotices.ts"
import { TurnId } from "./ids.ts"
import { IsoTimestamp } from "./values.ts"

/** The turn statuses a thread's latest turn moves through. */
export const TurnStatus = Schema.Literals(["requested", "running", "completed", "failed", "interrupted"])
export type TurnStatus = typeof TurnStatus.Type

/**
 * One vocabulary for a thread's turn wherever a state is given in words (bootstrap result,
 * `thread show`, the CLI's tables): a turn's own status, or, before there is one, whether one waits
 * for setup or none will start. In a Thread object (`--json`, the MCP tools) `latestTurn` is null
 * for the first two.
 */
export const TurnState = Schema.Literals([
  "queued",
  "not-started",
  "waiting-for-setup",
  "requested",
  "running",
  "stalled",
  "completed",
  "failed",
  "interrupted"
]).annotate({
  description:
    "queued: the thread waits for a slot (a limit was reached) and starts in order when one frees; not-started: no turn; waiting-for-setup: the first turn starts when setup succeeds; requested: queued for the agent; running; stalled: running, but the agent has shown no progress for the server's stall timeout (latestTurn.stalledSince); completed | failed | interrupted"
})
export type TurnState = typeof TurnState.Type

export const TurnEndStatus = Schema.Literals(["completed", "failed", "interrupted"])
export type TurnEndStatus = typeof TurnEndStatus.Type

export const SessionStatus = Schema.Literals(["none", "starting", "running", "stopped", "error"])
export type SessionStatus = typeof SessionStatus.Type

export const TokenUsage = Schema.Struct({
  inputTokens: Schema.Int,
  cachedInputTokens: Schema.Int,
  outputTokens: Schema.Int,
  reasoningOutputTokens: Schema.Int,
  totalTokens: Schema.Int
}).annotate({ identifier: "TokenUsage" })
export type TokenUsage = typeof TokenUsage.Type

export const TurnItemKind = Schema.Literals([
  "user-message",
  "agent-message",
  "reasoning",
  "command",
  "file-change",
  "tool-call",
  "other"
])
export type TurnItemKind = typeof TurnItemKind.Type

/** Texts in items are capped by the provider adapter (MAX_ITEM_TEXT), keeping the end. */
export const MAX_ITEM_TEXT = 16_384

export const FileChange = Schema.Struct({
  path: Schema.String,
  kind: Schema.Literals(["add", "delete", "update", "other"])
})

export const TurnItem = Schema.Struct({
  /** The provider's id for the item, unique within the turn. */
  id: Schema.String,
  kind: TurnItemKind,
  /** Message or reasoning text; for `updated`, the text added since the last update. */
  text: Schema.optionalKey(Schema.String),
  /** Commands: what ran, where, its output (for `updated`, output added since the last update) and exit code. */
  command: Schema.optionalKey(Schema.String),
  cwd: Schema.optionalKey(Schema.String),
  output: Schema.optionalKey(Schema.String),
  exitCode: Schema.optionalKey(Schema.NullOr(Schema.Int)),
  /** File changes: which files and how. */
  changes: Schema.optionalKey(Schema.Array(FileChange)),
  /** Tool calls: which server and tool, with what result or error. */
  server: Schema.optionalKey(Schema.String),
  tool: Schema.optionalKey(Schema.String),
  error: Schema.optionalKey(Schema.NullOr(Schema.String)),
  /** The provider's own status word for the item (completed, failed, declined, ...). */
  status: Schema.optionalKey(Schema.String)
}).annotate({ identifier: "TurnItem" })
export type TurnItem = typeof TurnItem.Type

export const ItemPhase = Schema.Literals(["started", "updated", "completed"])
export type ItemPhase = typeof ItemPhase.Type

export const ApprovalKind = Schema.Literals(["command", "file-change"])
export type ApprovalKind = typeof ApprovalKind.Type

export const PendingApproval = Schema.Struct({
  /** Spindle's id for the request; answer it with thread.approval.respond. */
  requestId: Schema.String,
  turnId: TurnId,
  kind: ApprovalKind,
  /** For commands: the command and where it would run. */
  command: Schema.NullOr(Schema.String),
  cwd: Schema.NullOr(Schema.String),
  /** Why the agent asks, when it says. */
  reason: Schema.NullOr(Schema.String),
  /**
   * True when the agent offered no plain refusal (Codex sometimes offers only accept or cancel):
   * declining then cancels, and so ends, its turn.
   */
  declineEndsTurn: Schema.optionalKey(
    Schema.Boolean.annotate({
      description: "true: the agent offered only accept or cancel, so declining ends its turn"
    })
  ),
  requestedAt: IsoTimestamp
}).annotate({ identifier: "PendingApproval" })
export type PendingApproval = typeof PendingApproval.Type

export const ApprovalDecision = Schema.Literals(["accept", "accept-for-session", "decline"]).annotate({
  description:
    "accept: run it this once; accept-for-session: run it and similar requests for the rest of the session; decline: refuse (the agent goes on without it)"
})
export type ApprovalDecision = typeof ApprovalDecision.Type

/** How an approval request ended: answered, or dropped because its turn or session ended first. */
export const ApprovalOutcome = Schema.Literals(["accept", "accept-for-session", "decline", "expired"])
export type ApprovalOutcome = typeof ApprovalOutcome.Type

/** What a parent is told about one of its children, without asking. */
export const ChildNotice = Schema.Struct({
  noticeId: Schema.String,
  childThreadId: Schema.String,
  kind: Schema.Literals([
    "turn-completed",
    "turn-failed",
    "turn-interrupted",
    "bootstrap-failed",
    "needs-approval"
  ]),
  /** One paragraph for the parent's agent: what happened and what it can do. */
  text: Schema.String,
  at: IsoTimestamp
}).annotate({ identifier: "ChildNotice" })
export type ChildNotice = typeof ChildNotice.Type

/**
 * What a provider session reports about a thread, recorded by the server as an event of the same
 * name (`thread.<type>`). Adapters produce these; the decider checks they fit the thread's turn.
 */
export const ProviderReport = Schema.Union([
  Schema.Struct({
    type: Schema.Literal("session-changed"),
    status: SessionStatus,
    providerSessionId: Schema.NullOr(Schema.String),
    /** The provider's own conversation id, used to resume it after a restart (Codex thread id). */
    resumeCursor: Schema.NullOr(Schema.String),
    error: Schema.NullOr(Schema.String),
    /** Why Spindle stopped the session on its own (the idle timeout). */
    reason: Schema.optionalKey(Schema.String)
  }),
  Schema.Struct({ type: Schema.Literal("turn-started"), turnId: TurnId }),
  Schema.Struct({ type: Schema.Literal("turn-item"), turnId: TurnId, phase: ItemPhase, item: TurnItem }),
  Schema.Struct({ type: Schema.Literal("turn-usage"), turnId: TurnId, usage: TokenUsage }),
  Schema.Struct({
    type: Schema.Literal("turn-ended"),
    turnId: TurnId,
    status: TurnEndStatus,
    /** Why it failed or was interrupted; null when it completed. */
    reason: Schema.NullOr(Schema.String)
  }),
  Schema.Struct({
    type: Schema.Literal("approval-requested"),
    approval: PendingApproval
  }),
  Schema.Struct({
    type: Schema.Literal("approval-expired"),
    requestId: Schema.String
  }),
  /** An error or warning the agent said (repeats since its last report counted in `count`). */
  Schema.Struct({ type: Schema.Literal("agent-noticed"), notice: AgentNoticeReport }),
  /** The turn has shown no progress since `since` (reported by Spindle's watchdog, not the agent). */
  Schema.Struct({ type: Schema.Literal("turn-stalled"), turnId: TurnId, since: IsoTimestamp }),
  /** Something the thread's owner should know about its agent (recorded once as a thread warning). */
  Schema.Struct({ type: Schema.Literal("warning"), warning: Schema.String }),
  /** Notices about children that reached the agent (steered into its turn, or with its next prompt). */
  Schema.Struct({
    type: Schema.Literal("notices-delivered"),
    noticeIds: Schema.Array(Schema.String)
  })
]).annotate({ identifier: "ProviderReport" })
export type ProviderReport = typeof ProviderReport.Type
