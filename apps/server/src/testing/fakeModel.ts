// Test fixture: a loopback fake OpenAI Responses API (SSE) for the real `codex app-server`. Not shipped.
import * as http from "node:http"
import type { AddressInfo } from "node:net"

/**
 * Each reply is scripted by directives in the request's last user message (user messages that are one
 * `<tag>…</tag>` block, like Codex's `<environment_context>`, do not count). Directives, in any order:
 * - none: one assistant message `done: <first 40 chars of the prompt, directives removed>`.
 * - `[[run: <shell command>]]`: a call to Codex's shell tool (`exec_command {cmd}` in Codex 0.171).
 * - `[[spawn: <json object>]]`: a call to `t3_thread_start` of the MCP server `spindle` (`SPAWN_TOOL`).
 * - `[[call: <tool> <json object>]]`: a call to any offered tool, `name` or `namespace.name`.
 * - `[[say: <text>]]`: the final message is exactly `text` (newlines kept).
 * - `[[slow: <ms>]]`: the final message streams its first half, then the stream is held open `ms` ms.
 * - `[[fail]]`: the stream fails with `response.failed`; `[[fail: <status>]]`: an HTTP error instead.
 * Tool directives run in order, one call per request: the step is the number of tool outputs after the
 * prompt. Once every call has its output, the final message quotes them. Arguments cannot contain `]]`.
 */
export type Directive =
  | { readonly kind: "run"; readonly command: string }
  | { readonly kind: "call"; readonly tool: string; readonly args: unknown }
  | { readonly kind: "say"; readonly text: string }
  | { readonly kind: "slow"; readonly ms: number }
  | { readonly kind: "fail"; readonly status: number | undefined }

/** A parsed `POST /v1/responses` body, as Codex sent it. */
export interface ResponsesRequest {
  readonly model?: string
  readonly input?: ReadonlyArray<any>
  readonly tools?: ReadonlyArray<any>
  readonly [key: string]: unknown
}

export interface FakeModelOptions {
  /** Defaults to 0 (a free port). The host is always 127.0.0.1. */
  readonly port?: number
  /** Ids used by `codexConfig()`; defaults "mock-model" and "mock". */
  readonly model?: string
  readonly provider?: string
  /** Receives a line per tool call, failure, early disconnect or unknown path; silent by default. */
  readonly log?: (line: string) => void
}

export interface FakeModel {
  /** `http://127.0.0.1:PORT/v1`, the provider's `base_url`. */
  readonly url: string
  readonly port: number
  /** Every `/v1/responses` body received, oldest first. */
  readonly requests: Array<ResponsesRequest>
  /** `key=value` overrides pointing Codex here, each to pass after `-c`. */
  readonly codexConfig: () => Array<string>
  /** Stops listening and ends open connections, held (`slow`) streams included. */
  readonly close: () => Promise<void>
}

export const SPAWN_TOOL = "mcp__spindle.t3_thread_start"

const DIRECTIVE = /\[\[(\w+)(?::\s*([\s\S]*?))?\]\]/g

export const parseDirectives = (prompt: string): Array<Directive> =>
  Array.from(prompt.matchAll(DIRECTIVE)).flatMap(([, name, arg = ""]): Array<Directive> => {
    const text = arg.trim()
    const space = text.search(/\s/)
    switch (name) {
      case "run":
        return [{ kind: "run", command: text }]
      case "spawn":
        return [{ kind: "call", tool: SPAWN_TOOL, args: JSON.parse(text || "{}") }]
      case "call":
        return space < 0
          ? [{ kind: "call", tool: text, args: {} }]
          : [{ kind: "call", tool: text.slice(0, space), args: JSON.parse(text.slice(space)) }]
      case "say":
        return [{ kind: "say", text }]
      case "slow":
        return [{ kind: "slow", ms: Number(text) }]
      case "fail":
        return [{ kind: "fail", status: text === "" ? undefined : Number(text) }]
      default:
        return []
    }
  })

