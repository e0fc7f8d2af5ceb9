// Test fixture: a loopback fake Anthropic Messages API (SSE and JSON) for the real Claude Code CLI, as
// driven through its ACP adapter. Not shipped.
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { type Directive, parseDirectives } from "./fakeModel.ts"

/**
 * Claude Code sends two kinds of requests to `POST /v1/messages` (streamed but for the classifier):
 * - turns of the agent loop: they offer tools (Bash, Edit, Write, … and `mcp__<server>__<tool>`);
 * - side requests with no tools: a title, the files most edited in git history, a Bash command's
 *   prefix (2.1.44, on a haiku model), the auto mode's permission classifier (2.1.318, non-streaming)…
 *   Each gets the text `ok` at once, so none ever blocks a turn. (The classifier takes `ok` as a yes:
 *   put the agent in its "default" mode to see permission requests.)
 * `POST /v1/messages/count_tokens` (2.1.44 counts the MCP tools' tokens) answers a count.
 * A turn's reply is, in order of precedence: the next of `replies` (a queue the test fills), what
 * `respond(request)` returns, or what the directives of the last prompt say. The directives are the
 * ones of the fake Responses model (`fakeModel.ts`), so a test prompt works for Codex and Claude alike:
 * - none: `done: <first 40 chars of the prompt, directives removed>`.
 * - `[[run: <command>]]`: a call to `Bash {command}`.
 * - `[[call: <tool> <json>]]` and `[[spawn: <json>]]`: a call to any offered tool, `name`, or
 *   `server.tool` for `mcp__server__tool` (`[[spawn]]` calls `mcp__spindle__t3_thread_start`);
 *   `$CWD` in the arguments stands for the agent's working directory (from its system prompt).
 * - `[[say: <text>]]`, `[[slow: <ms>]]`, `[[fail]]` and `[[fail: <status>]]` as there.
 * Tool directives run in order, one call per request: the step is the number of tool results after the
 * prompt; once each call has its result, the final message quotes them.
 * Any other path is a 404. Every request is recorded.
 * With `proxyEnv()` in the CLI's environment the fake is also its HTTP(S) proxy: every attempt to reach
 * another host (CONNECT or an absolute URL) is refused and recorded in `outside`. Claude Code 2.1.44
 * checks `https://api.anthropic.com/api/claude_code/organizations/metrics_enabled` on exit whatever
 * the environment says; without the proxy that is a DNS lookup that fails, with it a refused CONNECT.
 */
export type Reply =
  | {
      readonly text: string
      /** Streams the first half, then holds the stream open this long (until the client goes). */
      readonly holdMs?: number
    }
  | { readonly tool: string; readonly input: Readonly<Record<string, unknown>>; readonly text?: string }
  /** An HTTP error with Anthropic's error body (`api_error`, or `overloaded_error` for 529). */
  | { readonly fail: number; readonly message?: string }

/** A parsed `/v1/messages` body, as Claude Code sent it. */
export interface MessagesRequest {
  readonly model?: string
  readonly messages?: ReadonlyArray<any>
  readonly system?: unknown
  readonly tools?: ReadonlyArray<any>
  readonly stream?: boolean
  readonly max_tokens?: number
  readonly [key: string]: unknown
}

export interface Recorded {
  readonly path: string
  readonly headers: http.IncomingHttpHeaders
  readonly body: MessagesRequest
  /** A request with no tools (title, topic, quota…), answered with a short text. */
  readonly side: boolean
}

export interface FakeAnthropicOptions {
  /** Defaults to 0 (a free port). The host is always 127.0.0.1. */
  readonly port?: number
  readonly respond?: (request: MessagesRequest) => Reply | Promise<Reply>
  /** Receives a line per reply, failure, early disconnect, unknown path or refused outside request. */
  readonly log?: (line: string) => void
}

