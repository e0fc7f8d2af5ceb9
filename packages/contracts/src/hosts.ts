// The hosts that share one store: each Spindle server registers itself with its URL and capacity
// and heartbeats; `spindle hosts` and `hosts.list` show them with their state and load.
import * as Schema from "effect/Schema"
import { BootstrapAwait } from "./bootstrap.ts"
import { SpindleError } from "./errors.ts"
import { ThreadId } from "./ids.ts"
import { ThreadMergeRequest } from "./merge.ts"
import { Actor } from "./values.ts"

export const HostState = Schema.Literals(["online", "offline", "stopped"]).annotate({
  identifier: "HostState",
  description:
    "online: heartbeating; offline: no heartbeat for HOST_OFFLINE_MS (killed, hung or cut off); stopped: shut down cleanly"
})
export type HostState = typeof HostState.Type

/** A host with no heartbeat for this long is offline. Heartbeats come every HOST_HEARTBEAT_MS. */
export const HOST_OFFLINE_MS = 6_000
export const HOST_HEARTBEAT_MS = 2_000

export const Host = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  /** Where its server listens (HTTP; /ws and /mcp under it). */
  url: Schema.String,
  state: HostState,
  /** Turns it runs at once (`--max-running-turns`); null: no limit. */
  maxRunningTurns: Schema.NullOr(Schema.Int),
  /** Threads holding a turn slot now (a bootstrap under way, or a turn requested or running). */
  runningTurns: Schema.Int,
  /** Threads it owns that are not deleted. */
  threads: Schema.Int,
  version: Schema.String,
  startedAt: Schema.String,
  /** Its last heartbeat, by the store's clock. */
  heartbeatAt: Schema.String,
  stoppedAt: Schema.NullOr(Schema.String),
  /** The host that answered this call. */
  self: Schema.Boolean
}).annotate({ identifier: "Host" })
export type Host = typeof Host.Type

/**
 * A call one host hands to another (POST /cluster/call, signed with the cluster secret), about a
 * thread the other owns or a start placed there: a client command as the caller sent it, or a
 * read or merge that needs the thread's worktree. The host that answers runs it as if its own
 * client had sent it and answers what it would have answered.
 */
const forwarded = {
  /** Who asked, as the calling host authenticated them. */
  actor: Actor,
  /** The host that sent it, for the receiver's log. */
  from: Schema.String
}
export const ForwardedCall = Schema.Union([
  Schema.Struct({
    kind: Schema.Literal("command"),
    /** The command as the caller sent it; the receiving host validates it again. */
    command: Schema.Unknown,
    await: Schema.optionalKey(BootstrapAwait),
    /** For an agent's start: the thread it runs in, and that thread's worktree. */
    parent: Schema.optionalKey(
      Schema.Struct({ threadId: ThreadId, worktreePath: Schema.NullOr(Schema.String) })
    ),
    ...forwarded
  }),
  Schema.Struct({ kind: Schema.Literal("diff"), threadId: ThreadId, ...forwarded }),
  /** Answered as a stream: one JSON SetupLogItem per line (application/x-ndjson). */
  Schema.Struct({ kind: Schema.Literal("setup-log"), threadId: ThreadId, ...forwarded }),
  Schema.Struct({ kind: Schema.Literal("merge"), request: ThreadMergeRequest, ...forwarded })
]).annotate({ identifier: "ForwardedCall" })
export type ForwardedCall = typeof ForwardedCall.Type

/** The answer to a ForwardedCall: what the receiving host answered, or its error. */
export const ForwardedAnswer = Schema.Union([
  Schema.Struct({ ok: Schema.Unknown }),
  Schema.Struct({ error: SpindleError })
]).annotate({ identifier: "ForwardedAnswer" })
export type ForwardedAnswer = typeof ForwardedAnswer.Type

/** Headers of a forwarded call: when it was signed (ms since the epoch) and the signature. */
export const CLUSTER_TIME_HEADER = "x-spindle-cluster-time"
export const CLUSTER_SIGNATURE_HEADER = "x-spindle-cluster-signature"
/** A signed call older or newer than this is refused (a replay, or clocks too far apart). */
export const CLUSTER_CALL_WINDOW_MS = 60_000
