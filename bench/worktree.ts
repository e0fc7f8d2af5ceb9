// Scenario "worktree": our Worktrees.create (one validation pass, then a checkout with parallel
// workers; no pool, no setup) against a plain `git worktree add -b` on the same generated
// repositories, alternating, in the same run: a 20,000-file one (the cold start) and a 10-file one
// (where the checkout costs nothing, so the ratio is our fixed overhead); the 20,000-file one also
// with the page cache dropped before every run (read from disk), where the machine allows it.
import { mkdtempSync, rmSync } from "node:fs"
import { availableParallelism, tmpdir } from "node:os"
import { join } from "node:path"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { summarize } from "@spindle/shared/stats"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import { ServerConfig } from "../apps/server/src/config/ServerConfig.ts"
import { GitLayer } from "../apps/server/src/git/GitLayer.ts"
import { Worktrees } from "../apps/server/src/git/Worktrees.ts"
import { testSettings } from "../apps/server/src/testing/fixtures.ts"
import { cliStarts } from "./cliStart.ts"
import { alternate, dropCaches, generateRepo, plainWorktreeAdd, resetWorktrees, timed } from "./gitRepo.ts"
import { type BenchResult, formatMs, ratio } from "./report.ts"

const CONCURRENT = 16
/** Files in the generated repository, the rounds to time, and the goal for the ratio of p50s. */
const CASES = [
  { files: 10, rounds: 21, goal: 1.3, what: "fixed overhead" },
  { files: 20_000, rounds: 5, goal: 0.75, what: "cold start" }
] as const

export const run = async (): Promise<BenchResult> => {
  const dir = mkdtempSync(join(tmpdir(), "spindle-bench-worktree-"))
  const lines: Array<string> = []
  const scope = Effect.runSync(Scope.make())
  try {
    const layer = GitLayer.pipe(
      Layer.provide(ServerConfig.layer(testSettings(join(dir, "home")))),
      Layer.provide(NodeServices.layer)
    )
    const context = await Effect.runPromise(Layer.buildWithScope(layer, scope))
    const worktrees = Context.get(context, Worktrees)
    const ours = (repo: string, _n: number) =>
      // As a bootstrap asks: the project's default branch named, a generated spindle/<hex> branch.
      Effect.runPromise(worktrees.create({ repo, projectKey: "bench", base: "main" }))
    const plain = (repo: string, n: number) => plainWorktreeAdd(repo, dir, n)

    for (const { files, rounds, goal, what } of CASES) {
      const repo = generateRepo(join(dir, `repo-${files}`), files)
      const { oursMs, plainMs } = await alternate(
        repo,
        rounds,
        (n) => ours(repo, n),
        (n) => plain(repo, n)
      )
      const o = summarize(oursMs)
      const p = summarize(plainMs)
      lines.push(
        `${files} files (${what}): create p50 ${formatMs(o.p50)}, plain git worktree add -b p50 ${formatMs(p.p50)}, ratio ${ratio(o.p50, p.p50)} (${rounds} rounds, goal <= ${goal})`
      )
      if (files === 20_000) {
        // The same from disk: the page cache emptied before every timed run (root only).
        if (dropCaches()) {
          const cold = await alternate(
            repo,
            3,
            (n) => ours(repo, 400 + n),
            (n) => plain(repo, 400 + n),
            {
              coldCache: true
            }
          )
          const oc = summarize(cold.oursMs)
          const pc = summarize(cold.plainMs)
          lines.push(
            `${files} files (dropped page cache): create p50 ${formatMs(oc.p50)}, plain git worktree add -b p50 ${formatMs(pc.p50)}, ratio ${ratio(oc.p50, pc.p50)} (3 rounds)`
          )
        } else
          lines.push(
            `${files} files (dropped page cache): skipped, this machine does not let the bench drop caches (root only)`
          )
        // What git's parallel checkout alone does here: plain adds with and without workers.
        const workers = String(availableParallelism())
        const parallel = await alternate(
          repo,
          3,
          (n) => Promise.resolve(plainWorktreeAdd(repo, dir, 200 + n, ["-c", `checkout.workers=${workers}`])),
          (n) => plainWorktreeAdd(repo, dir, 300 + n, ["-c", "checkout.workers=1"])
        )
        lines.push(
          `${files} files: plain add with checkout.workers=${workers} p50 ${formatMs(summarize(parallel.oursMs).p50)}, with 1 worker p50 ${formatMs(summarize(parallel.plainMs).p50)}, ratio ${ratio(summarize(parallel.oursMs).p50, summarize(parallel.plainMs).p50)} (3 rounds)`
        )
        const concurrent = await timed(() =>
          Promise.all(Array.from({ length: CONCURRENT }, (_, i) => ours(repo, 100 + i)))
        )
        resetWorktrees(repo)
        const sequential = await timed(() => {
          for (let i = 0; i < CONCURRENT; i++) plain(repo, 100 + i)
        })
        resetWorktrees(repo)
        lines.push(
          `${files} files: ${CONCURRENT} concurrent creates ${formatMs(concurrent.ms)}, ${CONCURRENT} sequential plain adds ${formatMs(sequential.ms)}, ratio ${ratio(concurrent.ms, sequential.ms)}`
        )
      }
    }
    // The same cold start as a person makes it: through the CLI, against a running server.
    const cliRepo = generateRepo(join(dir, "repo-cli"), 20_000)
    lines.push(
      ...(await cliStarts(dir, cliRepo, scope, {
        poolSize: 0,
        label: "20000 files, cold start through the CLI (goal <= 1.05)",
        cases: [
          { cache: "hot", rounds: 9 },
          { cache: "dropped", rounds: 3 }
        ]
      }))
    )
    return { name: "worktree", lines }
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    rmSync(dir, { recursive: true, force: true })
  }
}
