// The token attacks, each a real request against the real server and the answer it must get:
// guessed, truncated, revoked and expired tokens, one kind of token on the other's door, another
// session's MCP session id, per-call headers over an open socket, missing capabilities, and
// Host/Origin rebinding. Each answers what it got, in a few words.
import { randomBytes } from "node:crypto"
import { connectMcp, httpRequest, rawMcpSession } from "../harness/mcp.ts"
import { openRaw, upgrade } from "../harness/wsRaw.ts"
import { toolOutcome } from "../hostile/mcpRaces.ts"

export interface Tokens {
  readonly url: string
  readonly owner: string
  readonly reader: string
  readonly revokedClient: string
  readonly expiredClient: string
  /** Provider tokens: of thread ta, of thread tb, revoked by archiving, revoked by id, expired, read-only, manage-only. */
  readonly providerA: string
  readonly providerB: string
  readonly archivedProvider: string
  readonly revokedProvider: string
  readonly expiredProvider: string
  readonly readOnlyProvider: string
  readonly manageOnlyProvider: string
  /** A child of thread tb, started by its agent. */
  readonly childOfB: string
}

export interface Attack {
  readonly door: "ws" | "mcp" | "http"
  readonly name: string
  /** "401", "403", or a SpindleError / tool error reason. */
  readonly expect: string
  readonly run: () => Promise<string>
}

const guessed = (prefix: string) => `${prefix}${randomBytes(32).toString("base64url")}`
const truncated = (token: string) => token.slice(0, -1)
const changed = (token: string) => `${token.slice(0, 10)}${token[10] === "A" ? "B" : "A"}${token.slice(11)}`
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

const MCP_INIT = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "attacker", version: "1" } }
})
const MCP_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" }

/** The status of a refused upgrade, with a note when a 401 lacks WWW-Authenticate. */
const wsStatus = async (t: Tokens, headers: Record<string, string>, path = "/ws") => {
  const answer = await upgrade(t.url, headers, path)
  return answer.status === 401 && answer.headers["www-authenticate"] === undefined
    ? "401 without WWW-Authenticate"
    : String(answer.status)
}

const mcpStatus = async (t: Tokens, headers: Record<string, string>) => {
  const answer = await httpRequest(t.url, { headers: { ...MCP_HEADERS, ...headers }, body: MCP_INIT })
  return answer.status === 401 && answer.headers["www-authenticate"] === undefined
    ? "401 without WWW-Authenticate"
    : String(answer.status)
}

/** A dispatch over a socket opened with `token`, carrying `perCall` as its own Authorization header. */
const perCall = async (t: Tokens, token: string, perCallToken: string | undefined) => {
  const socket = await openRaw(t.url, bearer(token))
  try {
    const reply = await socket.request(
      "orchestration.dispatchCommand",
      {
        command: {
          type: "thread.create",
          commandId: `attack-${randomBytes(4).toString("hex")}`,
          threadId: "t-attack",
          projectId: "pa",
          title: "attack"
        }
      },
      perCallToken === undefined ? {} : { headers: [["authorization", `Bearer ${perCallToken}`]] }
    )
    if (reply.kind !== "exit") return reply.kind
    return reply.ok ? "accepted" : String(reply.error?.reason ?? "a defect")
  } finally {
    socket.close()
  }
}

const toolAnswer = async (t: Tokens, token: string, name: string, args: Record<string, unknown>) => {
  const client = await connectMcp(t.url, token, "attacker")
  try {
    if (name === "t3_thread_start") return (await toolOutcome(client, args)).answer
    const result = await client.callTool({ name, arguments: args })
    if (result.isError !== true) return "ok"
    return String(JSON.parse((result.content as Array<{ text?: string }>)[0]?.text ?? "{}").error)
  } finally {
    await client.close()
  }
}

/** Another token reusing a live session's id: POST, GET (the SSE stream) and DELETE. */
const otherSession = async (t: Tokens, method: "POST" | "GET" | "DELETE") => {
  const session = await rawMcpSession(t.url, t.providerA)
  const answer = await httpRequest(t.url, {
    method,
    headers: { ...session.headers, ...bearer(t.providerB) },
    ...(method === "POST" ? { body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }) } : {}),
    timeoutMs: 5_000
  })
  // The owner of the session must still be able to use it.
  const still = await session.post(JSON.stringify({ jsonrpc: "2.0", id: 3, method: "tools/list" }))
  return still.status === 200
    ? String(answer.status)
    : `${answer.status}, and the session's owner then got ${still.status}`
}

