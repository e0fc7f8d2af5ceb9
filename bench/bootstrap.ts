// Scenario "bootstrap": a full bootstrap (new_worktree, no setup script, turn requested) through
// the dispatcher, against a plain `git worktree add -b` on the same generated repository.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { summarize } from "@spindle/shared/stats"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { alternate, generateRepo, plainWorktreeAdd, resetWorktrees, timed } from "./gitRepo.ts"
import { type BenchResult, formatMs, ratio } from "./report.ts"
import { benchWorld } from "./world.ts"

const ROUNDS = 5
const CONCURRENT = 16
const FILES = 20_000

export const run = async (): Promise<BenchResult> => {
  const dir = mkdtempSync(join(tmpdir(), "spindle-bench-bootstrap-"))
  const scope = Effect.runSync(Scope.make())
  try {
    const repo = generateRepo(join(dir, "repo"), FILES)
    const { bootstrap } = await benchWorld(dir, repo, scope)
    const plain = (n: number) => plainWorktreeAdd(repo, dir, n)

    const { oursMs, plainMs } = await alternate(repo, ROUNDS, () => bootstrap(), plain)
    const o = summarize(oursMs)
    const p = summarize(plainMs)
    const concurrent = await timed(() => Promise.all(Array.from({ length: CONCURRENT }, () => bootstrap())))
    resetWorktrees(repo)
    const sequential = await timed(() => {
      for (let i = 0; i < CONCURRENT; i++) plain(100 + i)
    })
    resetWorktrees(repo)
    return {
      name: "bootstrap",
      lines: [
        `${FILES} files: full bootstrap p50 ${formatMs(o.p50)}, plain git worktree add p50 ${formatMs(p.p50)}, ratio ${ratio(o.p50, p.p50)} (${ROUNDS} rounds, goal <= 1.15)`,
        `${FILES} files: ${CONCURRENT} concurrent bootstraps ${formatMs(concurrent.ms)}, ${CONCURRENT} sequential plain adds ${formatMs(sequential.ms)}, ratio ${ratio(concurrent.ms, sequential.ms)}`
      ]
    }
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    rmSync(dir, { recursive: true, force: true })
  }
}
