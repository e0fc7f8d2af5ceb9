// Three real `spindle serve` hosts on one Postgres store, with one cluster secret. A start sent to
// one host for a project whose only checkout is on another runs there; every host's subscribers
// get its events in one order; a follow-up sent to a third host reaches the agent where the thread
// runs (the fake model sees it). Twelve starts against three hosts of two turn slots each run on
// all three, never more than two at once on any, the rest queued and placed as slots free.
import { existsSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { SpindleEvent, Thread } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { clientOf, cloneOf, hostsByName, spindleJson, startCluster } from "../testing/cluster.ts"
import { gitRepo, tempDir } from "../testing/fixtures.ts"
import { CODEX_BIN, codexHome, fakeModel } from "../testing/providers.ts"
import { runSpindle } from "../testing/serverProcess.ts"
import { testPostgres } from "../testing/testStore.ts"

const admin = testPostgres()

/** Every event `host` streams from the start of the log, collected until the scope closes. */
const subscriber = (client: Effect.Success<ReturnType<typeof clientOf>>) =>
  Effect.gen(function* () {
    const seen: Array<SpindleEvent> = []
    yield* Effect.forkScoped(
      client["orchestration.subscribe"]({ fromSequence: 0 }).pipe(
        Stream.runForEach((event) => Effect.sync(() => seen.push(event))),
        Effect.ignore
      )
    )
    return seen
  })

const until = <A, E>(
  what: string,
  check: Effect.Effect<A | undefined, E>,
  timeout: "60 seconds" | "120 seconds" = "60 seconds"
) =>
  check.pipe(
    Effect.flatMap((found) =>
      found === undefined ? Effect.fail(what as E | string) : Effect.succeed(found)
    ),
    Effect.retry(Schedule.spaced("200 millis")),
    Effect.timeout(timeout),
    Effect.orDie
  )

describe.runIf(admin !== undefined)("several hosts on one store", () => {
  it.live(
    "a start on A for a project checked out only on B runs on B; A, B and C see its events in one order; a follow-up sent to C reaches B's agent",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir("spindle-cluster-")
        const model = yield* fakeModel
        const home = yield* codexHome
        const agentArgs = [
          "--providers",
          "on",
          "--codex-bin",
          CODEX_BIN,
          ...model.codexConfig().flatMap((c) => ["--codex-config", c])
        ]
        const cluster = yield* startCluster(admin ?? "", dir, ["alpha", "beta", "gamma"], (name) =>
          name === "beta" ? { args: agentArgs, env: { CODEX_HOME: home } } : {}
        )
        const [a, b, c] = cluster.hosts as [
          (typeof cluster.hosts)[0],
          (typeof cluster.hosts)[0],
          (typeof cluster.hosts)[0]
        ]
        const repo = yield* gitRepo
        // The project is registered on B: its only checkout is there.
        yield* spindleJson(b, [
          "project",
          "add",
          repo,
          "--id",
          "demo",
          "--setup-script",
          "echo setup-ran-on-beta"
        ])
        const hosts = yield* hostsByName(a)
        assert.deepStrictEqual([...hosts.values()].map((h) => [h.name, h.state]).sort(), [
          ["alpha", "online"],
          ["beta", "online"],
          ["gamma", "online"]
        ])
        const beta = hosts.get("beta")!.id
        const clients = yield* Effect.forEach([a, b, c], clientOf)
        const seen = yield* Effect.forEach(clients, subscriber)

        // The CLI talks to A; the thread runs on B, where the checkout is.
        const started = yield* spindleJson<Thread>(a, [
          "thread",
          "start",
          "--project",
          "demo",
          "--prompt",
          "hello from alpha",
          "--thread-id",
          "t1"
        ])
        assert.strictEqual(started.id, "t1")
        const waited = yield* runSpindle(["thread", "wait", "t1", "--timeout", "60"], a.env, "90 seconds")
        assert.strictEqual(waited.code, 0, waited.output)
        const shown = yield* spindleJson<Thread>(a, ["thread", "show", "t1"])
        assert.strictEqual(shown.host, beta)
        assert.strictEqual(shown.latestTurn?.status, "completed")
        assert.isTrue(shown.workspace.worktreePath?.startsWith(b.home), "its worktree is in B's home")

        // A follow-up sent to C is forwarded to B, whose agent gets it.
        const sent = yield* runSpindle(
          ["thread", "send", "t1", "--prompt", "follow-up sent to gamma", "--json"],
          c.env
        )
        assert.strictEqual(sent.code, 0, sent.output)
        const again = yield* runSpindle(["thread", "wait", "t1", "--timeout", "60"], c.env, "90 seconds")
        assert.strictEqual(again.code, 0, again.output)
        const prompts = model.requests.map((r) => JSON.stringify(r))
        assert.isTrue(prompts.some((p) => p.includes("hello from alpha")))
        assert.isTrue(prompts.some((p) => p.includes("follow-up sent to gamma")))
        // Its setup log, asked of alpha, is streamed from beta, where the file is.
        const logs = yield* runSpindle(["thread", "logs", "t1", "--json"], a.env)
        assert.strictEqual(logs.code, 0, logs.output)
        assert.include(logs.stdout, "setup-ran-on-beta")
        // Its diff, asked of gamma, is read on beta (through the same signed call) and answered.
        const diff = yield* spindleJson<{ base: string; mergeBase: string; patch: string }>(c, [
          "thread",
          "diff",
          "t1"
        ])
        assert.strictEqual(diff.base, "main")
        assert.match(diff.mergeBase, /^[0-9a-f]{40}$/)
        const after = yield* spindleJson<Thread>(c, ["thread", "show", "t1"])
        assert.strictEqual(after.latestTurn?.status, "completed")

        // Every host's subscriber saw the same events, in one gapless order.
        const last = (yield* clients[0]!["server.getStatus"]()).sequence
        yield* until(
          "every subscriber caught up",
          Effect.sync(() => (seen.every((s) => (s.at(-1)?.sequence ?? 0) >= last) ? true : undefined))
        )
        const orders = seen.map((s) =>
          s.filter((e) => e.sequence <= last).map((e) => `${e.sequence}:${e.eventId}`)
        )
        assert.strictEqual(orders[0]?.length, last)
        assert.deepStrictEqual(orders[1], orders[0])
        assert.deepStrictEqual(orders[2], orders[0])
        assert.deepStrictEqual(
          orders[0]?.map((o) => Number(o.split(":")[0])),
          Array.from({ length: last }, (_, i) => i + 1)
        )
      }),
    240_000
  )

  it.live(
    "12 starts against 3 hosts of 2 turn slots each: all three run them, never more than 2 at once on one, the rest queued and placed as slots free",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir("spindle-cluster-")
        const releases = join(dir, "releases")
        mkdirSync(releases)
        const cluster = yield* startCluster(admin ?? "", dir, ["alpha", "beta", "gamma"], () => ({
          args: ["--providers", "on", "--max-running-turns", "2"]
        }))
        const [a, b, c] = cluster.hosts as [
          (typeof cluster.hosts)[0],
          (typeof cluster.hosts)[0],
          (typeof cluster.hosts)[0]
        ]
        const repo = yield* gitRepo
        // A command agent whose turn ends once the file its prompt names exists.
        const agent = JSON.stringify([
          "/bin/sh",
          "-c",
          'while [ ! -e "$1" ] && [ -d "$(dirname "$1")" ]; do sleep 0.05; done; echo done',
          "agent",
          "{prompt}"
        ])
        yield* spindleJson(a, [
          "project",
          "add",
          repo,
          "--id",
          "demo",
          "--default-provider",
          "command",
          "--agent-command",
          agent
        ])
        // The same repository cloned for B and C, added as their checkouts from A's CLI.
        for (const host of [b, c]) {
          const clone = cloneOf(repo, join(dir, `clone-${host.name}`))
          yield* spindleJson(a, ["project", "checkout", "add", "demo", clone, "--host", host.name])
        }
        const project = (yield* spindleJson<Array<{ id: string; checkouts: Array<unknown> }>>(a, [
          "project",
          "list"
        ]))[0]
        assert.lengthOf(project?.checkouts ?? [], 3)
        const hosts = yield* hostsByName(a)
        const nameOf = new Map([...hosts.values()].map((h) => [h.id, h.name]))
        const client = yield* clientOf(a)
        const seen = yield* subscriber(client)

        for (let i = 1; i <= 12; i++) {
          yield* client["orchestration.dispatchCommand"]({
            command: {
              type: "thread.turn.start",
              commandId: `start-${i}`,
              threadId: `t${i}`,
              prompt: join(releases, `t${i}`),
              bootstrap: { createThread: { projectId: "demo" }, workspace: { mode: "new_worktree" } }
            }
          })
        }
        const threadsNow = () =>
          Effect.map(client["orchestration.getSnapshot"](), (s) =>
            s.threads.filter((t) => t.id.startsWith("t"))
          )
        // Six turns run, two on each host; six wait in the queue.
        const running = yield* until(
          "six turns running",
          Effect.map(threadsNow(), (all) => {
            const live = all.filter((t) => t.latestTurn?.status === "running")
            return live.length === 6 ? all : undefined
          })
        )
        const byHost = (all: ReadonlyArray<Thread>) => {
          const counts = new Map<string, number>()
          for (const t of all)
            if (t.latestTurn?.status === "running")
              counts.set(
                nameOf.get(t.host ?? "") ?? "?",
                (counts.get(nameOf.get(t.host ?? "") ?? "?") ?? 0) + 1
              )
          return Object.fromEntries([...counts].sort())
        }
        assert.deepStrictEqual(byHost(running), { alpha: 2, beta: 2, gamma: 2 })
        assert.strictEqual(running.filter((t) => t.status === "queued").length, 6)

        // Release the turns one at a time, oldest running first, until all twelve are done.
        for (let released = 0; released < 12; released++) {
          const next = yield* until(
            "a running turn to release",
            Effect.map(threadsNow(), (all) =>
              all.find((t) => t.latestTurn?.status === "running" && !existsSync(join(releases, t.id)))
            )
          )
          writeFileSync(join(releases, next.id), "")
        }
        const done = yield* until(
          "every turn completed",
          Effect.map(threadsNow(), (all) =>
            all.length === 12 && all.every((t) => t.latestTurn?.status === "completed") ? all : undefined
          ),
          "120 seconds"
        )
        // From the log: never more than two turns at once on one host, and all three ran turns.
        const hostOf = new Map(done.map((t) => [t.id as string, nameOf.get(t.host ?? "") ?? "?"]))
        const live = new Map<string, number>()
        const peak = new Map<string, number>()
        for (const event of seen) {
          if (event.type !== "thread.turn-started" && event.type !== "thread.turn-ended") continue
          const host = hostOf.get(event.payload.threadId) ?? "?"
          live.set(host, (live.get(host) ?? 0) + (event.type === "thread.turn-started" ? 1 : -1))
          peak.set(host, Math.max(peak.get(host) ?? 0, live.get(host) ?? 0))
        }
        assert.deepStrictEqual(Object.fromEntries([...peak].sort()), { alpha: 2, beta: 2, gamma: 2 })
        const dequeued = seen.filter((e) => e.type === "thread.dequeued")
        assert.lengthOf(dequeued, 6)
        // Queued starts went to whichever host freed a slot: not all to the one that queued them.
        assert.isAbove(
          new Set(dequeued.map((e) => (e.type === "thread.dequeued" ? e.payload.host : ""))).size,
          1
        )
      }),
    240_000
  )
})