export interface FakeAnthropic {
  /** `http://127.0.0.1:PORT`, for ANTHROPIC_BASE_URL (the client adds `/v1/messages`). */
  readonly url: string
  readonly port: number
  /** Every request, oldest first, side requests and count_tokens included. */
  readonly requests: Array<Recorded>
  /** The agent loop's `/v1/messages` bodies only, oldest first. */
  readonly turns: () => Array<MessagesRequest>
  /** Replies for the next turns, consumed first. */
  readonly replies: Array<Reply>
  /** Hosts (`host:port` or URLs) the CLI tried to reach through the fake as its proxy. */
  readonly outside: Array<string>
  /** ANTHROPIC_BASE_URL, a dummy ANTHROPIC_API_KEY, and the switches that keep the CLI quiet. */
  readonly env: () => Record<string, string>
  /** HTTPS_PROXY and HTTP_PROXY pointing here, NO_PROXY for loopback. */
  readonly proxyEnv: () => Record<string, string>
  /** Stops listening and ends open connections, held streams included. */
  readonly close: () => Promise<void>
}

/** The text of message content (a string or blocks), tool results included. */
export const textOf = (value: unknown): string => {
  if (typeof value === "string") return value
  if (Array.isArray(value)) return value.map(textOf).join("")
  if (value === null || typeof value !== "object") return ""
  const record = value as Record<string, unknown>
  return typeof record.text === "string" ? record.text : textOf(record.content)
}

const TAGGED = /^<([\w-]+)>[\s\S]*<\/\1>$/

/** Claude Code's note, in the conversation, of a turn the user interrupted. */
const INTERRUPTED = /^\[Request interrupted by user[^\]]*\]$/

/**
 * The user's own prompts in a message: its text blocks that are not one `<tag>…</tag>` (system
 * reminders) or the note of an interrupt. Claude Code sends a prompt that follows an interrupted
 * turn in the same message as the one it interrupted, so a message can hold several prompts.
 */
const promptTexts = (message: any): Array<string> => {
  if (message?.role !== "user") return []
  const blocks =
    typeof message.content === "string" ? [{ type: "text", text: message.content }] : message.content
  if (!Array.isArray(blocks) || blocks.some((b) => b?.type === "tool_result")) return []
  return blocks
    .filter((b) => b?.type === "text")
    .map((b) => String(b.text))
    .filter((text) => !TAGGED.test(text.trim()) && !INTERRUPTED.test(text.trim()))
}

/** Every prompt the user gave in this conversation, oldest first (the model sees earlier turns on resume). */
export const promptsOf = (request: MessagesRequest): Array<string> =>
  (request.messages ?? []).flatMap(promptTexts)

/** The tool results after the last prompt, oldest first. */
export const toolResultsOf = (request: MessagesRequest): Array<any> => {
  const messages = request.messages ?? []
  const at = messages.findLastIndex((m) => promptTexts(m).length > 0)
  return messages
    .slice(at + 1)
    .flatMap((m) => (m?.role === "user" && Array.isArray(m.content) ? m.content : []))
    .filter((b) => b?.type === "tool_result")
}

/** The offered tool `wanted` names: `name`, or `server.tool` for `mcp__server__tool`. */
const findTool = (tools: ReadonlyArray<any>, wanted: string): string | undefined => {
  const names = tools.map((t) => String(t?.name))
  if (names.includes(wanted)) return wanted
  const [server, tool] = wanted.split(".", 2)
  if (tool === undefined) return undefined
  const full = `${server!.startsWith("mcp__") ? server : `mcp__${server}`}__${tool}`
  return names.includes(full) ? full : undefined
}

const describe = (step: Directive) =>
  step.kind === "run" ? `ran \`${step.command}\`` : `called ${step.kind === "call" ? step.tool : step.kind}`

