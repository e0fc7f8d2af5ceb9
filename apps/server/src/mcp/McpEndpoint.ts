// /mcp: the MCP Streamable HTTP endpoint, served by the SDK's low-level Server on the same Effect
// HTTP server as /health and /ws. It checks the provider token (401 + WWW-Authenticate), binds
// each MCP session to the token that opened it, keeps the sessions within their bounds
// (sessions.ts), drops idle ones, lets clients resume broken event streams (eventStore.ts), and
// gives each session its own MCP server from toolServer.ts, which runs the tools. No domain logic
// here. The SDK is loaded on the first /mcp request, not at
// startup: importing it costs a few hundred milliseconds that `spindle serve` would otherwise spend
// before it is ready.
import { randomUUID } from "node:crypto"
import type { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js"
import { SpindleError } from "@spindle/contracts"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { ProviderTokens } from "../auth/ProviderTokens.ts"
import { StartupGate } from "../bootstrap/StartupGate.ts"
import { DEFAULT_MCP_SESSION_LIMITS, ServerConfig } from "../config/ServerConfig.ts"
import { Engine } from "../engine/Engine.ts"
import { ofTypes } from "../engine/followers.ts"
import { MCP_SSE_RETRY_MS, makeEventStore } from "./eventStore.ts"
import type { McpInvocationContext } from "./McpInvocationContext.ts"
import { readMcpBody } from "./requestBody.ts"
import { makeSessionTable, type Session } from "./sessions.ts"
import { loadSdk, makeToolServer, type ToolServices } from "./toolServer.ts"

/** Sessions unused this long are closed. */
export const MCP_SESSION_IDLE_MS = 30 * 60 * 1000

const bearer = (authorization: string | undefined) => /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1]

/**
 * The response as sent: `done` runs once its body ended, failed or was cancelled (the client went
 * away), or at once when it has none. SSE responses get a comment first, so their headers go out
 * now rather than with the first event. A cancel reaches the SDK's stream, so the SDK sees the
 * client leave at once (and a GET stream, or a resume, can be opened again).
 */
const trackResponse = (response: Response, done: () => void): Response => {
  if (response.body === null) {
    done()
    return response
  }
  const reader = response.body.getReader()
  let comment = response.headers.get("content-type")?.includes("text/event-stream") === true
  const tracked = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (comment) {
        comment = false
        controller.enqueue(new TextEncoder().encode(": spindle\n\n"))
        return
      }
      try {
        const next = await reader.read()
        if (next.done) {
          controller.close()
          done()
        } else controller.enqueue(next.value)
      } catch (error) {
        controller.error(error)
        done()
      }
    },
    cancel(reason) {
      done()
      return reader.cancel(reason)
    }
  })
  return new Response(tracked, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers
  })
}

