import type { AddressInfo, Socket } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import WebSocket, { WebSocketServer } from "ws"
import {
  boundedSendSocket,
  OVERFLOW_CLOSE_CODE,
  overflowOf,
  overflowReason,
  type SendBound
} from "./backpressure.ts"

const KiB = 1024
const MiB = 1024 * KiB

const tcpOf = (ws: WebSocket) => (ws as unknown as { readonly _socket: Socket })._socket

/** A plain `ws` server on 127.0.0.1 using the bounded socket class, and one client connected to it. */
const connected = (bound: SendBound) =>
  Effect.acquireRelease(
    Effect.callback<{ wss: WebSocketServer; client: WebSocket; server: WebSocket }, Error>((resume) => {
      const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, WebSocket: boundedSendSocket(bound) })
      wss.once("listening", () => {
        const { port } = wss.address() as AddressInfo
        const client = new WebSocket(`ws://127.0.0.1:${port}`)
        client.on("error", () => {})
        wss.once("connection", (server) => {
          client.once("open", () => resume(Effect.succeed({ wss, client, server })))
        })
      })
      wss.once("error", (error) => resume(Effect.fail(error)))
    }),
    ({ wss, client }) =>
      Effect.sync(() => {
        client.terminate()
        for (const socket of wss.clients) socket.terminate()
        wss.close()
      })
  )

const until = (condition: () => boolean) =>
  Effect.sync(condition).pipe(
    Effect.repeat({ until: (done) => done, schedule: Schedule.spaced("5 millis") }),
    Effect.timeout("20 seconds")
  )

describe("the per-connection send bound", () => {
  it.live(
    "stops reading a peer's requests while its replies are queued, and reads again once they drain",
    () =>
      Effect.gen(function* () {
        const { client, server } = yield* connected({
          pauseAbove: 256 * KiB,
          closeAbove: 1024 * MiB,
          closeGraceMs: 1_000
        })
        const total = 1_000
        let handled = 0
        const reply = Buffer.alloc(64 * KiB, 1)
        server.on("message", () => {
          handled++
          server.send(reply)
        })
        let answered = 0
        client.on("message", () => {
          answered++
        })
        tcpOf(client).pause()
        for (let i = 0; i < total; i++) client.send(Buffer.alloc(4 * KiB, 2))

        yield* until(() => server.isPaused)
        // Far fewer requests handled than sent: the rest wait unread in the kernel and the client.
        assert.isBelow(handled, total / 2)
        // What is queued stayed near the pause mark, far below the 64 MiB asked for.
        assert.isBelow(server.bufferedAmount, 4 * MiB)
        // The Effect socket pausing and resuming for its own buffer must not undo this pause.
        server.pause()
        server.resume()
        assert.isTrue(server.isPaused)

        tcpOf(client).resume()
        yield* until(() => answered === total)
        assert.strictEqual(handled, total)
        assert.strictEqual(server.readyState, WebSocket.OPEN)
        assert.isFalse(server.isPaused)
      })
  )

  it.live(
    "closes with 1008 and the reason once the queue passes the bound; a peer reading again gets the frame",
    () =>
      Effect.gen(function* () {
        const bound: SendBound = { pauseAbove: 1024 * MiB, closeAbove: 1 * MiB, closeGraceMs: 10_000 }
        const { client, server } = yield* connected(bound)
        const closed = new Promise<{ code: number; reason: string }>((done) =>
          client.on("close", (code, reason) => done({ code, reason: String(reason) }))
        )
        tcpOf(client).pause()
        const message = Buffer.alloc(64 * KiB, 3)
        let peak = 0
        // 128 MiB offered to a peer that reads none of it.
        for (let i = 0; i < 2_048; i++) {
          server.send(message)
          peak = Math.max(peak, server.bufferedAmount)
        }
        assert.isAtMost(peak, bound.closeAbove + message.length)
        assert.strictEqual(server.readyState, WebSocket.CLOSING)
        assert.strictEqual(overflowOf(tcpOf(server))?.reason, overflowReason(bound))

        tcpOf(client).resume()
        const { code, reason } = yield* Effect.promise(() => closed).pipe(Effect.timeout("20 seconds"))
        assert.strictEqual(code, OVERFLOW_CLOSE_CODE)
        assert.strictEqual(reason, "send buffer over 1048576 bytes: the client is not reading")
      })
  )

  it.live("drops a peer that never reads again once the grace has passed", () =>
    Effect.gen(function* () {
      const { client, server } = yield* connected({
        pauseAbove: 1024 * MiB,
        closeAbove: 256 * KiB,
        closeGraceMs: 50
      })
      const serverClosed = new Promise<void>((done) => server.once("close", () => done()))
      tcpOf(client).pause()
      const message = Buffer.alloc(64 * KiB, 4)
      for (let i = 0; i < 1_024; i++) server.send(message)
      yield* Effect.promise(() => serverClosed).pipe(Effect.timeout("10 seconds"))
      assert.strictEqual(server.readyState, WebSocket.CLOSED)
      assert.isTrue(tcpOf(server).destroyed)
    })
  )
})
