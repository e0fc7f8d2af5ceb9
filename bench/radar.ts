// Scenario "radar": the conflict radar with 20 live threads of one project, each with 200 changed
// files (uncommitted, neighbouring threads sharing 50 of them), in worktrees of a 4,000-file
// repository. Figures:
// - update latency: from one file written in a worktree to the project.overlap-changed event
//   (an overlap appearing, then disappearing, alternately) and to the thread's footprint holding
//   the new change (a change that makes no event), p50/p99;
// - the same footprint computed by hand with plain git (merge-base, diff --unified=0, ls-files)
//   in the same worktree, the baseline: what one recompute costs at least;
// - idle CPU: the server process's CPU time over a quiet interval as % of one core, against what
//   polling the 20 footprints once a second with that plain git would cost.
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { SpindleEvent, ThreadId } from "@spindle/contracts"
import { summarize } from "@spindle/shared/stats"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { Engine } from "../apps/server/src/engine/Engine.ts"
import { ConflictRadar } from "../apps/server/src/radar/ConflictRadar.ts"
import { generateRepo, timed } from "./gitRepo.ts"
import { type BenchResult, formatMs } from "./report.ts"
import { benchWorld } from "./world.ts"

const FILES = 4_000
const THREADS = 20
const CHANGED = 200
const STRIDE = 150
const ROUNDS = Number(process.env.ROUNDS ?? 20)
const IDLE_MS = Number(process.env.IDLE_MS ?? 10_000)

const fileOf = (i: number) => join(`pkg${i % 50}`, `mod${Math.floor(i / 50) % 20}`, `file${i}.ts`)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits (bounded) until `check` holds, looking every 5 ms. */
const until = async (check: () => Promise<boolean>, timeoutMs = 30_000) => {
  const t0 = performance.now()
  while (!(await check())) {
    if (performance.now() - t0 > timeoutMs) throw new Error("radar bench: timed out waiting")
    await sleep(5)
  }
}

