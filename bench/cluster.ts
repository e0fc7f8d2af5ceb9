// Scenario "cluster": Spindle on a Postgres store, in a throwaway cluster with Postgres's default
// (durable) settings. Engine throughput against bare Postgres inserts (one transaction each, the
// same driver) in the same run, one at a time and with 64 in flight; and cross-host event
// delivery: two engines on one store (two hosts' engines, each with its own connections and
// LISTEN, in one process), an event appended by one until the other's subscriber has it; and a
// start routed to another host against the same start sent to that host (two `spindle serve`).

import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Command } from "@spindle/contracts"
import { summarize } from "@spindle/shared/stats"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as References from "effect/References"
import * as Stream from "effect/Stream"
import * as SqlClient from "effect/sql/SqlClient"
import { makeClient } from "../apps/server/src/cli/rpcClient.ts"
import { Engine } from "../apps/server/src/engine/Engine.ts"
import * as Database from "../apps/server/src/persistence/Database.ts"
import * as PgClient from "../apps/server/src/persistence/PgClient.ts"
import { clientOf, startCluster } from "../apps/server/src/testing/cluster.ts"
import { initRepo } from "../apps/server/src/testing/fixtures.ts"
import { startPostgresCluster } from "../apps/server/src/testing/postgresCluster.ts"
import { drive, update } from "./engine.ts"
import { type BenchResult, formatMs, ratio, timeInTurns } from "./report.ts"

const COMMANDS = 2_000
const CONCURRENCY = 64
const DELIVERIES = 500
const actor = { kind: "server" } as const

const create: Command = {
  type: "project.create",
  commandId: "bench-create",
  projectId: "bench",
  workspaceRoot: "/bench"
} as Command

const storeAt = (admin: string, name: string) => {
  const url = new URL(admin)
  url.pathname = `/${name}`
  return { kind: "postgres" as const, url: Redacted.make(url.toString()) }
}

const withSql = <A>(url: string, f: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) =>
  Effect.scoped(
    Effect.gen(function* () {
      const context = yield* Layer.build(PgClient.layer({ url: Redacted.make(url) }))
      return yield* f(Context.get(context, SqlClient.SqlClient))
    })
  )

const baseline = (url: string) =>
  withSql(url, (sql) =>
    Effect.gen(function* () {
      yield* sql`CREATE TABLE t (id BIGSERIAL PRIMARY KEY, a TEXT NOT NULL, b TEXT NOT NULL)`
      const insert = (i: number) =>
        sql.withTransaction(
          sql`INSERT INTO t (a, b) VALUES (${`bench-${i}`}, ${JSON.stringify({ title: `title ${i}` })})`
        )
      const latencies: Array<number> = []
      const started = performance.now()
      for (let i = 0; i < COMMANDS; i++) {
        const t0 = performance.now()
        yield* insert(i)
        latencies.push(performance.now() - t0)
      }
      const sequentialMs = performance.now() - started
      const concurrentStarted = performance.now()
      yield* Effect.forEach(
        Array.from({ length: COMMANDS }, (_, i) => COMMANDS + i),
        insert,
        { concurrency: CONCURRENCY, discard: true }
      )
      return { latencies, sequentialMs, concurrentMs: performance.now() - concurrentStarted }
    })
  )

const engineOn = (store: ReturnType<typeof storeAt>) =>
  Effect.gen(function* () {
    const context = yield* Layer.build(Engine.layer.pipe(Layer.provideMerge(Database.layer(store))))
    const engine = Context.get(context, Engine)
    yield* engine.ready
    return engine
  })

const engineRun = (store: ReturnType<typeof storeAt>) =>
  Effect.scoped(
    Effect.gen(function* () {
      const engine = yield* engineOn(store)
      yield* engine.dispatch(create, actor)
      return yield* drive(engine, COMMANDS, CONCURRENCY)
    })
  )

/** Host A appends one event at a time; how long until host B's subscriber has it. */
const deliveryRun = (store: ReturnType<typeof storeAt>) =>
  Effect.scoped(
    Effect.gen(function* () {
      const a = yield* engineOn(store)
      const b = yield* engineOn(store)
      yield* a.dispatch(create, actor)
      const arrived = new Map<number, number>()
      const waiting = new Map<number, () => void>()
      yield* Effect.forkScoped(
        Stream.runForEach(b.events(0), (event) =>
          Effect.sync(() => {
            arrived.set(event.sequence, performance.now())
            waiting.get(event.sequence)?.()
          })
        )
      )
      const latencies: Array<number> = []
      for (let i = 0; i < DELIVERIES; i++) {
        const t0 = performance.now()
        const { sequence } = yield* a.dispatch(update(i), actor)
        if (!arrived.has(sequence)) {
          yield* Effect.callback<void>((resume) => {
            waiting.set(sequence, () => resume(Effect.void))
          }).pipe(Effect.timeout("10 seconds"))
        }
        latencies.push((arrived.get(sequence) ?? Number.NaN) - t0)
      }
      return latencies
    })
  )

