// Load on the real server for 60 s: 50 WebSocket clients subscribing and dispatching and 10 MCP
// agents starting threads in 3 repositories, plus one peer that stops reading. Reports throughput,
// p50/p99 latency and the server's peak RSS; then every subscriber must have seen every event once
// and in order, and the shared invariants hold.
import { join } from "node:path"
import { describe, it } from "@effect/vitest"
import { summarize } from "@spindle/shared/stats"
import * as Effect from "effect/Effect"
import { tempDir } from "../src/testing/fixtures.ts"
import { checkInvariants } from "./harness/invariants.ts"
import { promise, runScenario } from "./harness/scenario.ts"
import { memoryOf, startSpindle } from "./harness/spindle.ts"
import { adminClient, createProject, seededRepo } from "./harness/world.ts"
import { mcpAgent, Recorder, wsClient } from "./load/clients.ts"
import { stalledPeer } from "./load/stalled.ts"

const SECONDS = 60
const WS_CLIENTS = 50
const MCP_AGENTS = 10
const PROJECTS = ["l1", "l2", "l3"]
/** The most the server may hold at its peak under this load (a guard, far above what it needs). */
const RSS_BOUND_MIB = 1024

const ms = (n: number) => `${n.toFixed(1)} ms`
const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`

describe("reliability: load", () => {
  it.live("50 WebSocket clients and 10 MCP agents for 60 s keep every invariant", () =>
    runScenario("load", "Load", (report) =>
      Effect.gen(function* () {
        const dir = yield* tempDir("spindle-load-")
        const server = yield* startSpindle(join(dir, "home"), {
          args: ["--max-threads-per-project", "100000"]
        })
        const admin = yield* adminClient(server)
        const seeded = PROJECTS.flatMap((id) => {
          const repo = seededRepo(dir, `repo-${id}`)
          return repo.seeded.map((s) => ({ ...s, repo: repo.repo, id }))
        })
        for (const id of PROJECTS) yield* createProject(admin, id, seeded.find((s) => s.id === id)!.repo)
        const idle = memoryOf(server.pid)

        const clients = yield* Effect.forEach(Array.from({ length: WS_CLIENTS }), () => adminClient(server), {
          concurrency: 10
        })
        const recorder = new Recorder()
        const secrets = [server.ownerToken]
        const stalled = yield* promise(() => stalledPeer(server.url, server.ownerToken))
        let peakRss = 0
        const sampler = setInterval(() => {
          peakRss = Math.max(peakRss, memoryOf(server.pid)?.rssKiB ?? 0)
        }, 250)
        yield* Effect.addFinalizer(() => Effect.sync(() => clearInterval(sampler)))
        const startSequence = (yield* admin["server.getStatus"]()).sequence
        const began = Date.now()
        const deadline = began + SECONDS * 1000
        const [trackers, starts] = yield* Effect.all(
          [
            Effect.forEach(clients, (c, i) => wsClient(i, c, PROJECTS[i % 3]!, deadline, recorder), {
              concurrency: "unbounded"
            }),
            Effect.forEach(
              Array.from({ length: MCP_AGENTS }, (_, i) => i),
              (i) => mcpAgent(server.url, i, admin, PROJECTS[i % 3]!, deadline, 8, recorder, secrets),
              { concurrency: "unbounded" }
            )
          ],
          { concurrency: "unbounded" }
        )
        const elapsed = (Date.now() - began) / 1000
        clearInterval(sampler)
        const peer = yield* promise(() => stalled.stop())
        const memory = memoryOf(server.pid)
        const endSequence = (yield* admin["server.getStatus"]()).sequence

        const invariants = yield* checkInvariants({
          home: server.home,
          url: server.url,
          client: admin,
          trackers,
          seeded,
          secrets,
          outputs: { server: server.output() },
          settle: "30 seconds"
        })
        const events = endSequence - startSequence
        const ops = [...recorder.latencies.values()].reduce((n, l) => n + l.length, 0)
        report.check(
          "no request failed",
          recorder.errors().map(([key, n]) => `${n}× ${key}`)
        )
        report.check("invariants (every subscriber saw every event once and in order)", invariants.violations)
        report.check(
          `the server's peak RSS stays under ${RSS_BOUND_MIB} MiB`,
          (memory?.hwmKiB ?? 0) / 1024 < RSS_BOUND_MIB ? [] : [`peak ${mib(memory?.hwmKiB ?? 0)}`]
        )
        report.figure("duration", `${elapsed.toFixed(1)} s`)
        report.figure(
          "clients",
          `${WS_CLIENTS} WebSocket (each subscribed), ${MCP_AGENTS} MCP agents, 3 repositories`
        )
        report.figure("requests answered", ops)
        report.figure("throughput (requests)", `${(ops / elapsed).toFixed(0)} /s`)
        report.figure("events appended", events)
        report.figure("throughput (events)", `${(events / elapsed).toFixed(0)} /s`)
        report.figure(
          "events delivered to subscribers",
          trackers.reduce((n, t) => n + t.seen.length, 0)
        )
        report.figure(
          "subscriber cut-offs (resumed)",
          trackers.reduce((n, t) => n + t.cutOffs, 0)
        )
        report.figure(
          "threads started over MCP",
          starts.reduce((a, b) => a + b, 0)
        )
        report.figure(
          "threads and worktrees at the end",
          `${invariants.threads} threads, ${invariants.worktrees} worktrees`
        )
        report.figure(
          "server RSS idle / peak sampled / peak (VmHWM)",
          `${mib(idle?.rssKiB ?? 0)} / ${mib(peakRss)} / ${mib(memory?.hwmKiB ?? 0)}`
        )
        report.figure(
          "peer that stopped reading",
          `${peer.sent} snapshot requests, ${peer.answered} answered after it read again, ${peer.closed}`
        )
        report.table({
          title: "Latency by request (closed loop: each client waits for its answer)",
          columns: ["request", "count", "p50", "p99", "per second"],
          rows: [...recorder.latencies].map(([op, list]) => {
            const s = summarize(list)
            return [op, s.count, ms(s.p50), ms(s.p99), (s.count / elapsed).toFixed(0)]
          })
        })
      })
    )
  )
})
