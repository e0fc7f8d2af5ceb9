// Test fixture: a loopback-only fake OpenAI Responses API (SSE) for the real `codex app-server`, scripted by prompt directives. Not shipped.
import * as http from "node:http"
import type { AddressInfo } from "node:net"

/**
 * What the fake model does is read from the last real user message of each request (user messages that are
 * one `<tag>…</tag>` block, such as Codex's `<environment_context>`, are skipped). Directives, in any order:
 * - none: one assistant message `done: <first 40 chars of the prompt>`.
 * - `[[run: <shell command>]]`: a call to Codex's shell tool (`exec_command {cmd}` in Codex 0.171).
 * - `[[spawn: <json object>]]`: a call to the MCP tool `t3_thread_start` of the `spindle` MCP server.
 * - `[[call: <tool> <json object>]]`: a call to any offered tool, named `name` or `namespace.name`.
 * - `[[slow: <ms>]]`: the final message streams its first half, then the stream is held open `ms` ms.
 * - `[[fail]]`: the stream fails with `response.failed`; `[[fail: <status>]]`: an HTTP error instead.
 * Tool directives run in order, one call per model request (the step is the number of tool outputs after
 * the prompt); once all have outputs, the final message quotes each output. Arguments cannot contain `]]`.
 */
export type Directive =
  | { readonly kind: "run"; readonly command: string }
  | { readonly kind: "call"; readonly tool: string; readonly args: unknown }
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
  /** Defaults to 0 (any free port). The host is always 127.0.0.1. */
  readonly port?: number
  /** The model and provider ids used by `codexConfig()`; default "mock-model" and "mock". */
  readonly model?: string
  readonly provider?: string
  /** Receives one line per decision (tool chosen, failure, unknown path); silent by default. */
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
  /** Stops listening and ends open connections, including held (`slow`) streams. */
  readonly close: () => Promise<void>
}

export const SPAWN_TOOL = "mcp__spindle.t3_thread_start"

export const parseDirectives = (prompt: string): Array<Directive> =>
  Array.from(prompt.matchAll(/\[\[(\w+)(?::\s*([\s\S]*?))?\]\]/g)).flatMap(
    ([, name, arg = ""]): Directive[] => {
      const text = arg.trim()
      if (name === "run") return [{ kind: "run", command: text }]
      if (name === "spawn") return [{ kind: "call", tool: SPAWN_TOOL, args: JSON.parse(text || "{}") }]
      if (name === "call") {
        const space = text.search(/\s/)
        const tool = space < 0 ? text : text.slice(0, space)
        return [{ kind: "call", tool, args: JSON.parse(space < 0 ? "{}" : text.slice(space)) }]
      }
      if (name === "slow") return [{ kind: "slow", ms: Number(text) }]
      if (name === "fail") return [{ kind: "fail", status: text === "" ? undefined : Number(text) }]
      return []
    }
  )

/** The text of a message content, a tool output (string or content items) or anything in between. */
const textOf = (value: unknown): string => {
  if (typeof value === "string") return value
  if (Array.isArray(value)) return value.map(textOf).join("")
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>
    if (typeof record.text === "string") return record.text
    return textOf(record.content ?? record.output ?? "")
  }
  return ""
}

const isPrompt = (item: any) =>
  item?.type === "message" &&
  item.role === "user" &&
  !/^<([\w-]+)>[\s\S]*<\/\1>$/.test(textOf(item.content).trim())

/** Finds `wanted` (`name` or `namespace.name`) among the request's tools: functions or namespaces of them. */
const findTool = (tools: ReadonlyArray<any>, wanted: string) => {
  const [namespace, name] = wanted.includes(".") ? wanted.split(".", 2) : [undefined, wanted]
  for (const tool of tools) {
    if (tool.type === "function" && (tool.name === wanted || tool.name === `${namespace}__${name}`))
      return { name: tool.name as string }
    if (tool.type === "namespace" && (namespace === undefined || tool.name === namespace)) {
      const inner = (tool.tools ?? []).find((t: any) => t.name === name)
      if (inner !== undefined) return { namespace: tool.name as string, name: name as string }
    }
  }
  return undefined
}

const toolNames = (tools: ReadonlyArray<any>) =>
  tools.map((t) =>
    t.type === "namespace" ? `${t.name}{${t.tools.map((x: any) => x.name)}}` : (t.name ?? t.type)
  )

/** The function call for a tool directive, or the reason it cannot be made. */
const toolCall = (tools: ReadonlyArray<any>, directive: Directive) => {
  if (directive.kind === "run") {
    const command = directive.command
    if (findTool(tools, "exec_command")) return { name: "exec_command", args: { cmd: command, login: false } }
    if (findTool(tools, "shell_command")) return { name: "shell_command", args: { command } }
    if (findTool(tools, "shell")) return { name: "shell", args: { command: ["bash", "-lc", command] } }
    return `no shell tool offered (tools: ${toolNames(tools).join(", ")})`
  }
  if (directive.kind !== "call") return "not a tool directive"
  const found = findTool(tools, directive.tool)
  if (found === undefined) return `tool ${directive.tool} not offered (tools: ${toolNames(tools).join(", ")})`
  return { ...found, args: directive.args }
}

