// MCP event streams can be resumed: for a client of protocol 2025-11-25 each POST event stream
// opens with a priming event (an id and a retry delay), and a client whose stream broke in the
// middle of a call gets the call's answer on a GET with Last-Event-ID. Clients of older protocols
// (Codex negotiates 2025-06-18) see the streams as before. A real server in-process, raw HTTP.
import { assert, describe, it } from "@effect/vitest"
import type { ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { serverActor } from "../testing/fixtures.ts"
import { callTool, mcpClient, mcpWorld } from "../testing/mcp.ts"
import { providersOn } from "../testing/providers.ts"
import { MCP_SSE_RETRY_MS } from "./eventStore.ts"

const CURRENT = "2025-11-25"

interface SseEvent {
  readonly id?: string
  readonly retry?: string
  readonly data: string
}

/** The events of an SSE text (comments skipped). */
const eventsOf = (text: string): Array<SseEvent> =>
  text
    .split(/\n\n/u)
    .map((block) => {
      const fields: Record<string, string> = {}
      const data: Array<string> = []
      for (const line of block.split("\n")) {
        if (line === "" || line.startsWith(":")) continue
        const colon = line.indexOf(":")
        const name = colon === -1 ? line : line.slice(0, colon)
        const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /u, "")
        if (name === "data") data.push(value)
        else fields[name] = value
      }
      return {
        ...fields,
        data: data.join("\n"),
        empty: Object.keys(fields).length === 0 && data.length === 0
      }
    })
    .filter((event) => !event.empty)
    .map(({ empty: _, ...event }) => event)

/** An open event stream read event by event, until `stop` holds; then cancelled. */
const readUntil = async (response: Response, stop: (events: Array<SseEvent>) => boolean) => {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
  let text = ""
  try {
    while (!stop(eventsOf(text))) {
      const { done, value } = await reader.read()
      if (done) break
      text += value
    }
  } finally {
    await reader.cancel().catch(() => undefined)
  }
  return eventsOf(text)
}

const post = (url: string, headers: Record<string, string>, message: unknown, signal?: AbortSignal) =>
  fetch(`${url}/mcp`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...headers
    },
    body: JSON.stringify(message),
    ...(signal === undefined ? {} : { signal })
  })

/**
 * A GET event stream on the session. Until the server has seen that an earlier stream broke, that
 * one still counts as connected (409), which is why clients wait the retry delay before they
 * resume; here: asked again until the server has seen it, for 10 s at most.
 */
const getStream = (url: string, headers: Record<string, string>) =>
  Effect.promise(() =>
    fetch(`${url}/mcp`, { method: "GET", headers: { ...headers, accept: "text/event-stream" } })
  ).pipe(
    Effect.flatMap((response) =>
      response.status === 409
        ? Effect.andThen(
            Effect.promise(() => response.text()),
            Effect.fail("still connected" as const)
          )
        : Effect.succeed(response)
    ),
    Effect.retry({ schedule: Schedule.spaced("20 millis"), times: 500 }),
    Effect.orDie
  )

/** A session opened at `protocolVersion`: its id and the initialize answer's events. */
const initialize = (url: string, token: string, protocolVersion: string) =>
  Effect.promise(async () => {
    const auth = { authorization: `Bearer ${token}` }
    const response = await post(url, auth, {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion, capabilities: {}, clientInfo: { name: "resume-test", version: "1" } }
    })
    assert.strictEqual(response.status, 200)
    const session = response.headers.get("mcp-session-id")!
    const events = await readUntil(response, (events) => events.some((e) => e.data.includes('"result"')))
    const headers = { ...auth, "mcp-session-id": session, "mcp-protocol-version": protocolVersion }
    const initialized = await post(url, headers, { jsonrpc: "2.0", method: "notifications/initialized" })
    assert.strictEqual(initialized.status, 202)
    return { headers, events }
  })

