// Codex app-server notifications as Spindle's provider reports: items, deltas, token usage and the
// turn's end. Pure: the adapter decodes a notification with the contracts' Codex schemas and asks
// this what to record for the turn it is running.

import { MAX_ITEM_TEXT, type ProviderReport, type TurnId, type TurnItem } from "@spindle/contracts"
import type * as Schema from "effect/Schema"
import type { CodexNotifications, CodexThreadItem } from "./codexProtocol.ts"

type Params<M extends keyof typeof CodexNotifications> = Schema.Schema.Type<(typeof CodexNotifications)[M]>

const keepEnd = (text: string) =>
  text.length > MAX_ITEM_TEXT ? text.slice(text.length - MAX_ITEM_TEXT) : text

const changeKind = (kind: string): "add" | "delete" | "update" | "other" =>
  kind === "add" || kind === "delete" || kind === "update" ? kind : "other"

/** A Codex thread item as a TurnItem; undefined for items Spindle records otherwise (the user's prompt). */
export const toTurnItem = (item: CodexThreadItem): TurnItem | undefined => {
  switch (item.type) {
    case "userMessage":
      return undefined
    case "agentMessage":
      return { id: item.id, kind: "agent-message", text: keepEnd((item as { text: string }).text) }
    case "reasoning": {
      const { summary } = item as { summary?: ReadonlyArray<string> }
      return { id: item.id, kind: "reasoning", text: keepEnd((summary ?? []).join("\n")) }
    }
    case "commandExecution": {
      const c = item as Extract<CodexThreadItem, { type: "commandExecution" }>
      return {
        id: c.id,
        kind: "command",
        command: keepEnd(c.command),
        ...(c.cwd == null ? {} : { cwd: c.cwd }),
        ...(c.aggregatedOutput == null ? {} : { output: keepEnd(c.aggregatedOutput) }),
        exitCode: c.exitCode ?? null,
        status: c.status
      }
    }
    case "fileChange": {
      const f = item as Extract<CodexThreadItem, { type: "fileChange" }>
      return {
        id: f.id,
        kind: "file-change",
        changes: f.changes.map((change) => ({ path: change.path, kind: changeKind(change.kind.type) })),
        status: f.status
      }
    }
    case "mcpToolCall": {
      const t = item as Extract<CodexThreadItem, { type: "mcpToolCall" }>
      const text = (t.result?.content ?? [])
        .map((part) => (typeof part === "object" && part !== null && "text" in part ? String(part.text) : ""))
        .join("\n")
      return {
        id: t.id,
        kind: "tool-call",
        server: t.server,
        tool: t.tool,
        status: t.status,
        error: t.error?.message ?? null,
        ...(text === "" ? {} : { text: keepEnd(text) })
      }
    }
    case "plan":
      // Kept as an item of its own; codexPlanMode.ts puts it back into the agent's message.
      return { id: item.id, kind: "other", status: "plan", text: keepEnd((item as { text: string }).text) }
    default:
      return { id: item.id, kind: "other", status: item.type }
  }
}

const delta = (
  turnId: TurnId,
  itemId: string,
  kind: TurnItem["kind"],
  fields: Partial<TurnItem>
): ProviderReport => ({
  type: "turn-item",
  turnId,
  phase: "updated",
  item: { id: itemId, kind, ...fields }
})

/** What to record for one notification about our running turn. */
export const reportsFor = (
  method: keyof typeof CodexNotifications,
  params: unknown,
  turnId: TurnId
): ReadonlyArray<ProviderReport> => {
  switch (method) {
    case "turn/started":
      return [{ type: "turn-started", turnId }]
    case "turn/completed": {
      const { turn } = params as Params<"turn/completed">
      if (turn.status === "inProgress") return []
      const reason =
        turn.status === "completed"
          ? null
          : (turn.error?.message ?? (turn.status === "interrupted" ? "Interrupted." : "The turn failed."))
      return [{ type: "turn-ended", turnId, status: turn.status, reason }]
    }
    case "item/started":
    case "item/completed": {
      const item = toTurnItem((params as Params<"item/started">).item)
      if (item === undefined) return []
      return [{ type: "turn-item", turnId, phase: method === "item/started" ? "started" : "completed", item }]
    }
    case "item/agentMessage/delta": {
      const p = params as Params<"item/agentMessage/delta">
      return [delta(turnId, p.itemId, "agent-message", { text: p.delta })]
    }
    case "item/commandExecution/outputDelta": {
      const p = params as Params<"item/commandExecution/outputDelta">
      return [delta(turnId, p.itemId, "command", { output: p.delta })]
    }
    case "item/reasoning/summaryTextDelta": {
      const p = params as Params<"item/reasoning/summaryTextDelta">
      return [delta(turnId, p.itemId, "reasoning", { text: p.delta })]
    }
    case "thread/tokenUsage/updated":
      return [
        {
          type: "turn-usage",
          turnId,
          usage: (params as Params<"thread/tokenUsage/updated">).tokenUsage.total
        }
      ]
  }
}
