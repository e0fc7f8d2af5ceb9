// A command agent's stdout in Claude Code's `stream-json` shape (`claude -p --output-format
// stream-json --verbose`): one JSON object a line, `system` (its init names the session),
// `assistant` (text, thinking and tool uses), `user` (tool results) and `result` (the end, with
// usage). Such lines become turn items as Codex's do: text an agent message, thinking reasoning, a
// `Bash` use a command (its result the output, an error a non-zero exit), `Write`/`Edit`/`MultiEdit`
// a file change, any other tool a tool call. A line that is not in that shape is not this; the
// adapter then keeps it as a plain message line. Pure: the adapter holds the state.
import type { ProviderReport, TurnId, TurnItem } from "@spindle/contracts"
import { MAX_ITEM_TEXT } from "@spindle/contracts"

interface ToolUse {
  readonly item: TurnItem
}

export interface StreamJsonState {
  readonly turnId: TurnId
  /** The agent's session, once a line named it: the next turn resumes it. */
  sessionId: string | undefined
  readonly tools: Map<string, ToolUse>
  items: number
}

export const newStreamJson = (turnId: TurnId, sessionId?: string): StreamJsonState => ({
  turnId,
  sessionId,
  tools: new Map(),
  items: 0
})

const keepEnd = (text: string) => (text.length > MAX_ITEM_TEXT ? text.slice(-MAX_ITEM_TEXT) : text)

const FILE_TOOLS = new Set(["Write", "Edit", "MultiEdit", "NotebookEdit"])

type Block = { readonly type?: unknown } & Record<string, unknown>

const textOf = (content: unknown): string => {
  if (typeof content === "string") return content
  if (Array.isArray(content)) return content.map((c) => textOf((c as Block).text ?? "")).join("\n")
  return ""
}

const toolItem = (id: string, name: string, input: Record<string, unknown>): TurnItem => {
  if (name === "Bash") {
    return {
      id,
      kind: "command",
      command: typeof input.command === "string" ? input.command : name,
      output: ""
    }
  }
  if (FILE_TOOLS.has(name)) {
    const path = input.file_path ?? input.notebook_path
    return {
      id,
      kind: "file-change",
      changes: typeof path === "string" ? [{ path, kind: name === "Write" ? "add" : "update" }] : []
    }
  }
  return { id, kind: "tool-call", tool: name, server: "agent" }
}

/** The reports of one stdout line; undefined when the line is not stream-json. */
export const streamJsonLine = (
  state: StreamJsonState,
  line: string
): ReadonlyArray<ProviderReport> | undefined => {
  if (!line.startsWith("{")) return undefined
  let value: Block
  try {
    value = JSON.parse(line) as Block
  } catch {
    return undefined
  }
  const type = value.type
  if (type !== "system" && type !== "assistant" && type !== "user" && type !== "result") return undefined
  if (typeof value.session_id === "string") state.sessionId = value.session_id
  const turnId = state.turnId
  const report = (phase: "started" | "completed", item: TurnItem): ProviderReport => ({
    type: "turn-item",
    turnId,
    phase,
    item
  })
  const reports: Array<ProviderReport> = []
  const content = ((value.message as { content?: unknown } | undefined)?.content ??
    []) as ReadonlyArray<Block>
  if (type === "assistant" && Array.isArray(content)) {
    for (const block of content) {
      if (block.type === "text" && typeof block.text === "string" && block.text !== "") {
        reports.push(
          report("completed", {
            id: `msg-${++state.items}`,
            kind: "agent-message",
            text: keepEnd(block.text)
          })
        )
      } else if (block.type === "thinking" && typeof block.thinking === "string") {
        reports.push(
          report("completed", {
            id: `thought-${++state.items}`,
            kind: "reasoning",
            text: keepEnd(block.thinking)
          })
        )
      } else if (
        block.type === "tool_use" &&
        typeof block.id === "string" &&
        typeof block.name === "string"
      ) {
        const item = toolItem(`tool-${block.id}`, block.name, (block.input ?? {}) as Record<string, unknown>)
        state.tools.set(block.id, { item })
        reports.push(report("started", item))
      }
    }
  }
  if (type === "user" && Array.isArray(content)) {
    for (const block of content) {
      if (block.type !== "tool_result" || typeof block.tool_use_id !== "string") continue
      const use = state.tools.get(block.tool_use_id)
      if (use === undefined) continue
      state.tools.delete(block.tool_use_id)
      const failed = block.is_error === true
      const output = keepEnd(textOf(block.content))
      const item = use.item
      reports.push(
        report(
          "completed",
          item.kind === "command"
            ? { ...item, output, exitCode: failed ? 1 : 0, status: failed ? "failed" : "completed" }
            : {
                ...item,
                ...(item.kind === "tool-call" && output !== "" ? { text: output } : {}),
                status: failed ? "failed" : "completed"
              }
        )
      )
    }
  }
  if (type === "result") {
    const usage = value.usage as Record<string, unknown> | undefined
    const n = (key: string) => (typeof usage?.[key] === "number" ? (usage[key] as number) : 0)
    if (usage !== undefined) {
      const input = n("input_tokens") + n("cache_read_input_tokens") + n("cache_creation_input_tokens")
      reports.push({
        type: "turn-usage",
        turnId,
        usage: {
          inputTokens: input,
          cachedInputTokens: n("cache_read_input_tokens"),
          outputTokens: n("output_tokens"),
          reasoningOutputTokens: 0,
          totalTokens: input + n("output_tokens")
        }
      })
    }
  }
  return reports
}

/** The agent's argv for a turn that resumes `sessionId`: `--resume <id>` at its end. */
export const withResume = (argv: ReadonlyArray<string>, sessionId: string | undefined) =>
  sessionId === undefined || argv.includes("--resume") ? argv : [...argv, "--resume", sessionId]
