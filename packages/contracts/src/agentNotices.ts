// What an agent's provider says about its own trouble (errors it retries, warnings, a config it
// could not read, an MCP server that did not start, a limit it hit), as Spindle keeps it on the
// thread: a short list of the latest, repeats counted rather than each recorded. It does not hold
// the agent's work (items) or how turns end.
import * as Schema from "effect/Schema"
import { TurnId } from "./ids.ts"
import { IsoTimestamp } from "./values.ts"

/** A thread keeps this many notices: the ones said most recently. */
export const MAX_AGENT_NOTICES = 20
/** A notice's message is cut to this many characters. */
export const MAX_NOTICE_MESSAGE = 1_000

export const AgentNoticeLevel = Schema.Literals(["error", "warning", "info"])
export type AgentNoticeLevel = typeof AgentNoticeLevel.Type

const noticeFields = {
  /** The turn it was said in; null for the session (its start, its config, its MCP servers). */
  turnId: Schema.NullOr(TurnId),
  level: AgentNoticeLevel,
  /** Who said it: `codex` (its errors and warnings), `config`, `mcp:<server>`, `rate-limits`. */
  source: Schema.String,
  message: Schema.String,
  /** For errors: true when the agent retries by itself (the turn goes on, for now). */
  willRetry: Schema.optionalKey(Schema.Boolean)
}

/** A notice as a provider session reports it: said `count` times since it was last reported. */
export const AgentNoticeReport = Schema.Struct({
  ...noticeFields,
  count: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))
}).annotate({ identifier: "AgentNoticeReport" })
export type AgentNoticeReport = typeof AgentNoticeReport.Type

export const AgentNotice = Schema.Struct({
  ...noticeFields,
  /** How many times it was said (repeats of one source and message are counted, not each recorded). */
  count: Schema.Int,
  firstAt: IsoTimestamp,
  lastAt: IsoTimestamp
}).annotate({
  identifier: "AgentNotice",
  description: "An error or warning the thread's agent reported (repeats counted)"
})
export type AgentNotice = typeof AgentNotice.Type

/**
 * What makes two notices the same one (a repeat): their turn, source and message, numbers aside
 * (so "retry 3/5" repeats "retry 2/5", and a rate limit's percentages repeat each other).
 */
export const noticeKey = (notice: Pick<AgentNotice, "turnId" | "source" | "message">) =>
  `${notice.turnId ?? ""}\u0000${notice.source}\u0000${notice.message.replace(/\d+/g, "#")}`