const STARTS = 30

/**
 * Two real hosts (`spindle serve`, providers off) on one store, a project whose only checkout is
 * on beta: a start sent to beta itself against the same start sent to alpha, which places it on
 * beta and hands it over. Each a new worktree, answered once the turn is requested; in turns.
 */
const routedStarts = async (admin: string) => {
  const dir = mkdtempSync(join(tmpdir(), "spindle-bench-hosts-"))
  try {
    return await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const cluster = yield* startCluster(admin, dir, ["alpha", "beta"], () => ({
            env: { SPINDLE_PROVIDERS: "off" }
          }))
          const [alpha, beta] = cluster.hosts
          if (alpha === undefined || beta === undefined) return yield* Effect.die("two hosts")
          const a = yield* clientOf(alpha)
          const b = yield* makeClient({ url: beta.server.url, token: beta.token() })
          const repo = initRepo(join(dir, "repo"))
          yield* b["orchestration.dispatchCommand"]({
            command: { type: "project.create", commandId: "create", projectId: "bench", workspaceRoot: repo }
          })
          const start = (client: typeof a, id: string) =>
            Effect.runPromise(
              client["orchestration.dispatchCommand"]({
                command: {
                  type: "thread.turn.start",
                  commandId: `start-${id}`,
                  threadId: id,
                  prompt: "bench",
                  bootstrap: { createThread: { projectId: "bench" }, workspace: { mode: "new_worktree" } }
                }
              })
            )
          // One of each first, so neither side pays for warming up.
          yield* Effect.promise(() => start(b, "warm-local"))
          yield* Effect.promise(() => start(a, "warm-routed"))
          return yield* Effect.promise(() =>
            timeInTurns(
              STARTS,
              (i) => start(b, `local-${i}`),
              (i) => start(a, `routed-${i}`)
            )
          )
        })
      )
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export const run = async (): Promise<BenchResult> => {
  const cluster = await startPostgresCluster({ durable: true })
  try {
    const admin = cluster.adminUrl
    await Effect.runPromise(
      withSql(admin, (sql) =>
        Effect.gen(function* () {
          for (const name of ["bench_base", "bench_engine", "bench_delivery"])
            yield* sql.unsafe(`CREATE DATABASE ${name}`)
        })
      )
    )
    const quiet = <A, E>(effect: Effect.Effect<A, E>) =>
      Effect.runPromise(
        effect.pipe(
          Effect.provideService(References.TracerEnabled, false),
          Effect.provideService(References.MinimumLogLevel, "Warn")
        )
      )
    const base = await quiet(baseline(storeAt(admin, "bench_base").url.pipe(Redacted.value)))
    const engine = await quiet(engineRun(storeAt(admin, "bench_engine")))
    const delivery = summarize(await quiet(deliveryRun(storeAt(admin, "bench_delivery"))))
    const [local, routed] = await routedStarts(admin)
    const ours = summarize(engine.latencies)
    const bare = summarize(base.latencies)
    const perSecond = (n: number, ms: number) => Math.round((n / ms) * 1000)
    return {
      name: "cluster",
      lines: [
        `${COMMANDS} commands, Postgres (throwaway cluster, default durable settings), @effect/sql-pg`,
        `engine, one at a time: ${perSecond(COMMANDS, engine.sequentialMs)} cmd/s, p50 ${formatMs(ours.p50)}, p99 ${formatMs(ours.p99)}`,
        `engine, ${CONCURRENCY} in flight:  ${perSecond(COMMANDS, engine.concurrentMs)} cmd/s`,
        `baseline bare INSERT in a transaction, one at a time: ${perSecond(COMMANDS, base.sequentialMs)} tx/s, p50 ${formatMs(bare.p50)}, p99 ${formatMs(bare.p99)}`,
        `baseline, ${CONCURRENCY} in flight: ${perSecond(COMMANDS, base.concurrentMs)} tx/s`,
        `throughput engine/baseline: one at a time ${ratio(base.sequentialMs, engine.sequentialMs)}, ${CONCURRENCY} in flight ${ratio(base.concurrentMs, engine.concurrentMs)} (goal >= 0.5)`,
        `cross-host delivery (append on host A until host B's subscriber has it, ${DELIVERIES} events): p50 ${formatMs(delivery.p50)}, p99 ${formatMs(delivery.p99)} (goal p99 < 50 ms)`,
        `start (new worktree, to turn requested) on beta, ${STARTS} each in turns: sent to beta p50 ${formatMs(local.p50)}, p99 ${formatMs(local.p99)}; sent to alpha and routed to beta p50 ${formatMs(routed.p50)}, p99 ${formatMs(routed.p99)}`,
        `routed/local start: p50 ${ratio(routed.p50, local.p50)}, p99 ${ratio(routed.p99, local.p99)} (goal p50 <= 1.3)`
      ]
    }
  } finally {
    cluster.stop()
  }
}
