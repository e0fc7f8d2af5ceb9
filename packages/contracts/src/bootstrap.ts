// What a bootstrapped `thread.turn.start` answers, whichever transport sent it.
import * as Schema from "effect/Schema"
import { ProjectId, Sequence, ThreadId } from "./ids.ts"
import { SetupStatus } from "./thread.ts"
import { AbsolutePath, WorkspaceMode } from "./values.ts"

/** When the dispatcher answers: once the workspace exists, or once the first turn is requested. */
export const BootstrapAwait = Schema.Literals(["workspace", "turn"])
export type BootstrapAwait = typeof BootstrapAwait.Type

/** The turn's state when a bootstrap answers, in the one TurnState vocabulary. */
export const BootstrapTurnStatus = Schema.Literals(["requested", "waiting-for-setup", "not-started"])
export type BootstrapTurnStatus = typeof BootstrapTurnStatus.Type

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
