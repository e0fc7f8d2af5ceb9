// Several hosts on one Postgres store when one of them fails: three real `spindle serve` hosts, a
// project checked out on each, turns running and a setup under way on host beta. beta is killed
// with -9: alpha lists it offline and its threads host-offline within 10 s, refuses commands to
// them with `unavailable` naming it, and places new work elsewhere; beta restarts and recovers.
// Then beta is stopped (SIGSTOP, as a network partition cuts its heartbeat): its lease lapses, and
// on SIGCONT it stops itself instead of going on beside the others. Every shared invariant holds
// across the three at the end.
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, inject, it } from "@effect/vitest"
import { HOST_OFFLINE_MS, type SpindleError, type Thread } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import {
  addCheckouts,
  type Cluster,
  type ClusterHost,
  clientOf,
  startCluster
} from "../src/testing/cluster.ts"
import { tempDir } from "../src/testing/fixtures.ts"
import { runSpindle } from "../src/testing/serverProcess.ts"
import { checkClusterInvariants } from "./harness/clusterInvariants.ts"
import { promise, runScenario } from "./harness/scenario.ts"
import { attach, newTracker } from "./harness/tracker.ts"
import { dispatch, seededRepo } from "./harness/world.ts"

/** A command agent whose turn ends once the file its prompt names exists. */
const HELD_AGENT = [
  "/bin/sh",
  "-c",
  'while [ ! -e "$1" ] && [ -d "$(dirname "$1")" ]; do sleep 0.05; done; echo done',
  "agent",
  "{prompt}"
]

const hostsOf = (cluster: Cluster) => cluster.hosts as readonly [ClusterHost, ClusterHost, ClusterHost]

/** Polls `check` every 100 ms for at most `ms`; answers the time it took, or undefined. */
const within = (ms: number, check: Effect.Effect<boolean, unknown>) =>
  Effect.gen(function* () {
    const started = Date.now()
    const done = yield* check.pipe(
      Effect.orElseSucceed(() => false),
      Effect.repeat({ until: (ok) => ok, schedule: Schedule.spaced("100 millis") }),
      Effect.timeoutOption(`${ms} millis`)
    )
    return done._tag === "Some" ? Date.now() - started : undefined
  })