/** The text of message content, of a tool output (a string or content items), or of anything between. */
const textOf = (value: unknown): string => {
  if (typeof value === "string") return value
  if (Array.isArray(value)) return value.map(textOf).join("")
  if (value === null || typeof value !== "object") return ""
  const record = value as Record<string, unknown>
  return typeof record.text === "string" ? record.text : textOf(record.content ?? record.output)
}

const isPrompt = (item: any) =>
  item?.type === "message" && item.role === "user" && !/^<([\w-]+)>[\s\S]*<\/\1>$/.test(textOf(item).trim())

/** Finds `wanted` (`name` or `namespace.name`) among the request's functions and namespaces of functions. */
const findTool = (tools: ReadonlyArray<any>, wanted: string) => {
  const [namespace, name] = wanted.includes(".") ? wanted.split(".", 2) : [undefined, wanted]
  for (const tool of tools) {
    if (tool.type === "function" && (tool.name === wanted || tool.name === `${namespace}__${name}`))
      return { name: tool.name as string }
    const inNamespace = tool.type === "namespace" && (namespace === undefined || tool.name === namespace)
    if (inNamespace && tool.tools?.some((inner: any) => inner.name === name))
      return { namespace: tool.name as string, name: name as string }
  }
  return undefined
}

const SHELL_TOOLS: ReadonlyArray<readonly [string, (command: string) => unknown]> = [
  ["exec_command", (cmd) => ({ cmd, login: false })],
  ["shell_command", (command) => ({ command })],
  ["shell", (command) => ({ command: ["bash", "-c", command] })]
]

/** The function call a tool directive makes, or why it cannot be made. */
const toolCall = (tools: ReadonlyArray<any>, step: Directive) => {
  const offered = () =>
    tools.map((t) => (t.type === "namespace" ? `${t.name}{${t.tools.map((x: any) => x.name)}}` : t.name))
  if (step.kind === "run") {
    const shell = SHELL_TOOLS.find(([name]) => findTool(tools, name))
    if (shell) return { name: shell[0], args: shell[1](step.command) }
    return `no shell tool offered (tools: ${offered().join(", ")})`
  }
  const found = step.kind === "call" ? findTool(tools, step.tool) : undefined
  if (step.kind !== "call" || !found) return `tool not offered (tools: ${offered().join(", ")})`
  return { ...found, args: step.args }
}

const describe = (step: Directive) =>
  step.kind === "run" ? `ran \`${step.command}\`` : `called ${step.kind === "call" ? step.tool : step.kind}`

