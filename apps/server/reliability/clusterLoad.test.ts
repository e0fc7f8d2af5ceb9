// Load on three hosts sharing one Postgres store for 60 s: 60 WebSocket clients, 20 on each host,
// each subscribed to the whole log and sending starts (placed on any host, so many are forwarded
// to another), thread creates and reads in a closed loop. Reports the p50/p99 of a start (placed
// here and routed to another host) and of cross-host event delivery (an event about a thread one
// host owns, from its append until a client of another host has it); then every subscriber must
// have seen every event once and in order, and the shared invariants hold on every host.
import { describe, inject, it } from "@effect/vitest"
import type { SpindleEvent } from "@spindle/contracts"
import { summarize } from "@spindle/shared/stats"
import * as Effect from "effect/Effect"
import type { SpindleClient } from "../src/cli/rpcClient.ts"
import { addCheckouts, type ClusterHost, clientOf, startCluster } from "../src/testing/cluster.ts"
import { tempDir } from "../src/testing/fixtures.ts"
import { checkClusterInvariants } from "./harness/clusterInvariants.ts"
import { runScenario } from "./harness/scenario.ts"
import { follow, newTracker, type Tracker } from "./harness/tracker.ts"
import { dispatch, outcome, seededRepo } from "./harness/world.ts"
import { Recorder } from "./load/clients.ts"

const SECONDS = 60
const CLIENTS_PER_HOST = 20
const NAMES = ["alpha", "beta", "gamma"] as const

const ms = (n: number) => `${n.toFixed(1)} ms`

/** Which host owns each thread, learned from the log as it streams by. */
const ownerOf = (owners: Map<string, string | null>, event: SpindleEvent) => {
  if (event.type === "thread.created" || event.type === "thread.queued")
    owners.set(event.payload.thread.id, event.payload.thread.host)
  if (event.type === "thread.dequeued" && event.payload.host !== undefined)
    owners.set(event.payload.threadId, event.payload.host)
  return "threadId" in event.payload ? owners.get(event.payload.threadId as string) : undefined
}

/** One client of `hostId`: follows every event (timing the other hosts') and works until `deadline`. */
const loadClient = (
  name: string,
  hostId: string,
  client: SpindleClient,
  deadline: number,
  recorder: Recorder,
  delivery: Array<number>,
  starts: Array<{ readonly threadId: string; readonly ms: number; readonly from: string }>
) =>
  Effect.gen(function* () {
    const tracker: Tracker = newTracker(`subscriber ${name}`, (yield* client["server.getStatus"]()).sequence)
    const owners = new Map<string, string | null>()
    yield* follow(tracker, client, (event) => {
      const owner = ownerOf(owners, event)
      if (owner !== undefined && owner !== null && owner !== hostId)
        delivery.push(Date.now() - Date.parse(event.occurredAt))
    })
    const mine: Array<string> = []
    let i = 0
    while (Date.now() < deadline) {
      i++
      const kind = i % 10
      const started = performance.now()
      if (kind < 3) {
        const threadId = `s-${name}-${i}`
        const answer = yield* outcome(
          dispatch(client, {
            type: "thread.turn.start",
            commandId: `start-${threadId}`,
            threadId,
            prompt: `load ${i}`,
            bootstrap: {
              createThread: { projectId: "demo" },
              workspace: { mode: "current_checkout" },
              runSetupScript: false
            }
          })
        )
        const took = performance.now() - started
        recorder.record("start (placed by the host asked)", took, answer)
        if (answer === "ok") starts.push({ threadId, ms: took, from: hostId })
      } else if (kind < 6) {
        const threadId = `c-${name}-${i}`
        const answer = yield* outcome(
          dispatch(client, {
            type: "thread.create",
            commandId: `create-${threadId}`,
            threadId,
            projectId: "demo",
            title: `load ${i}`
          })
        )
        recorder.record("thread.create", performance.now() - started, answer)
        mine.push(threadId)
      } else {
        const threadId = mine.at(-1) ?? starts.at(-1)?.threadId ?? "none"
        const answer = yield* outcome(client["thread.get"]({ threadId: threadId as never }))
        recorder.record("thread.get", performance.now() - started, answer)
      }
    }
    return tracker
  })

