// MCP sessions are bounded per token and in all: past a bound the least recently used idle session
// is closed (its next request gets 404, so its client initializes again), a session with a request
// in flight (an open event stream) is never the one closed, and when every candidate is busy the
// new session is refused. A client that stalls in the middle of a request body is answered and
// closed within the request timeout. A real server in-process, raw HTTP.
import { connect } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { mcpWorld, rawInitialize } from "../testing/mcp.ts"

const HEADERS = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  "mcp-protocol-version": "2025-06-18"
}

const open = (url: string, token: string) =>
  Effect.map(rawInitialize(url, { authorization: `Bearer ${token}` }), (answer) => {
    assert.strictEqual(answer.status, 200, answer.body)
    return answer.session!
  })

/** The status a `ping` on the session gets: 200 while it lives, 404 once it was closed. */
const ping = (url: string, token: string, session: string) =>
  Effect.promise(async () => {
    const response = await fetch(`${url}/mcp`, {
      method: "POST",
      headers: { ...HEADERS, authorization: `Bearer ${token}`, "mcp-session-id": session },
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "ping" })
    })
    await response.text()
    return response.status
  })

/** A standalone GET event stream on the session, held open until aborted: a request in flight. */
const listen = (url: string, token: string, session: string) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const controller = new AbortController()
      const response = await fetch(`${url}/mcp`, {
        method: "GET",
        headers: { ...HEADERS, authorization: `Bearer ${token}`, "mcp-session-id": session },
        signal: controller.signal
      })
      assert.strictEqual(response.status, 200)
      // Reading keeps the stream flowing; the abort ends it.
      void response.body?.pipeTo(new WritableStream()).catch(() => undefined)
      return controller
    }),
    (controller) => Effect.sync(() => controller.abort())
  )

const statuses = (url: string, token: string, sessions: ReadonlyArray<string>) =>
  Effect.forEach(sessions, (session) => ping(url, token, session))

describe("MCP session bounds", () => {
  it.live("past the per-token bound the least recently used sessions are closed; they answer 404", () =>
    Effect.gen(function* () {
      const world = yield* mcpWorld({ settings: { mcpSessions: { perToken: 3, total: 10 } } })
      const sessions: Array<string> = []
      for (let i = 0; i < 3; i++) sessions.push(yield* open(world.url, world.token))
      // The first one is used again: now the second and third are the least recently used.
      assert.strictEqual(yield* ping(world.url, world.token, sessions[0]!), 200)
      for (let i = 0; i < 2; i++) sessions.push(yield* open(world.url, world.token))
      assert.deepStrictEqual(yield* statuses(world.url, world.token, sessions), [200, 404, 404, 200, 200])
      // A closed session's client starts a new one, and it works.
      const again = yield* open(world.url, world.token)
      assert.strictEqual(yield* ping(world.url, world.token, again), 200)
    })
  )

  it.live("the total bound closes the least recently used idle session of any token", () =>
    Effect.gen(function* () {
      const world = yield* mcpWorld({ settings: { mcpSessions: { perToken: 3, total: 4 } } })
      const other = yield* world.issue("parent")
      const mine = [yield* open(world.url, world.token), yield* open(world.url, world.token)]
      const theirs = [yield* open(world.url, other), yield* open(world.url, other)]
      // A fifth session in all: the oldest idle one (mine[0]) makes room for it.
      theirs.push(yield* open(world.url, other))
      assert.deepStrictEqual(yield* statuses(world.url, world.token, mine), [404, 200])
      assert.deepStrictEqual(yield* statuses(world.url, other, theirs), [200, 200, 200])
    })
  )

  it.live(
    "a session with a request in flight is never closed; with no idle one the new session is refused",
    () =>
      Effect.gen(function* () {
        const world = yield* mcpWorld({ settings: { mcpSessions: { perToken: 2, total: 10 } } })
        const busy = yield* open(world.url, world.token)
        yield* listen(world.url, world.token, busy)
        const idle = yield* open(world.url, world.token)
        // Busy is the older one, but it is listening: the idle one makes room.
        const third = yield* open(world.url, world.token)
        assert.strictEqual(yield* ping(world.url, world.token, idle), 404)
        assert.strictEqual(yield* ping(world.url, world.token, busy), 200)
        // Both left are listening: a new session would have to close a busy one, so it is refused.
        const stream = yield* listen(world.url, world.token, third)
        const refused = yield* rawInitialize(world.url, { authorization: `Bearer ${world.token}` })
        assert.strictEqual(refused.status, 429)
        assert.isNull(refused.session)
        const error = JSON.parse(refused.body).error
        assert.strictEqual(error.data.reason, "capacity")
        assert.include(error.message, "2 MCP sessions")
        assert.deepStrictEqual(yield* statuses(world.url, world.token, [busy, third]), [200, 200])
        // Once a stream ends (its client went away), that session is idle again and makes room.
        stream.abort()
        let status = 429
        for (let i = 0; i < 50 && status === 429; i++) {
          yield* Effect.sleep("20 millis")
          status = (yield* rawInitialize(world.url, { authorization: `Bearer ${world.token}` })).status
        }
        assert.strictEqual(status, 200)
        assert.strictEqual(yield* ping(world.url, world.token, third), 404)
        assert.strictEqual(yield* ping(world.url, world.token, busy), 200)
      })
  )
})

describe("stalled requests", () => {
  it.live("a client that sends part of a body and stalls is answered 408 and closed within the timeout", () =>
    Effect.gen(function* () {
      const world = yield* mcpWorld({ settings: { requestTimeoutMs: 500 } })
      const { port } = new URL(world.url)
      const started = Date.now()
      const outcome = yield* Effect.promise(
        () =>
          new Promise<{ answer: string; closedAfterMs: number }>((resolve) => {
            let answer = ""
            const socket = connect(Number(port), "127.0.0.1", () => {
              socket.write(
                `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${world.token}\r\n` +
                  "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n" +
                  'Content-Length: 1000\r\n\r\n{"jsonrpc":"2.0",'
              )
            })
            socket.on("data", (chunk) => {
              answer += String(chunk)
            })
            const done = () => resolve({ answer, closedAfterMs: Date.now() - started })
            socket.on("close", done)
            socket.on("error", done)
            // Past this the stall is held: the test's answer is then "still open".
            setTimeout(() => {
              socket.destroy()
              done()
            }, 5_000).unref()
          })
      )
      assert.match(outcome.answer, /^HTTP\/1\.1 408/)
      assert.isBelow(outcome.closedAfterMs, 3_000)
      // The server goes on answering.
      assert.strictEqual(
        (yield* rawInitialize(world.url, { authorization: `Bearer ${world.token}` })).status,
        200
      )
    })
  )
})
