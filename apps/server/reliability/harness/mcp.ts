// MCP for the reliability suite: the SDK's real Client over Streamable HTTP with a bearer token,
// and raw HTTP to /mcp (node:http, so a test can set Host, send bytes that are not UTF-8, or
// reuse another token's session id). Every request is bounded.
import { request } from "node:http"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"

/** A connected SDK client; close it when done. */
export const connectMcp = async (url: string, token: string | undefined, name = "reliability") => {
  const client = new Client({ name, version: "1.0.0" })
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
    requestInit: { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } }
  })
  await client.connect(transport)
  return client
}

export interface HttpAnswer {
  readonly status: number
  readonly headers: Record<string, string | Array<string> | undefined>
  readonly text: string
  /** The JSON body, or the JSON-RPC message(s) of an SSE body; undefined when neither. */
  readonly json: unknown
}

/** Reads a JSON body or the `data:` lines of an event stream. */
const parseBody = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    const data = text
      .split("\n")
      .filter((line) => line.startsWith("data:"))
      .map((line) => line.slice(5).trim())
      .filter((line) => line !== "")
    if (data.length === 0) return undefined
    try {
      const messages = data.map((d) => JSON.parse(d))
      return messages.length === 1 ? messages[0] : messages
    } catch {
      return undefined
    }
  }
}

/** One raw HTTP request to `url` + `path`; answers whatever came back (an SSE body is read until it ends or 10 s). */
export const httpRequest = (
  url: string,
  options: {
    readonly method?: string
    readonly path?: string
    readonly headers?: Record<string, string>
    readonly body?: string | Buffer
    readonly timeoutMs?: number
  } = {}
): Promise<HttpAnswer> =>
  new Promise((resolve, reject) => {
    const req = request(`${url}${options.path ?? "/mcp"}`, {
      method: options.method ?? "POST",
      agent: false,
      headers: options.headers ?? {}
    })
    const timer = setTimeout(() => req.destroy(new Error("request timed out")), options.timeoutMs ?? 15_000)
    req.on("response", (res) => {
      const chunks: Array<Buffer> = []
      const done = () => {
        clearTimeout(timer)
        const text = Buffer.concat(chunks).toString("utf8")
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: parseBody(text) })
      }
      res.on("data", (chunk: Buffer) => {
        chunks.push(chunk)
        // A POST's event stream ends after its response; stop reading once one arrived.
        const soFar = Buffer.concat(chunks).toString("utf8")
        if (String(res.headers["content-type"]).includes("text/event-stream") && /\ndata: .*\n/.test(soFar)) {
          res.destroy()
          done()
        }
      })
      res.on("end", done)
      res.on("error", () => done())
    })
    req.on("error", (error) => {
      clearTimeout(timer)
      reject(error)
    })
    req.end(options.body)
  })

const JSON_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" }

/** A raw MCP session: initialize by hand, then post any body in it. */
export const rawMcpSession = async (url: string, token: string) => {
  const auth = { authorization: `Bearer ${token}` }
  const init = await httpRequest(url, {
    headers: { ...JSON_HEADERS, ...auth },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } }
    })
  })
  const sessionId = String(init.headers["mcp-session-id"] ?? "")
  if (init.status !== 200 || sessionId === "")
    throw new Error(`initialize failed: ${init.status} ${init.text}`)
  const headers = {
    ...JSON_HEADERS,
    ...auth,
    "mcp-session-id": sessionId,
    "mcp-protocol-version": "2025-06-18"
  }
  await httpRequest(url, {
    headers,
    body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })
  })
  let id = 0
  return {
    sessionId,
    headers,
    /** Posts `body` (text or bytes) in the session. */
    post: (body: string | Buffer, extraHeaders: Record<string, string> = {}) =>
      httpRequest(url, { headers: { ...headers, ...extraHeaders }, body }),
    /** A tools/call with `args` given as JSON text (so it may hold any key). */
    callRaw: (name: string, argsJson: string) =>
      httpRequest(url, {
        headers,
        body: `{"jsonrpc":"2.0","id":${++id},"method":"tools/call","params":{"name":${JSON.stringify(name)},"arguments":${argsJson}}}`
      })
  }
}
export type RawMcpSession = Awaited<ReturnType<typeof rawMcpSession>>