/** The agent's working directory, as Claude Code's system prompt says it ("Working directory: …"). */
export const workingDirectoryOf = (request: MessagesRequest): string | undefined =>
  /Working directory: ([^\n"\\]+)/.exec(textOf(request.system) || JSON.stringify(request.system ?? ""))?.[1]

/** A tool call's arguments with `$CWD` standing for the agent's working directory. */
const withCwd = (request: MessagesRequest, args: unknown): Record<string, unknown> => {
  const cwd = workingDirectoryOf(request)
  const text = JSON.stringify(args)
  return JSON.parse(cwd === undefined ? text : text.replaceAll("$CWD", cwd)) as Record<string, unknown>
}

/** The reply the prompt's directives ask for at this step of the turn. */
export const directedReply = (request: MessagesRequest): Reply => {
  const prompt = promptsOf(request).at(-1) ?? ""
  const directives = parseDirectives(prompt)
  const fail = directives.find((d) => d.kind === "fail")
  if (fail !== undefined) return { fail: fail.status ?? 500, message: "fake anthropic: scripted failure" }
  const steps = directives.filter((d) => d.kind === "run" || d.kind === "call")
  const results = toolResultsOf(request)
  const next = steps[results.length]
  if (next?.kind === "run") return { tool: "Bash", input: { command: next.command, description: "run" } }
  if (next?.kind === "call") {
    const name = findTool(request.tools ?? [], next.tool)
    if (name !== undefined) return { tool: name, input: withCwd(request, next.args ?? {}) }
    const offered = (request.tools ?? []).map((t) => t?.name).join(", ")
    return { text: `fake anthropic: tool ${next.tool} not offered (tools: ${offered})` }
  }
  const say = directives.find((d) => d.kind === "say")
  const slow = directives.find((d) => d.kind === "slow")
  const text =
    say !== undefined && steps.length === 0
      ? say.text
      : steps.length === 0
        ? `done: ${prompt
            .replace(/\[\[(\w+)(?::\s*([\s\S]*?))?\]\]/g, "")
            .trim()
            .slice(0, 40)}`
        : steps.map((step, i) => `${describe(step)}:\n${textOf(results[i]?.content)}`).join("\n")
  return slow === undefined ? { text } : { text, holdMs: slow.ms }
}

export const startFakeAnthropic = async (options: FakeAnthropicOptions = {}): Promise<FakeAnthropic> => {
  const { log = () => {} } = options
  const requests: Array<Recorded> = []
  const replies: Array<Reply> = []
  const outside: Array<string> = []
  const timers = new Set<NodeJS.Timeout>()
  let counter = 0

  const answer = (body: MessagesRequest, reply: Reply, inputTokens: number, res: http.ServerResponse) => {
    if ("fail" in reply) {
      log(`fail: HTTP ${reply.fail}`)
      const type =
        reply.fail === 529 ? "overloaded_error" : reply.fail === 429 ? "rate_limit_error" : "api_error"
      res.writeHead(reply.fail, { "content-type": "application/json" })
      const message = reply.message ?? "fake anthropic: scripted failure"
      return res.end(JSON.stringify({ type: "error", error: { type, message } }))
    }
    const n = ++counter
    const id = `msg_fake_${n}`
    const model = body.model ?? "claude-fake"
    const content: Array<any> = []
    if (reply.text) content.push({ type: "text", text: reply.text })
    if ("tool" in reply)
      content.push({ type: "tool_use", id: `toolu_fake_${n}`, name: reply.tool, input: reply.input })
    const stop_reason = "tool" in reply ? "tool_use" : "end_turn"
    const outputTokens = Math.ceil(JSON.stringify(content).length / 4)
    const usage = {
      input_tokens: inputTokens,
      output_tokens: outputTokens,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0
    }
    log(
      `${id} ${model}: ${"tool" in reply ? `${reply.tool} ${JSON.stringify(reply.input)}` : JSON.stringify(reply.text)}`
    )
    if (body.stream !== true) {
      res.writeHead(200, { "content-type": "application/json", "request-id": `req_fake_${n}` })
      const message = {
        id,
        type: "message",
        role: "assistant",
        model,
        content,
        stop_reason,
        stop_sequence: null,
        usage
      }
      return res.end(JSON.stringify(message))
    }

    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      "request-id": `req_fake_${n}`
    })
    const send = (event: Record<string, unknown>) => {
      if (!res.writableEnded && !res.destroyed)
        res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`)
    }
    const start = {
      id,
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null
    }
    send({ type: "message_start", message: { ...start, usage: { ...usage, output_tokens: 1 } } })
    const finish = (from: number, textRest: string) => {
      if (textRest !== "")
        send({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: textRest } })
      if (from === 1) send({ type: "content_block_stop", index: 0 })
      if ("tool" in reply) {
        const index = from
        const json = JSON.stringify(reply.input)
        const cut = Math.ceil(json.length / 2)
        send({ type: "content_block_start", index, content_block: { ...content[index], input: {} } })
        for (const partial_json of [json.slice(0, cut), json.slice(cut)])
          send({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json } })
        send({ type: "content_block_stop", index })
      }
      send({
        type: "message_delta",
        delta: { stop_reason, stop_sequence: null },
        usage: { output_tokens: outputTokens }
      })
      send({ type: "message_stop" })
      res.end()
    }
    const text = reply.text ?? ""
    if (text === "") return finish(0, "")
    const half = Math.ceil(text.length / 2)
    send({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } })
    send({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: text.slice(0, half) } })
    const holdMs = "holdMs" in reply ? reply.holdMs : undefined
    if (holdMs === undefined) return finish(1, text.slice(half))
    const timer = setTimeout(() => {
      timers.delete(timer)
      finish(1, text.slice(half))
    }, holdMs)
    timers.add(timer)
    res.on("close", () => {
      clearTimeout(timer)
      timers.delete(timer)
      if (!res.writableFinished) log(`${id}: client closed the stream early`)
    })
  }

  const refuse = (target: string) => {
    outside.push(target)
    log(`refused outside request: ${target}`)
  }

  const server = http.createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", async () => {
      const url = req.url ?? ""
      if (/^https?:\/\//.test(url)) {
        refuse(url)
        res.writeHead(403, { "content-type": "text/plain" })
        return res.end("fake anthropic: no outside requests")
      }
      const path = url.split("?")[0]!
      const raw = Buffer.concat(chunks).toString("utf8")
      const isMessages = path === "/v1/messages"
      if (req.method !== "POST" || (!isMessages && path !== "/v1/messages/count_tokens")) {
        log(`unknown request ${req.method} ${url}`)
        requests.push({ path, headers: req.headers, body: {}, side: true })
        res.writeHead(404, { "content-type": "application/json" })
        const error = { type: "not_found_error", message: `fake anthropic: no ${req.method} ${path}` }
        return res.end(JSON.stringify({ type: "error", error }))
      }
      try {
        const body = JSON.parse(raw) as MessagesRequest
        const side = !isMessages || (body.tools ?? []).length === 0
        requests.push({ path, headers: req.headers, body, side })
        const inputTokens = Math.ceil(raw.length / 4)
        if (!isMessages) {
          res.writeHead(200, { "content-type": "application/json" })
          return res.end(JSON.stringify({ input_tokens: inputTokens }))
        }
        const reply: Reply = side
          ? { text: "ok" }
          : (replies.shift() ?? (options.respond ? await options.respond(body) : directedReply(body)))
        answer(body, reply, inputTokens, res)
      } catch (error) {
        log(`error: ${error}`) // a bad body or a throwing `respond`: the request fails with this message
        if (!res.headersSent) res.writeHead(400, { "content-type": "application/json" })
        res.end(
          JSON.stringify({ type: "error", error: { type: "invalid_request_error", message: `${error}` } })
        )
      }
    })
  })
  // As a proxy: CONNECT host:443 is refused; the socket is closed.
  server.on("connect", (req: http.IncomingMessage, socket) => {
    refuse(req.url ?? "")
    socket.end("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, "127.0.0.1", resolve)
  })
  const port = (server.address() as AddressInfo).port
  const url = `http://127.0.0.1:${port}`
  return {
    url,
    port,
    requests,
    turns: () => requests.filter((r) => !r.side).map((r) => r.body),
    replies,
    outside,
    env: () => ({
      ANTHROPIC_BASE_URL: url,
      ANTHROPIC_API_KEY: "sk-ant-fake",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      DISABLE_TELEMETRY: "1",
      DISABLE_ERROR_REPORTING: "1",
      DISABLE_AUTOUPDATER: "1",
      CLAUDE_CODE_DISABLE_FAST_MODE: "1",
      CLAUDE_CODE_MAX_RETRIES: "0"
    }),
    proxyEnv: () => ({ HTTPS_PROXY: url, HTTP_PROXY: url, NO_PROXY: "127.0.0.1,localhost" }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer)
        timers.clear()
        server.close(() => resolve())
        server.closeAllConnections()
      })
  }
}
