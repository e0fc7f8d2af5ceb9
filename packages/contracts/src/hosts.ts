// The hosts that share one store: each Spindle server registers itself with its URL and capacity
// and heartbeats; `spindle hosts` and `hosts.list` show them with their state and load.
import * as Schema from "effect/Schema"

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