export const attacks = (t: Tokens): ReadonlyArray<Attack> => {
  const ws = (name: string, headers: Record<string, string>, expect = "401", path?: string): Attack => ({
    door: "ws",
    name,
    expect,
    run: () => wsStatus(t, headers, path)
  })
  const mcp = (name: string, headers: Record<string, string>, expect = "401"): Attack => ({
    door: "mcp",
    name,
    expect,
    run: () => mcpStatus(t, headers)
  })
  return [
    ws("no token", {}),
    ws("guessed client token", bearer(guessed("spc_"))),
    ws("guessed provider-shaped token", bearer(guessed("spn_"))),
    ws("truncated owner token", bearer(truncated(t.owner))),
    ws("owner token with a character more", bearer(`${t.owner}x`)),
    ws("owner token with one character changed", bearer(changed(t.owner))),
    ws("revoked client token", bearer(t.revokedClient)),
    ws("expired client token", bearer(t.expiredClient)),
    ws("provider token on the WebSocket", bearer(t.providerA)),
    ws("owner token under the Basic scheme", { authorization: `Basic ${t.owner}` }),
    ws("owner token in the query string only", {}, "401", `/ws?token=${t.owner}`),
    ws("guessed token as a browser subprotocol", {
      "sec-websocket-protocol": `spindle, bearer.${guessed("spc_")}`
    }),
    ws("Host: evil.example with the owner token", { ...bearer(t.owner), host: "evil.example" }, "403"),
    ws(
      "Origin: http://evil.example with the owner token",
      { ...bearer(t.owner), origin: "http://evil.example" },
      "403"
    ),
    ws("Origin: null with the owner token", { ...bearer(t.owner), origin: "null" }, "403"),
    ws("Host: 127.0.0.1.evil.example", { ...bearer(t.owner), host: "127.0.0.1.evil.example" }, "403"),
    ws(
      "Origin: http://localhost.evil.example",
      { ...bearer(t.owner), origin: "http://localhost.evil.example" },
      "403"
    ),
    {
      door: "ws",
      name: "per-call header with a guessed token over a read socket",
      expect: "unauthorized",
      run: () => perCall(t, t.reader, guessed("spc_"))
    },
    {
      door: "ws",
      name: "per-call header with a revoked token",
      expect: "unauthorized",
      run: () => perCall(t, t.reader, t.revokedClient)
    },
    {
      door: "ws",
      name: "per-call header with a provider token",
      expect: "unauthorized",
      run: () => perCall(t, t.reader, t.providerA)
    },
    {
      door: "ws",
      name: "read token dispatching a command",
      expect: "forbidden",
      run: () => perCall(t, t.reader, undefined)
    },
    mcp("no token", {}),
    mcp("guessed provider token", bearer(guessed("spn_"))),
    mcp("truncated provider token", bearer(truncated(t.providerA))),
    mcp("provider token with a character more", bearer(`${t.providerA}x`)),
    mcp("provider token with one character changed", bearer(changed(t.providerA))),
    mcp("provider token of an archived thread", bearer(t.archivedProvider)),
    mcp("provider token revoked by id", bearer(t.revokedProvider)),
    mcp("expired provider token", bearer(t.expiredProvider)),
    mcp("owner (client) token on MCP", bearer(t.owner)),
    mcp("read client token on MCP", bearer(t.reader)),
    mcp("Host: evil.example with a provider token", { ...bearer(t.providerA), host: "evil.example" }, "403"),
    mcp(
      "Origin: http://evil.example with a provider token",
      { ...bearer(t.providerA), origin: "http://evil.example" },
      "403"
    ),
    mcp("Origin: null with a provider token", { ...bearer(t.providerA), origin: "null" }, "403"),
    {
      door: "mcp",
      name: "another token POSTing in a live session",
      expect: "403",
      run: () => otherSession(t, "POST")
    },
    {
      door: "mcp",
      name: "another token opening a live session's stream",
      expect: "403",
      run: () => otherSession(t, "GET")
    },
    {
      door: "mcp",
      name: "another token deleting a live session",
      expect: "403",
      run: () => otherSession(t, "DELETE")
    },
    {
      door: "mcp",
      name: "reading another thread's child",
      expect: "forbidden",
      run: () => toolAnswer(t, t.providerA, "t3_thread_status", { threadId: t.childOfB })
    },
    {
      door: "mcp",
      name: "starting a thread with a read-only token",
      expect: "forbidden",
      run: () =>
        toolAnswer(t, t.readOnlyProvider, "t3_thread_start", { prompt: "x", mode: "current_checkout" })
    },
    {
      door: "mcp",
      name: "listing threads with a manage-only token",
      expect: "forbidden",
      run: () => toolAnswer(t, t.manageOnlyProvider, "t3_thread_list", {})
    },
    {
      door: "http",
      name: "GET /health with Host: evil.example",
      expect: "403",
      run: async () =>
        String(
          (await httpRequest(t.url, { method: "GET", path: "/health", headers: { host: "evil.example" } }))
            .status
        )
    },
    {
      door: "http",
      name: "GET /health with Origin: http://evil.example",
      expect: "403",
      run: async () =>
        String(
          (
            await httpRequest(t.url, {
              method: "GET",
              path: "/health",
              headers: { origin: "http://evil.example" }
            })
          ).status
        )
    }
  ]
}
