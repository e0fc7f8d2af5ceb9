// Codex app-server notifications about the agent's trouble as Spindle's agent notices: its errors
// (and whether it retries), warnings, config warnings, MCP servers that did not start, a thread in
// system error, rate limits close to or at their end. Pure: the adapter decodes a notification with
// the contracts' schemas and asks this what the user should see; undefined means nothing (a status
// that is fine, such as an MCP server starting or ready). It does not count repeats (noticeGate.ts).

import { type AgentNoticeReport, MAX_NOTICE_MESSAGE, type TurnId } from "@spindle/contracts"
import { keepEnds } from "@spindle/shared/shortText"
import type * as Schema from "effect/Schema"
import type { CodexNoticeNotifications } from "./codexProtocol.ts"
import { MCP_SERVER_NAME } from "./codexSettings.ts"

type Params<M extends keyof typeof CodexNoticeNotifications> = Schema.Schema.Type<
  (typeof CodexNoticeNotifications)[M]
>

/** A notice before its repeats are counted. */
export type NoticeDraft = Omit<AgentNoticeReport, "count">

/** A rate limit window used this much or more is worth a warning. */
export const RATE_LIMIT_WARN_PERCENT = 90

/**
 * Codex's messages name Rust types in brackets (`Transport [codex_rmcp_client::…<…>]`, a few hundred
 * characters each) and repeat themselves: the brackets go, whitespace is folded, and the text is cut
 * to MAX_NOTICE_MESSAGE keeping its start and end.
 */
export const compactMessage = (text: string): string => {
  const folded = text
    .replace(/\s*\[[^\]]*::[^\]]*\]/g, "")
    .replace(/\s+/g, " ")
    .trim()
  return keepEnds(folded, MAX_NOTICE_MESSAGE)
}

/** "summary: details", without doubling the summary's own full stop. */
const withDetails = (summary: string, details: string | null | undefined) =>
  details == null || details === "" ? summary : `${summary.replace(/[.:]\s*$/, "")}: ${details}`

const percent = (value: number) => `${Math.round(value)}%`

const windowText = (
  name: string,
  window: { usedPercent: number; windowDurationMins?: number | null; resetsAt?: number | null }
) =>
  `${name}: ${percent(window.usedPercent)} used${
    window.windowDurationMins == null ? "" : ` of its ${window.windowDurationMins}-minute window`
  }${window.resetsAt == null ? "" : `, resets at ${new Date(window.resetsAt * 1000).toISOString()}`}`

const draft = (
  turnId: TurnId | null,
  level: NoticeDraft["level"],
  source: string,
  message: string,
  willRetry?: boolean
): NoticeDraft => ({
  turnId,
  level,
  source,
  message: compactMessage(message),
  ...(willRetry === undefined ? {} : { willRetry })
})

/** What to tell the user about one notification, for our turn `turnId` (null: none, or not ours). */
export const noticeFor = (
  method: keyof typeof CodexNoticeNotifications,
  params: unknown,
  turnId: TurnId | null
): NoticeDraft | undefined => {
  switch (method) {
    case "error": {
      const { error, willRetry } = params as Params<"error">
      return draft(turnId, "error", "codex", withDetails(error.message, error.additionalDetails), willRetry)
    }
    case "warning":
      return draft(turnId, "warning", "codex", (params as Params<"warning">).message)
    case "guardianWarning":
      return draft(turnId, "warning", "guardian", (params as Params<"guardianWarning">).message)
    case "configWarning": {
      const p = params as Params<"configWarning">
      return draft(null, "warning", "config", withDetails(p.summary, p.details))
    }
    case "deprecationNotice": {
      const p = params as Params<"deprecationNotice">
      return draft(null, "info", "codex", withDetails(p.summary, p.details))
    }
    case "mcpServer/startupStatus/updated": {
      const p = params as Params<"mcpServer/startupStatus/updated">
      if (p.status !== "failed" && p.status !== "cancelled") return undefined
      const what = `MCP server '${p.name}' ${p.status === "failed" ? "failed to start" : "was cancelled while starting"}`
      const consequence =
        p.name === MCP_SERVER_NAME
          ? " The agent cannot use Spindle's tools (t3_thread_start and the others) in this session."
          : ` The agent cannot use its tools in this session.`
      // The consequence goes first after the cause is cut, so it survives compaction.
      return draft(null, "warning", `mcp:${p.name}`, `${what}.${consequence} ${p.error ?? ""}`)
    }
    case "model/rerouted": {
      const p = params as Params<"model/rerouted">
      const reason = typeof p.reason === "string" ? ` (${p.reason})` : ""
      return draft(
        turnId,
        "info",
        "codex",
        `Codex moved this turn from model ${p.fromModel} to ${p.toModel}${reason}.`
      )
    }
    case "thread/status/changed": {
      const p = params as Params<"thread/status/changed">
      return p.status.type === "systemError"
        ? draft(
            turnId,
            "error",
            "codex",
            "Codex reports a system error on this thread; its turn may not go on."
          )
        : undefined
    }
    case "account/rateLimits/updated": {
      const limits = (params as Params<"account/rateLimits/updated">).rateLimits
      const name = limits.limitName ?? "Rate limit"
      if (limits.rateLimitReachedType != null) {
        const windows = [limits.primary, limits.secondary].flatMap((w) =>
          w == null ? [] : [windowText(name, w)]
        )
        return draft(
          turnId,
          "error",
          "rate-limits",
          `${name} reached (${limits.rateLimitReachedType})${windows.length === 0 ? "" : `: ${windows.join("; ")}`}.`
        )
      }
      const close = [limits.primary, limits.secondary].filter(
        (w): w is NonNullable<typeof w> => w != null && w.usedPercent >= RATE_LIMIT_WARN_PERCENT
      )
      return close.length === 0
        ? undefined
        : draft(turnId, "warning", "rate-limits", `${close.map((w) => windowText(name, w)).join("; ")}.`)
    }
  }
}