const describe = (directive: Directive) =>
  directive.kind === "run" ? `ran \`${directive.command}\`` : `called ${(directive as { tool: string }).tool}`

export const startFakeModel = async (options: FakeModelOptions = {}): Promise<FakeModel> => {
  const model = options.model ?? "mock-model"
  const provider = options.provider ?? "mock"
  const log = options.log ?? (() => {})
  const requests: Array<ResponsesRequest> = []
  const timers = new Set<NodeJS.Timeout>()
  let counter = 0

  const respond = (body: ResponsesRequest, bodyLength: number, res: http.ServerResponse) => {
    const input = body.input ?? []
    const tools = body.tools ?? []
    const promptAt = input.findLastIndex(isPrompt)
    const prompt = promptAt < 0 ? "" : textOf(input[promptAt].content)
    const directives = parseDirectives(prompt)
    const fail = directives.find((d) => d.kind === "fail")
    if (fail?.status !== undefined) {
      log(`fail: HTTP ${fail.status}`)
      res.writeHead(fail.status, { "content-type": "application/json" })
      res.end(
        JSON.stringify({ error: { message: "fake model: scripted failure", type: "invalid_request_error" } })
      )
      return
    }
    const n = ++counter
    const responseId = `resp_${n}`
    let open = true
    res.on("close", () => {
      open = false
    })
    const send = (event: Record<string, unknown>) => {
      if (open) res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`)
    }
    const complete = (outputText: string) => {
      const usage = {
        input_tokens: Math.ceil(bodyLength / 4),
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: Math.ceil(outputText.length / 4) + 1,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: Math.ceil(bodyLength / 4) + Math.ceil(outputText.length / 4) + 1
      }
      send({ type: "response.completed", response: { id: responseId, usage } })
      res.end()
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" })
    send({ type: "response.created", response: { id: responseId } })
    if (fail !== undefined) {
      log("fail: response.failed")
      const error = { code: "invalid_prompt", message: "fake model: scripted failure" }
      send({ type: "response.failed", response: { id: responseId, error } })
      res.end()
      return
    }

    const steps = directives.filter((d) => d.kind === "run" || d.kind === "call")
    const outputs = input.slice(promptAt + 1).filter((item) => String(item?.type).endsWith("call_output"))
    const next = steps[outputs.length]
    const call = next === undefined ? undefined : toolCall(tools, next)
    if (typeof call === "object") {
      log(`call ${call.namespace ? `${call.namespace}.` : ""}${call.name} ${JSON.stringify(call.args)}`)
      const { args, ...named } = call
      const item = {
        type: "function_call",
        id: `fc_${n}`,
        call_id: `call_${n}`,
        ...named,
        arguments: JSON.stringify(args)
      }
      send({ type: "response.output_item.done", output_index: 0, item })
      return complete(item.arguments)
    }
    if (typeof call === "string") log(`cannot call: ${call}`)

    const text =
      call !== undefined
        ? `fake model: ${call}`
        : steps.length === 0
          ? `done: ${prompt.slice(0, 40)}`
          : steps.map((step, i) => `${describe(step)}:\n${textOf(outputs[i]?.output)}`).join("\n")
    const itemId = `msg_${n}`
    const half = Math.ceil(text.length / 2)
    const message = (content: unknown[]) => ({ type: "message", role: "assistant", id: itemId, content })
    const delta = (chunk: string) =>
      send({
        type: "response.output_text.delta",
        item_id: itemId,
        output_index: 0,
        content_index: 0,
        delta: chunk
      })
    const finish = () => {
      delta(text.slice(half))
      const item = message([{ type: "output_text", text, annotations: [] }])
      send({ type: "response.output_item.done", output_index: 0, item })
      complete(text)
    }
    send({ type: "response.output_item.added", output_index: 0, item: message([]) })
    delta(text.slice(0, half))
    const slow = directives.find((d) => d.kind === "slow")
    if (slow === undefined) return finish()
    const timer = setTimeout(() => {
      timers.delete(timer)
      finish()
    }, slow.ms)
    timers.add(timer)
    res.on("close", () => {
      clearTimeout(timer)
      timers.delete(timer)
    })
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => {
      if (req.method !== "POST" || !req.url?.endsWith("/responses")) {
        log(`unknown request ${req.method} ${req.url}`)
        res.writeHead(404, { "content-type": "application/json" })
        return res.end(JSON.stringify({ error: { message: `fake model: no ${req.method} ${req.url}` } }))
      }
      const raw = Buffer.concat(chunks).toString("utf8")
      let body: ResponsesRequest
      try {
        body = JSON.parse(raw)
      } catch {
        res.writeHead(400)
        return res.end("fake model: body is not JSON")
      }
      requests.push(body)
      respond(body, raw.length, res)
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve())
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
      // Without these Codex syncs curated plugins from github.com / chatgpt.com and reports analytics.
      "features.plugins=false",
      "analytics.enabled=false"
    ],
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer)
        timers.clear()
        server.close(() => resolve())
        server.closeAllConnections()
      })
  }
}