export const mcpRoute = HttpRouter.use((router) =>
  Effect.gen(function* () {
    const tokens = yield* ProviderTokens
    const engine = yield* Engine
    const gate = yield* StartupGate
    const config = yield* ServerConfig
    // Tool calls run as fibers of the server, in a set its shutdown interrupts.
    const runTool = yield* FiberSet.makeRuntimePromise<ToolServices>()
    const authRequired = config.mcpAuth !== "off"
    const limits = config.mcpSessions ?? DEFAULT_MCP_SESSION_LIMITS
    const sessions = makeSessionTable(limits)
    const closeAll = (evicted: Iterable<Session>) =>
      Effect.promise(() => Promise.all([...evicted].map((s) => s.transport.close().catch(() => undefined))))
    const sdk = yield* Effect.cached(Effect.promise(loadSdk))

    const makeServer = makeToolServer(engine, runTool)

    // A parent's agent hears about its children on its own MCP sessions, as log notifications.
    yield* Effect.forkScoped(
      Effect.gen(function* () {
        if ((yield* Effect.exit(engine.ready))._tag === "Failure") return
        const from = (yield* engine.readModel).sequence
        yield* Stream.runForEach(
          engine.events(from, { wanted: ofTypes("thread.child-notified"), background: true }),
          (event) => {
            if (event.type !== "thread.child-notified") return Effect.void
            const listeners = [...sessions.values()].filter((s) => s.threadId === event.payload.threadId)
            return Effect.forEach(
              listeners,
              (listener) =>
                Effect.promise(() =>
                  listener.server
                    .sendLoggingMessage({
                      level: "notice",
                      logger: "spindle",
                      data: { type: "child-notice", ...event.payload.notice }
                    })
                    .catch(() => undefined)
                ),
              { discard: true }
            )
          }
        ).pipe(Effect.ignore({ log: "Debug", message: "Could not send a child notice to an MCP session" }))
      })
    )

    // Idle sessions are closed, so an agent that went away does not hold one forever.
    yield* Effect.forkScoped(
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const idle: Array<Session> = []
        for (const [id, session] of [...sessions.entries()]) {
          if (session.inFlight === 0 && now - session.lastUsed > MCP_SESSION_IDLE_MS) {
            sessions.delete(id)
            idle.push(session)
          }
        }
        yield* closeAll(idle)
      }).pipe(Effect.repeat(Schedule.spaced("1 minute")))
    )
    yield* Effect.addFinalizer(() =>
      closeAll(sessions.values()).pipe(
        Effect.ignore({ log: "Debug", message: "Could not close the MCP sessions" })
      )
    )

    /** RFC 6750: the error code and a description a client can show, quotes and controls removed. */
    const unauthorized = (message: string) =>
      HttpServerResponse.jsonUnsafe(
        { jsonrpc: "2.0", error: { code: -32001, message }, id: null },
        {
          status: 401,
          headers: {
            // A header value is printable ASCII; a quoted string holds no quote or backslash.
            "www-authenticate": `Bearer realm="spindle-mcp", error="invalid_token", error_description="${message
              .replace(/[^\x20-\x7e]/gu, " ")
              .replace(/["\\]/gu, "'")
              .slice(0, 300)}"`
          }
        }
      )

    /** Every session a new one could replace has a request in flight: nothing is closed for it. */
    const sessionsFull = (bound: "token" | "total", limit: number) =>
      HttpServerResponse.jsonUnsafe(
        {
          jsonrpc: "2.0",
          error: {
            code: -32000,
            message:
              bound === "token"
                ? `This token already holds ${limit} MCP sessions, each with a request in flight. Reuse one of them, or end one (DELETE /mcp with its Mcp-Session-Id) and initialize again.`
                : `The server already holds ${limit} MCP sessions, each with a request in flight. Retry once one of them ended.`,
            data: { reason: "capacity" }
          },
          id: null
        },
        { status: 429, headers: { "retry-after": "5" } }
      )

    const handler = Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      let context: McpInvocationContext | undefined
      if (authRequired) {
        const resolved = yield* Effect.result(tokens.resolve(bearer(request.headers.authorization)))
        if (resolved._tag === "Failure") {
          const error = resolved.failure
          return unauthorized(
            error instanceof SpindleError ? error.message : "The token could not be checked. Retry."
          )
        }
        const { tokenId, threadId, projectId, providerSessionId, capabilities } = resolved.success
        // A token dies with its thread; until its revocation lands, the model says so already.
        if ((yield* gate.state).status === "ready") {
          const thread = yield* engine.getThread(threadId)
          if (thread === undefined || thread.status !== "active") {
            return unauthorized(
              `Thread ${threadId} has ended (archived or deleted); its token no longer works.`
            )
          }
        }
        context = { tokenId, threadId, projectId, providerSessionId, capabilities }
      }
      // One JSON message per POST, read here under a bound; the SDK gets it parsed.
      const body = yield* readMcpBody(request)
      if (body?._tag === "Refused") return body.response
      const now = yield* Clock.currentTimeMillis
      const sessionId = request.headers["mcp-session-id"]
      let session = sessionId === undefined ? undefined : sessions.get(sessionId)
      if (session !== undefined && session.tokenId !== (context?.tokenId ?? null)) {
        return HttpServerResponse.jsonUnsafe(
          {
            jsonrpc: "2.0",
            error: { code: -32001, message: "This MCP session belongs to another token." },
            id: null
          },
          { status: 403 }
        )
      }
      if (sessionId !== undefined && session === undefined) {
        // An ended or unknown session: the client starts a new one (MCP says 404 here).
        return HttpServerResponse.jsonUnsafe(
          {
            jsonrpc: "2.0",
            error: { code: -32001, message: "Session not found; initialize a new session." },
            id: null
          },
          { status: 404 }
        )
      }
      if (session === undefined) {
        const tokenId = context?.tokenId ?? null
        // Only an initialize opens a session (the SDK refuses anything else without one), so only
        // an initialize may make room, by closing the least recently used idle session.
        const message = body?._tag === "Message" ? (body.message as { method?: unknown }) : undefined
        if (message?.method === "initialize") {
          const room = sessions.makeRoom(tokenId, 1)
          if (room._tag === "Full") return sessionsFull(room.bound, room.limit)
          yield* closeAll(room.evicted)
        }
        const loaded = yield* sdk
        const server = makeServer(loaded)
        const transport: WebStandardStreamableHTTPServerTransport = new loaded.Transport({
          sessionIdGenerator: () => randomUUID(),
          // Event streams can be resumed (Last-Event-ID): each opens with an id and a retry delay.
          eventStore: makeEventStore(),
          retryInterval: MCP_SSE_RETRY_MS,
          onsessioninitialized: (id) => {
            for (const evicted of sessions.add(id, opened))
              void evicted.transport.close().catch(() => undefined)
          },
          onsessionclosed: (id) => {
            sessions.delete(id)
          }
        })
        const opened: Session = {
          transport,
          server,
          tokenId,
          threadId: context?.threadId ?? null,
          lastUsed: now,
          useOrder: 0,
          inFlight: 0
        }
        yield* Effect.promise(() => server.connect(transport))
        session = opened
      }
      sessions.touch(session, now)
      const webRequest = yield* HttpServerRequest.toWeb(request).pipe(Effect.orDie)
      const live = session
      // In flight from here until its answer (an event stream: until it ends), so it is not evicted.
      let released = false
      const release = () => {
        if (released) return
        released = true
        live.inFlight--
      }
      live.inFlight++
      const response = yield* Effect.promise(() =>
        live.transport.handleRequest(webRequest, {
          ...(body === undefined ? {} : { parsedBody: body.message }),
          // The SDK never sees the token itself, only who it stands for.
          authInfo: {
            token: "redacted",
            clientId: context?.providerSessionId ?? "anonymous",
            scopes: [...(context?.capabilities ?? [])],
            extra: { context }
          }
        })
      ).pipe(Effect.onError(() => Effect.sync(release)))
      return HttpServerResponse.fromWeb(trackResponse(response, release))
    })

    yield* router.add("*", "/mcp", handler)
  })
)
