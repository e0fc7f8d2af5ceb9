// Scenario "engine": 5,000 cheap commands through the engine on a durable SQLite file, against
// the same number of bare INSERTs, one node:sqlite transaction each, on the same settings.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import type { Command } from "@spindle/contracts"
import { summarize } from "@spindle/shared/stats"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as References from "effect/References"
import { Engine } from "../apps/server/src/engine/Engine.ts"
import * as Database from "../apps/server/src/persistence/Database.ts"
import { type BenchResult, formatMs, ratio } from "./report.ts"

const COMMANDS = 5_000
const CONCURRENCY = 64

export const update = (i: number): Command =>
  ({
    type: "project.update",
    commandId: `bench-${i}`,
    projectId: "bench",
    title: `title ${i}`
  }) as Command

const engineRun = (file: string) =>
  Effect.scoped(
    Effect.gen(function* () {
      const context = yield* Layer.build(Engine.layer.pipe(Layer.provideMerge(Database.layer(file))))
      const engine = Context.get(context, Engine)
      yield* engine.ready
      const actor = { kind: "server" } as const
      yield* engine.dispatch(
        {
          type: "project.create",
          commandId: "bench-create",
          projectId: "bench",
          workspaceRoot: "/bench"
        } as Command,
        actor
      )
      return yield* drive(engine, COMMANDS, CONCURRENCY)
    })
  )

/**
 * `count` project updates one at a time (each one's latency), then `count` more with
 * `concurrency` in flight: the engine's own figures, whatever its store.
 */
export const drive = (engine: Engine["Service"], count: number, concurrency: number) =>
  Effect.gen(function* () {
    const actor = { kind: "server" } as const
    const latencies: Array<number> = []
    const started = performance.now()
    for (let i = 0; i < count; i++) {
      const t0 = performance.now()
      yield* engine.dispatch(update(i), actor)
      latencies.push(performance.now() - t0)
    }
    const sequentialMs = performance.now() - started
    const concurrentStarted = performance.now()
    yield* Effect.forEach(
      Array.from({ length: count }, (_, i) => count + i),
      (i) => engine.dispatch(update(i), actor),
      { concurrency, discard: true }
    )
    return { latencies, sequentialMs, concurrentMs: performance.now() - concurrentStarted }
  })

const baselineRun = (file: string) => {
  const db = new DatabaseSync(file)
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, a TEXT NOT NULL, b TEXT NOT NULL)")
  const insert = db.prepare("INSERT INTO t (a, b) VALUES (?, ?)")
  const latencies: Array<number> = []
  const started = performance.now()
  for (let i = 0; i < COMMANDS; i++) {
    const t0 = performance.now()
    db.exec("BEGIN IMMEDIATE")
    insert.run(`bench-${i}`, JSON.stringify({ title: `title ${i}` }))
    db.exec("COMMIT")
    latencies.push(performance.now() - t0)
  }
  const totalMs = performance.now() - started
  db.close()
  return { latencies, totalMs }
}

export const run = async (): Promise<BenchResult> => {
  const dir = mkdtempSync(join(tmpdir(), "spindle-bench-engine-"))
  try {
    const baseline = baselineRun(join(dir, "baseline.sqlite"))
    const engine = await Effect.runPromise(
      engineRun(join(dir, "engine.sqlite")).pipe(Effect.provideService(References.TracerEnabled, false))
    )
    const ours = summarize(engine.latencies)
    const base = summarize(baseline.latencies)
    const perSecond = (n: number, ms: number) => Math.round((n / ms) * 1000)
    return {
      name: "engine",
      lines: [
        `${COMMANDS} commands, durable SQLite file (WAL, synchronous=NORMAL)`,
        `engine, one at a time: ${perSecond(COMMANDS, engine.sequentialMs)} cmd/s, p50 ${formatMs(ours.p50)}, p99 ${formatMs(ours.p99)}`,
        `engine, ${CONCURRENCY} in flight:  ${perSecond(COMMANDS, engine.concurrentMs)} cmd/s`,
        `baseline bare INSERT + COMMIT: ${perSecond(COMMANDS, baseline.totalMs)} tx/s, p50 ${formatMs(base.p50)}, p99 ${formatMs(base.p99)}`,
        `ratio engine/baseline: p50 ${ratio(ours.p50, base.p50)}, p99 ${ratio(ours.p99, base.p99)}, throughput ${ratio(baseline.totalMs, engine.sequentialMs)} of baseline`
      ]
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