/** A server whose parent may start command agents that run until stopped. */
const agentWorld = Effect.gen(function* () {
  const world = yield* mcpWorld({ settings: { providers: providersOn }, parentRuntimeMode: "full-access" })
  yield* world.commands.dispatch(
    {
      type: "project.update",
      commandId: "agent",
      projectId: "p1",
      agentCommand: ["/bin/sh", "-c", "exec sleep 120"]
    },
    serverActor
  )
  const other = yield* mcpClient(world.url, world.token)
  /** A child whose turn runs until `stop` ends it. */
  const child = Effect.map(
    callTool(other, "t3_thread_start", { prompt: "work until stopped", provider: "command" }),
    (started) => {
      const threadId = (started.structuredContent as { threadId?: ThreadId }).threadId
      assert.isString(threadId, JSON.stringify(started))
      return threadId!
    }
  )
  const stop = (threadId: ThreadId) => callTool(other, "t3_thread_stop", { threadId })
  return { ...world, child, stop }
})

describe("MCP resumable event streams", () => {
  it.live("a 2025-11-25 stream opens with an id and a retry delay; a 2025-06-18 one has neither", () =>
    Effect.gen(function* () {
      const world = yield* mcpWorld()
      const current = yield* initialize(world.url, world.token, CURRENT)
      const [priming, answer] = current.events
      assert.isString(priming?.id)
      assert.strictEqual(priming?.retry, String(MCP_SSE_RETRY_MS))
      assert.strictEqual(priming?.data, "")
      assert.strictEqual(JSON.parse(answer!.data).result.protocolVersion, CURRENT)

      // Older clients cannot read an event without data: they get the answer alone.
      const older = yield* initialize(world.url, world.token, "2025-06-18")
      assert.strictEqual(older.events.length, 1)
      assert.isUndefined(older.events[0]!.retry)
      assert.strictEqual(JSON.parse(older.events[0]!.data).result.protocolVersion, "2025-06-18")
    })
  )

  it.live("a client whose stream broke mid-call gets the answer on a GET with Last-Event-ID", () =>
    Effect.gen(function* () {
      const world = yield* agentWorld
      const child = yield* world.child
      const { headers } = yield* initialize(world.url, world.token, CURRENT)

      // A wait that answers only once the child's turn ends; the stream breaks after its first event.
      const abort = new AbortController()
      const primingId = yield* Effect.promise(async () => {
        const response = await post(
          world.url,
          headers,
          {
            jsonrpc: "2.0",
            id: 7,
            method: "tools/call",
            params: { name: "t3_thread_wait", arguments: { threadIds: [child], timeoutSeconds: 50 } }
          },
          abort.signal
        )
        const events = await readUntil(response, (events) => events.length > 0)
        abort.abort()
        assert.lengthOf(events, 1, "only the priming event came before the break")
        return events[0]!.id!
      })

      const resumed = yield* getStream(world.url, { ...headers, "last-event-id": primingId })
      assert.strictEqual(resumed.status, 200)
      // The child's turn ends now; the wait's answer comes on the resumed stream.
      yield* world.stop(child)
      const events = yield* Effect.promise(() =>
        readUntil(resumed, (events) => events.some((e) => e.data.includes('"id":7')))
      )
      const answer = JSON.parse(events.find((e) => e.data.includes('"id":7'))!.data)
      assert.isTrue(answer.result.structuredContent.done, JSON.stringify(answer))
      assert.isString(events.at(-1)!.id, "the answer carries an id, so a later break resumes after it")

      // An id the session never issued is refused, not resumed with a gap.
      const unknown = yield* Effect.promise(async () => {
        const response = await fetch(`${world.url}/mcp`, {
          method: "GET",
          headers: { ...headers, accept: "text/event-stream", "last-event-id": "999999" }
        })
        await response.body?.cancel()
        return response.status
      })
      assert.strictEqual(unknown, 400)
    })
  )

  it.live("a client whose standalone GET stream broke opens another, and hears notices on it", () =>
    Effect.gen(function* () {
      const world = yield* agentWorld
      // Codex's protocol: no priming events, and still a stream that must survive a reconnect.
      const { headers } = yield* initialize(world.url, world.token, "2025-06-18")
      const first = yield* getStream(world.url, headers)
      assert.strictEqual(first.status, 200)
      yield* Effect.promise(() => first.body!.cancel())
      const second = yield* getStream(world.url, headers)
      assert.strictEqual(second.status, 200)
      // The new stream is the live one: the notice that a child's turn ended comes on it.
      const child = yield* world.child
      yield* world.stop(child)
      const events = yield* Effect.promise(() =>
        readUntil(second, (events) => events.some((e) => e.data.includes("child-notice")))
      )
      assert.include(events.find((e) => e.data.includes("child-notice"))!.data, child)
    })
  )
})
