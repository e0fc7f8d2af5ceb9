// An ACP agent's `session/update` notifications as Spindle's provider reports, the same turn items
// Codex's become. Message and thought chunks make one item per run of chunks (started, updated per
// chunk, completed with the whole text when something else comes or the turn ends). Tool calls
// become items by their kind: `execute` a command (its output and exit code), `edit`, `delete` and
// `move` a file change (its paths and diffs), anything else a tool call. A plan is an item of its
// own; the context window's use is the turn's usage; the agent's notices are notices. Pure: the
// adapter keeps the state and sends the reports.
import type {
  SessionUpdate,
  StopReason,
  ToolCall,
  ToolCallContent,
  ToolCallUpdate
} from "@agentclientprotocol/sdk"
import type { FileChange, ProviderReport, TurnId, TurnItem } from "@spindle/contracts"
import { MAX_ITEM_TEXT } from "@spindle/contracts"

interface OpenRun {
  readonly id: string
  readonly kind: "agent-message" | "reasoning"
  text: string
}

interface ToolState {
  readonly id: string
  kind: TurnItem["kind"]
  title: string
  command: string | undefined
  output: string
  changes: Map<string, (typeof FileChange.Type)["kind"]>
  exitCode: number | null | undefined
  completed: boolean
}

export interface AcpTurn {
  readonly turnId: TurnId
  /** The message or thought being streamed, if any. */
  open: OpenRun | undefined
  runs: number
  readonly tools: Map<string, ToolState>
}

export const newAcpTurn = (turnId: TurnId): AcpTurn => ({
  turnId,
  open: undefined,
  runs: 0,
  tools: new Map()
})

const keepEnd = (text: string) => (text.length > MAX_ITEM_TEXT ? text.slice(-MAX_ITEM_TEXT) : text)

const item = (
  turn: AcpTurn,
  phase: "started" | "updated" | "completed",
  value: TurnItem
): ProviderReport => ({
  type: "turn-item",
  turnId: turn.turnId,
  phase,
  item: value
})

/** Ends the message or thought being streamed: its whole text as one completed item. */
export const closeRun = (turn: AcpTurn): ReadonlyArray<ProviderReport> => {
  const open = turn.open
  if (open === undefined) return []
  turn.open = undefined
  return [item(turn, "completed", { id: open.id, kind: open.kind, text: keepEnd(open.text) })]
}

const chunk = (turn: AcpTurn, kind: OpenRun["kind"], text: string): ReadonlyArray<ProviderReport> => {
  if (text === "") return []
  const reports: Array<ProviderReport> = []
  if (turn.open?.kind !== kind) {
    reports.push(...closeRun(turn))
    const id = `${kind === "agent-message" ? "msg" : "thought"}-${++turn.runs}`
    turn.open = { id, kind, text: "" }
    reports.push(item(turn, "started", { id, kind, text: "" }))
  }
  const open = turn.open as OpenRun
  open.text += text
  reports.push(item(turn, "updated", { id: open.id, kind, text }))
  return reports
}

/** The text of a content block (text, or a resource's text), else a word for what it is. */
const blockText = (block: { readonly type: string } & Record<string, unknown>): string => {
  if (block.type === "text" && typeof block.text === "string") return block.text
  const resource = block.resource as { text?: unknown; uri?: unknown } | undefined
  if (block.type === "resource" && typeof resource?.text === "string") return resource.text
  if (block.type === "resource_link" && typeof block.uri === "string") return `[${block.uri}]`
  return `[${block.type}]`
}

const toolKind = (kind: ToolCall["kind"]): TurnItem["kind"] =>
  kind === "execute"
    ? "command"
    : kind === "edit" || kind === "delete" || kind === "move"
      ? "file-change"
      : "tool-call"

/** The command a call runs, from its raw input when the agent gives it (`command`, `cmd`), else its title. */
const commandOf = (call: ToolCall | ToolCallUpdate, title: string) => {
  const raw = call.rawInput as { command?: unknown; cmd?: unknown } | null | undefined
  const command = raw?.command ?? raw?.cmd
  if (typeof command === "string") return command
  if (Array.isArray(command) && command.every((c) => typeof c === "string")) return command.join(" ")
  return title
}

