// Scenario "ws": round trips of a cheap command over the WebSocket API against a raw `ws` echo on
// the same machine, and event fan-out to 20 subscribers, all in one run.
import { once } from "node:events"
import type { Command } from "@spindle/contracts"
import { summarize } from "@spindle/shared/stats"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import WebSocket, { WebSocketServer } from "ws"
import { makeClient } from "../apps/server/src/cli/rpcClient.ts"
import { serverActor } from "../apps/server/src/testing/fixtures.ts"
import { inProcessServer } from "../apps/server/src/testing/inProcessServer.ts"
import { type BenchResult, formatMs, ratio } from "./report.ts"

const ROUND_TRIPS = 2_000
const SUBSCRIBERS = 20
const EVENTS = 5_000

const echoBaseline = async () => {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 })
  await once(server, "listening")
  server.on("connection", (socket) => socket.on("message", (data) => socket.send(data)))
  const { port } = server.address() as { port: number }
  const client = new WebSocket(`ws://127.0.0.1:${port}`)
  await once(client, "open")
  const latencies: Array<number> = []
  const payload = JSON.stringify({
    _tag: "Request",
    id: "1",
    tag: "orchestration.dispatchCommand",
    payload: {}
  })
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const t0 = performance.now()
    client.send(payload)
    await once(client, "message")
    latencies.push(performance.now() - t0)
  }
  client.close()
  server.close()
  return latencies
}

export const run = async (): Promise<BenchResult> => {
  const baseline = await echoBaseline()
  const scope = Effect.runSync(Scope.make())
  try {
    const server = await Effect.runPromise(Scope.provide(inProcessServer(), scope))
    const client = await Effect.runPromise(
      Scope.provide(makeClient({ url: server.url, token: server.ownerToken }), scope)
    )
    await Effect.runPromise(
      server.engine.dispatch(
        {
          type: "project.create",
          commandId: "bench",
          projectId: "bench",
          workspaceRoot: "/bench"
        } as Command,
        serverActor
      )
    )
    const latencies: Array<number> = []
    for (let i = 0; i < ROUND_TRIPS; i++) {
      const command = { type: "project.update", commandId: `rt-${i}`, projectId: "bench", title: `t${i}` }
      const t0 = performance.now()
      await Effect.runPromise(client["orchestration.dispatchCommand"]({ command }))
      latencies.push(performance.now() - t0)
    }
    const ours = summarize(latencies)
    const base = summarize(baseline)

    // Fan-out: 20 subscribers over their own connections, 5,000 events from the engine.
    const from = (await Effect.runPromise(server.engine.readModel)).sequence
    const target = from + EVENTS
    const delays: Array<number> = []
    const subscribers = await Promise.all(
      Array.from({ length: SUBSCRIBERS }, async () => {
        const c = await Effect.runPromise(
          Scope.provide(makeClient({ url: server.url, token: server.ownerToken }), scope)
        )
        return Effect.runFork(
          c["orchestration.subscribe"]({ fromSequence: from }).pipe(
            Stream.takeUntil((e) => e.sequence >= target),
            Stream.runForEach((e) => Effect.sync(() => delays.push(Date.now() - Date.parse(e.occurredAt))))
          )
        )
      })
    )
    const t0 = performance.now()
    await Effect.runPromise(
      Effect.forEach(
        Array.from({ length: EVENTS }, (_, i) => i),
        (i) =>
          server.engine.dispatch(
            { type: "project.update", commandId: `fan-${i}`, projectId: "bench", title: `f${i}` } as Command,
            serverActor
          ),
        { concurrency: 16, discard: true }
      )
    )
    await Promise.all(subscribers.map((fiber) => Effect.runPromise(Fiber.join(fiber))))
    const fanOutMs = performance.now() - t0
    const d = summarize(delays)
    return {
      name: "ws",
      lines: [
        `${ROUND_TRIPS} sequential project.update over /ws: p50 ${formatMs(ours.p50)}, p99 ${formatMs(ours.p99)}`,
        `raw ws echo of a same-size frame: p50 ${formatMs(base.p50)}, p99 ${formatMs(base.p99)}`,
        `ratio: p50 ${ratio(ours.p50, base.p50)}, p99 ${ratio(ours.p99, base.p99)}`,
        `fan-out: ${SUBSCRIBERS} subscribers x ${EVENTS} events delivered in ${formatMs(fanOutMs)}; delivery delay p50 ${d.p50} ms, p99 ${d.p99} ms (${d.count} deliveries)`
      ]
    }
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}
