// Scenario "pool": the time to a started thread (a full bootstrap through the dispatcher:
// new_worktree, no setup, turn requested) from a warm pool, and with the pool empty, against a plain
// `git worktree add -b` on the same generated 20,000-file repository, in the same run. The pool is
// filled before each timed start (outside the timing), as it is between starts a person makes.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { summarize } from "@spindle/shared/stats"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { WorktreePool } from "../apps/server/src/pool/WorktreePool.ts"
import { cliStarts } from "./cliStart.ts"
import { generateRepo, plainWorktreeAdd, timed } from "./gitRepo.ts"
import { type BenchResult, formatMs, ratio } from "./report.ts"
import { benchWorld } from "./world.ts"

const ROUNDS = 5
const FILES = 20_000

export const run = async (): Promise<BenchResult> => {
  const dir = mkdtempSync(join(tmpdir(), "spindle-bench-pool-"))
  const scope = Effect.runSync(Scope.make())
  try {
    const repo = generateRepo(join(dir, "repo"), FILES)
    const { context, bootstrap } = await benchWorld(dir, repo, scope, { worktreePoolSize: 1 })
    const pool = Context.get(context, WorktreePool)
    let n = 0
    const plain = () => plainWorktreeAdd(repo, dir, ++n)

    const warmMs: Array<number> = []
    const coldMs: Array<number> = []
    const plainMs: Array<number> = []
    // Warm-up; the pool is still empty, so this one checks out.
    await bootstrap()
    plain()
    for (let round = 0; round < ROUNDS; round++) {
      await Effect.runPromise(pool.fill)
      const baseline = async () => plainMs.push((await timed(plain)).ms)
      if (round % 2 === 0) await baseline()
      // The first start takes the one slot; the second finds the pool empty and checks out.
      warmMs.push((await timed(bootstrap)).ms)
      coldMs.push((await timed(bootstrap)).ms)
      if (round % 2 === 1) await baseline()
    }
    const claimed = (await Effect.runPromise(pool.stats)).claimed
    const w = summarize(warmMs)
    const c = summarize(coldMs)
    const p = summarize(plainMs)
    const cliRepo = generateRepo(join(dir, "repo-cli"), FILES)
    const throughCli = await cliStarts(dir, cliRepo, scope, {
      poolSize: 1,
      label: `${FILES} files, warm pool start through the CLI (goal <= 0.10)`,
      cases: [
        { cache: "hot", rounds: 9 },
        { cache: "dropped", rounds: 3 }
      ]
    })
    return {
      name: "pool",
      lines: [
        ...throughCli,
        `${FILES} files: warm pool, time to a started thread p50 ${formatMs(w.p50)}, plain git worktree add -b p50 ${formatMs(p.p50)}, ratio ${ratio(w.p50, p.p50)} (${ROUNDS} rounds, ${claimed} from the pool, goal <= 0.10)`,
        `${FILES} files: no pool, time to a started thread p50 ${formatMs(c.p50)}, ratio ${ratio(c.p50, p.p50)}`
      ]
    }
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    rmSync(dir, { recursive: true, force: true })
  }
}
