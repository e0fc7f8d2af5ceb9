// What a bootstrapped `thread.turn.start` answers, whichever transport sent it.
import * as Schema from "effect/Schema"
import { ProjectId, Sequence, ThreadId } from "./ids.ts"
import { QueueWait, SetupStatus } from "./thread.ts"
import { AbsolutePath, WorkspaceMode } from "./values.ts"

/** When the dispatcher answers: once the workspace exists, or once the first turn is requested. */
export const BootstrapAwait = Schema.Literals(["workspace", "turn"])
export type BootstrapAwait = typeof BootstrapAwait.Type

/** The turn's state when a bootstrap answers, in the one TurnState vocabulary. */
export const BootstrapTurnStatus = Schema.Literals(["requested", "waiting-for-setup", "not-started"])
export type BootstrapTurnStatus = typeof BootstrapTurnStatus.Type

/** A queued start, as its answer says it. */
export const QueuedStartInfo = Schema.Struct({
  /** 1 for the next to start. */
  position: Schema.Int,
  waitsFor: QueueWait,
  /** In words, e.g. "queued: 3rd, waiting for a running-turn slot (2 of 2 in use)". */
  message: Schema.String
}).annotate({ identifier: "QueuedStartInfo" })
export type QueuedStartInfo = typeof QueuedStartInfo.Type

export const BootstrapResult = Schema.Struct({
  threadId: ThreadId,
  projectId: ProjectId,
  parentThreadId: Schema.NullOr(ThreadId),
  /** The last event sequence this bootstrap had produced when it answered. */
  sequence: Sequence,
  mode: WorkspaceMode,
  branch: Schema.NullOr(Schema.String),
  /** The real path the thread works in; never null once a worktree exists. */
  worktreePath: AbsolutePath,
  baseBranch: Schema.NullOr(Schema.String),
  setup: Schema.Struct({ status: SetupStatus }),
  turn: Schema.Struct({ status: BootstrapTurnStatus }),
  warnings: Schema.Array(Schema.String),
  durationMs: Schema.Number
}).annotate({ identifier: "BootstrapResult", description: "What a bootstrapped thread.turn.start did" })
export type BootstrapResult = typeof BootstrapResult.Type

/**
 * What a start past a limit answers when it was queued instead of refused: the thread exists
 * (status `queued`) with no workspace yet; it starts in order when a slot frees.
 */
export const QueuedBootstrapResult = BootstrapResult.mapFields((fields) => ({
  ...fields,
  branch: Schema.Null,
  worktreePath: Schema.Null,
  baseBranch: Schema.Null,
  turn: Schema.Struct({ status: Schema.Literal("queued") }),
  queue: QueuedStartInfo
})).annotate({ identifier: "QueuedBootstrapResult", description: "A thread.turn.start queued past a limit" })
export type QueuedBootstrapResult = typeof QueuedBootstrapResult.Type

/** What a bootstrapped thread.turn.start answers: started, or queued. */
export type BootstrapAnswer = BootstrapResult | QueuedBootstrapResult

export const isQueued = (answer: BootstrapAnswer): answer is QueuedBootstrapResult =>
  answer.turn.status === "queued"