/** An exit code the agent reports in the call's raw output (`exitCode`, `exit_code`, `code`). */
const exitCodeOf = (raw: unknown): number | undefined => {
  if (raw === null || typeof raw !== "object") return undefined
  const r = raw as { exitCode?: unknown; exit_code?: unknown; code?: unknown }
  const code = r.exitCode ?? r.exit_code ?? r.code
  return typeof code === "number" && Number.isInteger(code) ? code : undefined
}

/** Applies a call's content: text becomes output, diffs become changed files. Answers the text added. */
const absorb = (tool: ToolState, content: ReadonlyArray<ToolCallContent> | null | undefined) => {
  let added = ""
  for (const part of content ?? []) {
    if (part.type === "diff") {
      tool.changes.set(part.path, part.oldText == null ? "add" : "update")
    } else if (part.type === "content") {
      added += `${blockText(part.content as never)}\n`
    }
  }
  tool.output = keepEnd(tool.output + added)
  return added
}

const toolItem = (tool: ToolState): TurnItem => ({
  id: tool.id,
  kind: tool.kind,
  ...(tool.kind === "command"
    ? {
        command: tool.command ?? tool.title,
        output: tool.output,
        ...(tool.exitCode === undefined ? {} : { exitCode: tool.exitCode })
      }
    : tool.kind === "file-change"
      ? { changes: [...tool.changes].map(([path, kind]) => ({ path, kind })) }
      : { tool: tool.title, server: "agent", ...(tool.output === "" ? {} : { text: tool.output }) })
})

const statusWord = (status: ToolCall["status"]) => (status === "failed" ? "failed" : "completed")

const toolCall = (turn: AcpTurn, call: ToolCall): ReadonlyArray<ProviderReport> => {
  const reports: Array<ProviderReport> = [...closeRun(turn)]
  const title = call.title ?? call.kind ?? "tool"
  const tool: ToolState = {
    id: `tool-${call.toolCallId}`,
    kind: toolKind(call.kind),
    title,
    command: undefined,
    output: "",
    changes: new Map(),
    exitCode: undefined,
    completed: false
  }
  if (tool.kind === "command") tool.command = commandOf(call, title)
  for (const location of call.locations ?? []) {
    if (tool.kind === "file-change")
      tool.changes.set(location.path, call.kind === "delete" ? "delete" : "update")
  }
  absorb(tool, call.content)
  turn.tools.set(call.toolCallId, tool)
  reports.push(item(turn, "started", toolItem(tool)))
  if (call.status === "completed" || call.status === "failed") {
    tool.completed = true
    reports.push(item(turn, "completed", { ...toolItem(tool), status: statusWord(call.status) }))
  }
  return reports
}

const toolUpdate = (turn: AcpTurn, update: ToolCallUpdate): ReadonlyArray<ProviderReport> => {
  const tool = turn.tools.get(update.toolCallId)
  // An update for a call never announced: it is announced now.
  if (tool === undefined) {
    return toolCall(turn, {
      ...update,
      title: update.title ?? update.kind ?? "tool"
    } as ToolCall)
  }
  if (tool.completed) return []
  const reports: Array<ProviderReport> = [...closeRun(turn)]
  if (update.title != null) tool.title = update.title
  if (update.kind != null) tool.kind = toolKind(update.kind)
  if (tool.kind === "command" && (update.rawInput !== undefined || tool.command === undefined)) {
    tool.command = commandOf(update, tool.title)
  }
  for (const location of update.locations ?? []) {
    if (tool.kind === "file-change" && !tool.changes.has(location.path))
      tool.changes.set(location.path, "update")
  }
  // Content in an update replaces the call's content: only what was not there is new output.
  const before = tool.output
  if (update.content != null) tool.output = ""
  const added = absorb(tool, update.content)
  const fresh = update.content != null && added.startsWith(before) ? added.slice(before.length) : added
  const exitCode = exitCodeOf(update.rawOutput)
  if (exitCode !== undefined) tool.exitCode = exitCode
  if (update.status === "completed" || update.status === "failed") {
    tool.completed = true
    // No exit code given: Claude Code's failed commands say "Exit code N" in their output, and a
    // command that completed succeeded.
    if (tool.kind === "command" && tool.exitCode === undefined) {
      const said = /^Exit code (\d+)\b/m.exec(tool.output)?.[1]
      tool.exitCode = said !== undefined ? Number(said) : update.status === "completed" ? 0 : null
    }
    reports.push(item(turn, "completed", { ...toolItem(tool), status: statusWord(update.status) }))
    return reports
  }
  if (fresh !== "" && tool.kind === "command") {
    reports.push(item(turn, "updated", { id: tool.id, kind: "command", output: fresh }))
  }
  return reports
}