export const run = async (): Promise<BenchResult> => {
  const dir = mkdtempSync(join(tmpdir(), "spindle-bench-radar-"))
  const scope = Effect.runSync(Scope.make())
  try {
    const repo = generateRepo(join(dir, "repo"), FILES)
    const world = await benchWorld(dir, repo, scope)
    const engine = Context.get(world.context, Engine)
    const radar = Context.get(world.context, ConflictRadar)
    const worktrees: Array<string> = []
    for (let t = 0; t < THREADS; t++) {
      const result = (await world.bootstrap()) as { worktreePath: string }
      worktrees.push(result.worktreePath)
    }
    for (let t = 0; t < THREADS; t++) {
      for (let i = t * STRIDE; i < t * STRIDE + CHANGED; i++) {
        writeFileSync(join(worktrees[t]!, fileOf(i % FILES)), `// thread ${t} changed ${i}\n`)
      }
    }
    const ids = worktrees.map((_, t) => `t${t + 1}` as ThreadId)
    await until(async () => {
      const prints = await Effect.runPromise(Effect.forEach(ids, radar.footprint))
      return prints.every((p) => p?.files.size === CHANGED)
    })
    await Effect.runPromise(Effect.flatMap(engine.readModel, (m) => radar.caughtUp(m.sequence)))
    const watched = (await Effect.runPromise(radar.watching)).length

    // Every overlap event, as it is published.
    const seen: Array<{ event: SpindleEvent; at: number }> = []
    const from = (await Effect.runPromise(engine.readModel)).sequence
    const follower = Effect.runFork(
      Stream.runForEach(engine.events(from), (event) =>
        Effect.sync(() => {
          if (event.type === "project.overlap-changed") seen.push({ event, at: performance.now() })
        })
      )
    )

    // An overlap between t1 and t20 (who share no file) appears, then disappears: a new file.
    const first = worktrees[0]!
    const last = worktrees[THREADS - 1]!
    writeFileSync(join(last, "hot.txt"), "from the last thread\n")
    await until(
      async () => (await Effect.runPromise(radar.footprint(ids[THREADS - 1]!)))?.files.has("hot.txt") === true
    )
    const eventMs: Array<number> = []
    for (let round = 0; round < ROUNDS; round++) {
      const before = seen.length
      const t0 = performance.now()
      if (round % 2 === 0) writeFileSync(join(first, "hot.txt"), `round ${round}\n`)
      else rmSync(join(first, "hot.txt"))
      await until(async () => seen.length > before)
      eventMs.push(seen[before]!.at - t0)
      await sleep(50)
    }

    // A change that makes no event: the thread's footprint takes it.
    const footprintMs: Array<number> = []
    const middle = worktrees[10]!
    for (let round = 0; round < ROUNDS; round++) {
      const i = 10 * STRIDE + (round % CHANGED)
      const path = fileOf(i)
      const t0 = performance.now()
      // Line 1 back as it was at the fork point: the change now starts at line 2.
      writeFileSync(join(middle, path), `export const value${i} = ${i}\n// changed again ${round}\n`)
      await until(async () => {
        const ranges = (await Effect.runPromise(radar.footprint(ids[10]!)))?.files.get(path)
        return ranges?.[0]?.start === 2
      })
      footprintMs.push(performance.now() - t0)
      writeFileSync(join(middle, path), `// thread 10 changed ${i}\n`)
      await until(async () => {
        const ranges = (await Effect.runPromise(radar.footprint(ids[10]!)))?.files.get(path)
        return ranges?.[0]?.start === 1
      })
    }

    // The same footprint by hand: plain git in the worktree.
    const plain = (cwd: string) => {
      const fork = execFileSync("git", ["merge-base", "HEAD", "refs/heads/main"], { cwd }).toString().trim()
      execFileSync("git", ["diff", "--unified=0", "--no-renames", fork], { cwd, maxBuffer: 64 << 20 })
      execFileSync("git", ["ls-files", "--others", "--exclude-standard", "-z"], { cwd })
    }
    const plainMs: Array<number> = []
    for (let round = 0; round < ROUNDS; round++) plainMs.push((await timed(() => plain(middle))).ms)

    // Quiet: nothing changes; the whole server core's CPU time over the interval.
    await sleep(500)
    const cpu0 = process.cpuUsage()
    const wall0 = performance.now()
    await sleep(IDLE_MS)
    const cpu = process.cpuUsage(cpu0)
    const idle = ((cpu.user + cpu.system) / 1000 / (performance.now() - wall0)) * 100
    const plainP50 = summarize(plainMs).p50
    const polling = ((plainP50 * THREADS) / 1000) * 100

    await Effect.runPromise(Fiber.interrupt(follower))
    const e = summarize(eventMs)
    const f = summarize(footprintMs)
    const p = summarize(plainMs)
    return {
      name: "radar",
      lines: [
        `${THREADS} live threads x ${CHANGED} changed files, ${FILES}-file repository, ${watched} worktrees watched (${ROUNDS} rounds):`,
        `file write -> project.overlap-changed: p50 ${formatMs(e.p50)}, p99 ${formatMs(e.p99)} (goal < 1 s)`,
        `file write -> footprint updated: p50 ${formatMs(f.p50)}, p99 ${formatMs(f.p99)}`,
        `baseline, the same footprint by hand (merge-base + diff --unified=0 + ls-files): p50 ${formatMs(p.p50)}, p99 ${formatMs(p.p99)}`,
        `idle CPU over ${(IDLE_MS / 1000).toFixed(0)} s: ${idle.toFixed(2)}% of one core (goal < 5%); polling the ${THREADS} footprints once a second by hand would cost ~${polling.toFixed(0)}%`
      ]
    }
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    rmSync(dir, { recursive: true, force: true })
  }
}
