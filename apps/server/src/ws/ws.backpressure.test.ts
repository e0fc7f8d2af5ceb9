import { readFileSync, writeFileSync } from "node:fs"
import type { Socket } from "node:net"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import WebSocket from "ws"
import { makeClient } from "../cli/rpcClient.ts"
import { gitRepo, tempDir } from "../testing/fixtures.ts"
import { getJson } from "../testing/http.ts"
import { startServer } from "../testing/serverProcess.ts"
import { DEFAULT_SEND_BOUND, overflowReason } from "./backpressure.ts"

const MiB = 1024 * 1024

/** Resident memory of a process, and its peak since the last reset, in bytes (Linux /proc). */
const memoryOf = (pid: number) => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1]) * 1024
  return { rss: kb("VmRSS"), peak: kb("VmHWM") }
}

/** Resets the peak (VmHWM) to the current RSS, so the next reading is the peak of what follows. */
const resetPeak = (pid: number) => writeFileSync(`/proc/${pid}/clear_refs`, "5")

const snapshotRequest = (id: number) => ({
  _tag: "Request",
  id: String(id),
  tag: "orchestration.getSnapshot",
  payload: null,
  headers: []
})

describe("a WebSocket client that stops reading", () => {
  it.live(
    "is closed once its queued replies pass the bound, and the server's memory stays bounded",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir()
        const home = join(dir, "home")
        const server = yield* startServer(home)
        const pid = (JSON.parse(readFileSync(join(home, "server.json"), "utf8")) as { pid: number }).pid
        const token = readFileSync(join(home, "owner-token"), "utf8").trim()
        const client = yield* makeClient({ url: server.url, token })

        // A model whose snapshot is about 2 MiB: projects carrying 64 setup variables of 8000 bytes.
        const setupEnv = Object.fromEntries(
          Array.from({ length: 64 }, (_, i) => [`VAR_${i}`, String(i % 10).repeat(8_000)])
        )
        for (let i = 0; i < 4; i++) {
          const repo = yield* gitRepo
          yield* client["orchestration.dispatchCommand"]({
            command: {
              type: "project.create",
              commandId: `c${i}`,
              projectId: `p${i}`,
              workspaceRoot: repo,
              setupEnv
            }
          })
        }
        const replyBytes = JSON.stringify(yield* client["orchestration.getSnapshot"]()).length
        // Warm up: the heap a server settles at while it serves replies this size to a reader.
        for (let i = 0; i < 40; i++) yield* client["orchestration.getSnapshot"]()
        assert.isAbove(replyBytes, 2 * MiB - 64 * 1024)

        const requests = 400
        assert.isAbove(requests * replyBytes, 3.5 * 200 * MiB)
        const before = memoryOf(pid)
        resetPeak(pid)

        const slow = new WebSocket(`${server.url.replace(/^http/, "ws")}/ws`, {
          headers: { authorization: `Bearer ${token}` }
        })
        yield* Effect.addFinalizer(() => Effect.sync(() => slow.terminate()))
        let replies = 0
        slow.on("message", () => {
          replies++
        })
        const closed = new Promise<{ code: number; reason: string }>((done) =>
          slow.on("close", (code, reason) => done({ code, reason: String(reason) }))
        )
        slow.on("error", () => {})
        yield* Effect.promise(() => new Promise((open) => slow.once("open", open)))
        // Stop reading at the TCP level, then ask for far more than any bound, in one frame (the RPC
        // protocol takes a JSON array as a batch), so the server has read every request before the
        // first reply is queued and cannot hold the client off by not reading.
        const tcp = (slow as unknown as { _socket: Socket })._socket
        tcp.pause()
        slow.send(JSON.stringify(Array.from({ length: requests }, (_, i) => snapshotRequest(i + 1))))

        // Until the server says it closed the client, or (without a bound) its memory runs away.
        const warning = `Closed a WebSocket client: ${overflowReason(DEFAULT_SEND_BOUND)}`
        const bound = 200 * MiB
        const closedByServer = yield* Effect.sync(() => server.output().includes(warning)).pipe(
          Effect.repeat({
            until: (seen) => seen || memoryOf(pid).peak - before.rss > bound,
            schedule: Schedule.spaced("20 millis")
          }),
          Effect.timeout("40 seconds")
        )
        const growth = memoryOf(pid).peak - before.rss
        assert.isBelow(growth, bound, `server peak RSS grew by ${Math.round(growth / MiB)} MiB`)
        assert.isTrue(closedByServer)

        // Reading again, the client finds its connection closed, with far fewer replies than asked.
        tcp.resume()
        const { code } = yield* Effect.promise(() => closed).pipe(Effect.timeout("20 seconds"))
        assert.include([1006, 1008], code)
        assert.isBelow(replies, requests / 4)

        // Everyone else is served as before.
        assert.strictEqual((yield* getJson(`${server.url}/health`)).body.status, "ready")
        assert.strictEqual((yield* client["orchestration.getSnapshot"]()).projects.length, 4)
      }),
    60_000
  )
})