/** What one `session/update` of the running turn records. */
export const reportsForUpdate = (turn: AcpTurn, update: SessionUpdate): ReadonlyArray<ProviderReport> => {
  switch (update.sessionUpdate) {
    case "agent_message_chunk":
      return chunk(turn, "agent-message", blockText(update.content as never))
    case "agent_thought_chunk":
      return chunk(turn, "reasoning", blockText(update.content as never))
    case "tool_call":
      return toolCall(turn, update)
    case "tool_call_update":
      return toolUpdate(turn, update)
    case "plan": {
      const text = update.entries
        .map(
          (entry) =>
            `[${entry.status === "completed" ? "x" : entry.status === "in_progress" ? "~" : " "}] ${entry.content}`
        )
        .join("\n")
      turn.runs++
      return [
        ...closeRun(turn),
        item(turn, "completed", { id: `plan-${turn.runs}`, kind: "other", status: "plan", text })
      ]
    }
    case "usage_update":
      return [
        {
          type: "turn-usage",
          turnId: turn.turnId,
          // ACP reports the context window's use: the tokens the next request sends.
          usage: {
            inputTokens: update.used,
            cachedInputTokens: 0,
            outputTokens: 0,
            reasoningOutputTokens: 0,
            totalTokens: update.used
          }
        }
      ]
    default:
      return []
  }
}

/** Everything still open when the turn ends: the streamed run, and calls that never finished. */
export const closeTurn = (
  turn: AcpTurn,
  status: "completed" | "failed" | "interrupted"
): ReadonlyArray<ProviderReport> => {
  const reports: Array<ProviderReport> = [...closeRun(turn)]
  for (const tool of turn.tools.values()) {
    if (tool.completed) continue
    tool.completed = true
    if (tool.kind === "command" && tool.exitCode === undefined) tool.exitCode = null
    reports.push(
      item(turn, "completed", { ...toolItem(tool), status: status === "completed" ? "completed" : status })
    )
  }
  return reports
}

/** How a turn ends: by the prompt's stop reason, an error, or a cancel the agent never ended. */
export const endFor = (stop: StopReason | undefined, error: string | undefined, cancelled: boolean) => {
  if (error !== undefined) return { status: "failed" as const, reason: error }
  switch (stop) {
    case "end_turn":
      return { status: "completed" as const, reason: null }
    case "cancelled":
      return { status: "interrupted" as const, reason: "Interrupted: the agent stopped its turn." }
    case "refusal":
      return { status: "failed" as const, reason: "The agent refused to go on with this prompt." }
    case "max_tokens":
      return { status: "failed" as const, reason: "The agent stopped: it reached its token limit." }
    case "max_turn_requests":
      return {
        status: "failed" as const,
        reason: "The agent stopped: it reached its limit of model requests in one turn."
      }
    default:
      return cancelled
        ? {
            status: "interrupted" as const,
            reason: "Interrupted: the agent did not end its turn after session/cancel."
          }
        : { status: "failed" as const, reason: "The agent ended its turn without a reason." }
  }
}