describe("reliability: several hosts on one store", () => {
  it.live("kill -9 and SIGSTOP of one of three hosts keep every invariant", () =>
    runScenario("cluster", "Several hosts: a host killed or cut off", (report) =>
      Effect.gen(function* () {
        const dir = yield* tempDir("spindle-cluster-")
        const gate = join(dir, "setup-gate")
        const releases = join(dir, "releases")
        mkdirSync(releases)
        const cluster = yield* startCluster(
          inject("postgresAdminUrl"),
          dir,
          ["alpha", "beta", "gamma"],
          () => ({
            args: ["--providers", "on", "--max-running-turns", "4"]
          })
        )
        const [a, b, c] = hostsOf(cluster)
        const { repo, seeded } = seededRepo(dir, "repo")
        const clientA = yield* clientOf(a)
        yield* dispatch(clientA, {
          type: "project.create",
          commandId: "create-demo",
          projectId: "demo",
          workspaceRoot: repo,
          defaultBranch: "main",
          defaultProvider: "command",
          agentCommand: HELD_AGENT,
          setupScript: `while [ ! -e '${gate}' ] && [ -d '${dir}' ]; do sleep 0.05; done`
        })
        yield* addCheckouts(clientA, "demo", repo, dir, [b, c])
        const ids = new Map((yield* clientA["hosts.list"]()).map((h) => [h.name, h.id] as const))
        const beta = ids.get("beta") ?? ""
        const trackers = [newTracker("subscriber on alpha"), newTracker("subscriber on gamma")]
        yield* attach(trackers[0]!, a.server.url, a.token())
        yield* attach(trackers[1]!, c.server.url, c.token())

        const start = (threadId: string, host: string | undefined, awaitWhat: "workspace" | "turn") =>
          dispatch(
            clientA,
            {
              type: "thread.turn.start",
              commandId: `start-${threadId}`,
              threadId,
              prompt: join(releases, threadId),
              bootstrap: {
                createThread: { projectId: "demo", ...(host === undefined ? {} : { host }) },
                workspace: { mode: "new_worktree" }
              }
            },
            awaitWhat
          )
        const thread = (id: string) => clientA["thread.get"]({ threadId: id as Thread["id"] })

        // A turn running on each host, and on beta a second thread whose setup is under way.
        writeFileSync(gate, "")
        for (const [id, host] of [
          ["ta1", "alpha"],
          ["tb1", "beta"],
          ["tc1", "gamma"]
        ] as const)
          yield* start(id, host, "turn")
        const running = yield* within(
          30_000,
          Effect.map(Effect.forEach(["ta1", "tb1", "tc1"], thread), (all) =>
            all.every((t) => t.latestTurn?.status === "running")
          )
        )
        report.check("a turn runs on each host", running === undefined ? ["not all three turns started"] : [])
        rmSync(gate)
        yield* start("tb2", "beta", "workspace")
        yield* within(
          20_000,
          Effect.map(thread("tb2"), (t) => t.setup.status === "running")
        )

        // kill -9 of beta, mid-turn (tb1) and mid-bootstrap (tb2).
        b.server.terminate("SIGKILL")
        yield* promise(() => b.server.exited)
        const offlineMs = yield* within(
          10_000,
          Effect.map(clientA["hosts.list"](), (hosts) =>
            hosts.some((h) => h.name === "beta" && h.state === "offline")
          )
        )
        report.check(
          "alpha lists beta offline within 10 s of its kill -9",
          offlineMs === undefined ? ["beta still listed online after 10 s"] : []
        )
        report.figure(
          "kill -9 to offline on alpha",
          `${((offlineMs ?? 0) / 1000).toFixed(1)} s (a host is offline ${HOST_OFFLINE_MS / 1000} s after its last heartbeat)`
        )
        const listed = yield* runSpindle(["thread", "list", "--state", "host-offline", "--json"], a.env)
        const offline = (JSON.parse(listed.stdout) as Array<Thread>).map((t) => t.id).sort()
        report.check(
          "beta's threads show host-offline on alpha",
          offline.join(",") === "tb1,tb2" ? [] : [`host-offline lists ${offline.join(",") || "nothing"}`]
        )
        const before = (yield* thread("tb1")).updatedAt
        const refused = yield* dispatch(clientA, {
          type: "thread.turn.start",
          commandId: "follow-up-tb1",
          threadId: "tb1",
          prompt: "more"
        }).pipe(
          Effect.flip,
          Effect.orElseSucceed(() => undefined)
        )
        const error = refused as SpindleError | undefined
        report.check(
          "a command to beta's thread is refused with unavailable, naming beta, and changes nothing",
          [
            ...(error?.reason === "unavailable" ? [] : [`answered ${error?.reason ?? "ok"}`]),
            ...(error?.message.includes("beta") === true ? [] : ["the refusal does not name beta"]),
            ...((yield* thread("tb1")).updatedAt === before ? [] : ["tb1 changed"])
          ]
        )
        // Its worktree is on beta: a diff or merge of its thread is refused too, not read from disk.
        const readWhileDown = yield* Effect.all([
          clientA["thread.diff"]({ threadId: "tb1" as Thread["id"] }).pipe(
            Effect.as("ok"),
            Effect.catch((e) => Effect.succeed((e as SpindleError).reason ?? "error"))
          ),
          clientA["thread.merge"]({ threadId: "tb1" as Thread["id"], dryRun: true }).pipe(
            Effect.as("ok"),
            Effect.catch((e) => Effect.succeed((e as SpindleError).reason ?? "error"))
          )
        ])
        report.check(
          "a diff or merge of beta's thread is refused with unavailable while beta is down",
          readWhileDown.every((r) => r === "unavailable")
            ? []
            : [`diff ${readWhileDown[0]}, merge ${readWhileDown[1]}`]
        )
        // New work goes elsewhere meanwhile.
        writeFileSync(gate, "")
        yield* start("tx1", undefined, "turn")
        const placed = (yield* thread("tx1")).host
        report.check(
          "a start while beta is down is placed on another host",
          placed !== beta && placed !== null ? [] : [`placed on ${placed}`]
        )

        // beta comes back and recovers its threads.
        const restartedAt = Date.now()
        yield* cluster.restart(b)
        report.figure(
          "beta's restart to ready (recovery included)",
          `${((Date.now() - restartedAt) / 1000).toFixed(1)} s`
        )
        const recovered = yield* within(
          30_000,
          Effect.map(Effect.forEach(["tb1", "tb2"], thread), (all) =>
            all.every((t) => t.bootstrap.status !== "running" && t.setup.status !== "running")
          )
        )
        report.check(
          "beta's interrupted bootstrap and turn are settled after its restart",
          recovered === undefined ? ["tb1/tb2 still in flight"] : []
        )

        // A partition: beta's heartbeats stop (SIGSTOP) past the lease; on SIGCONT it stops itself.
        b.server.terminate("SIGSTOP")
        const stoppedOffline = yield* within(
          15_000,
          Effect.map(clientA["hosts.list"](), (hosts) =>
            hosts.some((h) => h.name === "beta" && h.state === "offline")
          )
        )
        const refusedWhileStopped = yield* dispatch(clientA, {
          type: "thread.turn.start",
          commandId: "follow-up-tb1-stopped",
          threadId: "tb1",
          prompt: "more"
        }).pipe(
          Effect.as("ok"),
          Effect.catch((e) => Effect.succeed((e as SpindleError).reason ?? "error"))
        )
        b.server.terminate("SIGCONT")
        const exited = yield* promise(() =>
          Promise.race([b.server.exited, new Promise((r) => setTimeout(() => r("still running"), 20_000))])
        )
        report.check("a stopped beta is listed offline and its threads refuse commands", [
          ...(stoppedOffline === undefined ? ["beta still online 15 s after SIGSTOP"] : []),
          ...(refusedWhileStopped === "unavailable"
            ? []
            : [`a command to tb1 answered ${refusedWhileStopped}`])
        ])
        report.check(
          "on SIGCONT beta finds its lease lapsed and stops itself (exit 1) instead of running beside the others",
          [
            ...(exited === 1 ? [] : [`beta's process: ${String(exited)}`]),
            ...(b.server.output().includes("lease on the store lapsed")
              ? []
              : ["beta did not say its lease lapsed"])
          ]
        )
        yield* cluster.restart(b)

        // Everything finishes: setups pass, turns end.
        for (const t of (yield* clientA["orchestration.getSnapshot"]()).threads)
          writeFileSync(join(releases, t.id), "")
        const members = yield* Effect.forEach([a, b, c], (host) =>
          Effect.map(clientOf(host), (client) => ({
            name: host.name,
            id: ids.get(host.name) ?? "",
            home: host.home,
            client
          }))
        )
        const fresh = newTracker("subscriber on beta after its restarts")
        yield* attach(fresh, b.server.url, b.token())
        const invariants = yield* checkClusterInvariants({ members, trackers: [...trackers, fresh], seeded })
        report.check("invariants across the three hosts", invariants.violations)
        for (const note of invariants.notes) report.figure("note", note)
        report.figure("events", invariants.events)
        report.figure("threads / worktrees at the end", `${invariants.threads} / ${invariants.worktrees}`)
        report.figure(
          "outcome of beta's threads",
          (yield* Effect.forEach(["tb1", "tb2"], thread))
            .map(
              (t) =>
                `${t.id}: bootstrap ${t.bootstrap.status}, setup ${t.setup.status}, turn ${t.latestTurn?.status ?? "none"}`
            )
            .join("; ")
        )
        if (!existsSync(gate)) writeFileSync(gate, "")
      })
    )
  )
})