export const startFakeModel = async (options: FakeModelOptions = {}): Promise<FakeModel> => {
  const { model = "mock-model", provider = "mock", log = () => {} } = options
  const requests: Array<ResponsesRequest> = []
  let counter = 0

  const respond = (body: ResponsesRequest, bodyLength: number, res: http.ServerResponse) => {
    const input = body.input ?? []
    const promptAt = input.findLastIndex(isPrompt)
    const prompt = promptAt < 0 ? "" : textOf(input[promptAt])
    const directives = parseDirectives(prompt)
    const fail = directives.find((d) => d.kind === "fail")
    if (fail?.status !== undefined) {
      log(`fail: HTTP ${fail.status}`)
      res.writeHead(fail.status, { "content-type": "application/json" })
      return res.end(JSON.stringify({ error: { message: "fake model: scripted failure", type: "fake" } }))
    }
    const n = ++counter
    const responseId = `resp_${n}`
    const send = (event: Record<string, unknown>) => {
      if (!res.writableEnded && !res.destroyed)
        res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`)
    }
    const complete = (output: string) => {
      const usage = {
        input_tokens: Math.ceil(bodyLength / 4),
        output_tokens: Math.ceil(output.length / 4) + 1
      }
      const total_tokens = usage.input_tokens + usage.output_tokens
      send({ type: "response.completed", response: { id: responseId, usage: { ...usage, total_tokens } } })
      res.end()
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" })
    send({ type: "response.created", response: { id: responseId } })
    if (fail !== undefined) {
      log("fail: response.failed")
      const error = { code: "fake_failure", message: "fake model: scripted failure" }
      send({ type: "response.failed", response: { id: responseId, error } })
      return res.end()
    }

    const steps = directives.filter((d) => d.kind === "run" || d.kind === "call")
    const outputs = input.slice(promptAt + 1).filter((item) => String(item?.type).endsWith("call_output"))
    const next = steps[outputs.length]
    const call = next === undefined ? undefined : toolCall(body.tools ?? [], next)
    if (typeof call === "object") {
      const { args, ...named } = call
      log(`call ${call.namespace ? `${call.namespace}.` : ""}${call.name} ${JSON.stringify(args)}`)
      const ids = { id: `fc_${n}`, call_id: `call_${n}` }
      const item = { type: "function_call", ...ids, ...named, arguments: JSON.stringify(args) }
      send({ type: "response.output_item.done", item })
      return complete(item.arguments)
    }
    if (call !== undefined) log(`cannot call: ${call}`)

    const say = directives.find((d) => d.kind === "say")
    const text =
      call !== undefined
        ? `fake model: ${call}`
        : say !== undefined && steps.length === 0
          ? say.text
          : steps.length === 0
            ? `done: ${prompt.replace(DIRECTIVE, "").trim().slice(0, 40)}`
            : steps.map((step, i) => `${describe(step)}:\n${textOf(outputs[i])}`).join("\n")
    const itemId = `msg_${n}`
    const half = Math.ceil(text.length / 2)
    const message = (content: Array<unknown>) => ({ type: "message", role: "assistant", id: itemId, content })
    const delta = (delta: string) => send({ type: "response.output_text.delta", item_id: itemId, delta })
    const finish = () => {
      delta(text.slice(half))
      send({ type: "response.output_item.done", item: message([{ type: "output_text", text }]) })
      complete(text)
    }
    send({ type: "response.output_item.added", item: message([]) })
    delta(text.slice(0, half))
    const slow = directives.find((d) => d.kind === "slow")
    if (slow === undefined) return finish()
    const timer = setTimeout(finish, slow.ms)
    res.on("close", () => {
      clearTimeout(timer)
      if (!res.writableFinished) log(`${responseId}: client closed the stream early`)
    })
  }

  const server = http.createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => {
      if (req.method !== "POST" || !req.url?.endsWith("/responses")) {
        log(`unknown request ${req.method} ${req.url}`)
        res.writeHead(404, { "content-type": "application/json" })
        return res.end(JSON.stringify({ error: { message: `fake model: no ${req.method} ${req.url}` } }))
      }
      const raw = Buffer.concat(chunks).toString("utf8")
      try {
        const body = JSON.parse(raw) as ResponsesRequest
        requests.push(body)
        respond(body, raw.length, res)
      } catch (error) {
        log(`error: ${error}`) // a bad directive argument or body: the turn fails with this message
        if (!res.headersSent) res.writeHead(400, { "content-type": "application/json" })
        res.end(JSON.stringify({ error: { message: `fake model: ${error}`, type: "fake" } }))
      }
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, "127.0.0.1", resolve)
  })
  const port = (server.address() as AddressInfo).port
  const url = `http://127.0.0.1:${port}/v1`
  const key = `model_providers.${provider}`
  return {
    url,
    port,
    requests,
    codexConfig: () => [
      `model="${model}"`,
      `model_provider="${provider}"`,
      `${key}.name="${provider}"`,
      `${key}.base_url="${url}"`,
      `${key}.wire_api="responses"`,
      `${key}.request_max_retries=0`,
      `${key}.stream_max_retries=0`,
      // Codex otherwise syncs curated plugins from github.com and chatgpt.com, and reports analytics.
      "features.plugins=false",
      "analytics.enabled=false"
    ],
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
  }
}