describe("reliability: several hosts under load", () => {
  it.live("3 hosts, 60 clients, 60 s: no event lost, every invariant on every host", () =>
    runScenario("cluster-load", "Several hosts: load", (report) =>
      Effect.gen(function* () {
        const dir = yield* tempDir("spindle-cluster-load-")
        const cluster = yield* startCluster(inject("postgresAdminUrl"), dir, NAMES, () => ({
          args: ["--max-threads-per-project", "100000"]
        }))
        const hosts = cluster.hosts as ReadonlyArray<ClusterHost>
        const { repo, seeded } = seededRepo(dir, "repo")
        const admin = yield* clientOf(hosts[0]!)
        yield* dispatch(admin, {
          type: "project.create",
          commandId: "create-demo",
          projectId: "demo",
          workspaceRoot: repo,
          defaultBranch: "main"
        })
        yield* addCheckouts(admin, "demo", repo, dir, hosts.slice(1))
        const ids = new Map((yield* admin["hosts.list"]()).map((h) => [h.name, h.id] as const))
        const clients = yield* Effect.forEach(
          hosts.flatMap((host) => Array.from({ length: CLIENTS_PER_HOST }, (_, i) => ({ host, i }))),
          ({ host, i }) => Effect.map(clientOf(host), (client) => ({ host, i, client })),
          { concurrency: 10 }
        )
        const recorder = new Recorder()
        const delivery: Array<number> = []
        const starts: Array<{ readonly threadId: string; readonly ms: number; readonly from: string }> = []
        const startSequence = (yield* admin["server.getStatus"]()).sequence
        const began = Date.now()
        const deadline = began + SECONDS * 1000
        const trackers = yield* Effect.forEach(
          clients,
          ({ host, i, client }) =>
            loadClient(
              `${host.name}-${i}`,
              ids.get(host.name) ?? "",
              client,
              deadline,
              recorder,
              delivery,
              starts
            ),
          { concurrency: "unbounded" }
        )
        const elapsed = (Date.now() - began) / 1000
        const endSequence = (yield* admin["server.getStatus"]()).sequence
        const queuedAtEnd = (yield* admin["orchestration.getSnapshot"]()).threads.filter(
          (t) => t.status === "queued"
        ).length
        const members = yield* Effect.forEach(hosts, (host) =>
          Effect.map(clientOf(host), (client) => ({
            name: host.name,
            id: ids.get(host.name) ?? "",
            home: host.home,
            client
          }))
        )
        // Starts answer at once when queued, so the load leaves a queue behind: the hosts must
        // place and begin every one of them once it stops.
        const invariants = yield* checkClusterInvariants({ members, trackers, seeded, drainQueue: true })
        report.check(
          "no request failed",
          recorder.errors().map(([key, n]) => `${n}× ${key}`)
        )
        report.check(
          "invariants (every subscriber on every host saw every event once and in order)",
          invariants.violations
        )
        // Where each start ran: on the host asked, or routed to another.
        const snapshot = yield* admin["orchestration.getSnapshot"]()
        const hostOf = new Map(snapshot.threads.map((t) => [t.id as string, t.host]))
        const unplaced = snapshot.threads.filter(
          (t) => starts.some((s) => s.threadId === t.id) && (t.host === null || t.status === "queued")
        )
        report.check(
          "every start was placed on a host and left the queue",
          unplaced.map((t) => `${t.id}: ${t.status}, host ${t.host}, ${JSON.stringify(t.queue)}`)
        )
        const local = starts.filter((s) => hostOf.get(s.threadId) === s.from).map((s) => s.ms)
        const routed = starts.filter((s) => hostOf.get(s.threadId) !== s.from).map((s) => s.ms)
        const placed = new Map<string, number>()
        for (const s of starts) {
          const name = [...ids].find(([, id]) => id === hostOf.get(s.threadId))?.[0] ?? "?"
          placed.set(name, (placed.get(name) ?? 0) + 1)
        }
        report.check(
          "starts ran on every host, and some were routed",
          NAMES.every((n) => (placed.get(n) ?? 0) > 0) && routed.length > 0
            ? []
            : [`placed: ${JSON.stringify(Object.fromEntries(placed))}, routed ${routed.length}`]
        )
        report.check(
          "cross-host events were delivered",
          delivery.length > 0 ? [] : ["no event about another host's thread reached a client"]
        )
        const events = endSequence - startSequence
        report.figure("duration", `${elapsed.toFixed(1)} s`)
        report.figure(
          "clients",
          `${clients.length} WebSocket clients (${CLIENTS_PER_HOST} per host, each subscribed)`
        )
        report.figure("events appended", `${events} (${(events / elapsed).toFixed(0)} /s)`)
        report.figure(
          "events delivered to subscribers",
          trackers.reduce((n, t) => n + t.seen.length, 0)
        )
        report.figure(
          "starts by host",
          [...placed]
            .sort()
            .map(([n, c]) => `${n} ${c}`)
            .join(", ")
        )
        report.figure("threads at the end", invariants.threads)
        report.figure(
          "start queue when the load stopped",
          `${queuedAtEnd} queued; all placed and begun ${(invariants.settledMs / 1000).toFixed(1)} s later`
        )
        const rows = (label: string, list: ReadonlyArray<number>) => {
          const s = summarize([...list])
          return [label, s.count, ms(s.p50), ms(s.p99)]
        }
        report.table({
          title: "Latency (closed loop: each client waits for its answer)",
          columns: ["what", "count", "p50", "p99"],
          rows: [
            rows("start, run on the host asked", local),
            rows("start, routed to another host", routed),
            rows("cross-host delivery (append on one host to a client of another)", delivery),
            ...[...recorder.latencies]
              .filter(([op]) => !op.startsWith("start"))
              .map(([op, list]) => rows(op, list))
          ]
        })
      })
    )
  )
})
