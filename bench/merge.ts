// Scenario "merge": ThreadMerge (every check, the trial merge, the commit and the checkout's files
// moved, the thread.merged event) against the same `git merge` run by hand, on a 20,000-file
// repository whose main is checked out in its own checkout and a thread whose branch changes 50
// files: fast-forward, and a real merge after main moved (50 other files). Each round starts from
// the same main (reset, untimed); the two alternate which goes first.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type Summary, summarize } from "@spindle/shared/stats"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { CleanCheckouts } from "../apps/server/src/children/CleanCheckouts.ts"
import { ThreadMerge } from "../apps/server/src/children/ThreadMerge.ts"
import { Engine } from "../apps/server/src/engine/Engine.ts"
import { ConflictRadar } from "../apps/server/src/radar/ConflictRadar.ts"
import { generateRepo, git, timed } from "./gitRepo.ts"
import { type BenchResult, formatMs, ratio } from "./report.ts"
import { benchWorld } from "./world.ts"

const FILES = 20_000
const CHANGED = 50
const ROUNDS = Number(process.env.ROUNDS ?? 9)
const GOAL = 1.5

/** Rewrites `count` of the generated files from `from` on, and commits them in `cwd`. */
const change = (cwd: string, from: number, count: number, message: string) => {
  for (let i = from; i < from + count; i++) {
    writeFileSync(
      join(cwd, `pkg${i % 50}`, `mod${Math.floor(i / 50) % 20}`, `file${i}.ts`),
      `// ${message} ${i}\n`
    )
  }
  git(cwd, "commit", "--quiet", "-am", message)
  return git(cwd, "rev-parse", "HEAD").trim()
}

export const run = async (): Promise<BenchResult> => {
  const dir = mkdtempSync(join(tmpdir(), "spindle-bench-merge-"))
  const scope = Effect.runSync(Scope.make())
  const lines: Array<string> = []
  try {
    const repo = generateRepo(join(dir, "repo"), FILES)
    const start = git(repo, "rev-parse", "HEAD").trim()
    // main moved since the thread forked: 50 other files, for the merge case.
    const moved = change(repo, 10_000, CHANGED, "main moves")
    git(repo, "reset", "--quiet", "--hard", start)

    const world = await benchWorld(dir, repo, scope)
    const result = await world.bootstrap()
    const worktree = (result as { worktreePath: string }).worktreePath
    const branch = git(worktree, "rev-parse", "--abbrev-ref", "HEAD").trim()
    change(worktree, 0, CHANGED, "the thread's work")
    const merges = Context.get(world.context, ThreadMerge)
    const radar = Context.get(world.context, ConflictRadar)
    const engine = Context.get(world.context, Engine)
    const checkouts = Context.get(world.context, CleanCheckouts)
    const threadId = (result as { threadId: string }).threadId

    for (const { strategy, from, plainArgs } of [
      { strategy: "ff-only", from: start, plainArgs: ["merge", "--quiet", "--ff-only", branch] },
      { strategy: "merge", from: moved, plainArgs: ["merge", "--quiet", "--no-ff", "--no-edit", branch] }
    ] as const) {
      // Untimed: main back where it was, and the radar done with what the last merge asked of it
      // (the threads based on main look again), so neither side is timed against that work.
      const reset = async () => {
        git(repo, "reset", "--quiet", "--hard", from)
        await Effect.runPromise(Effect.flatMap(engine.readModel, (model) => radar.caughtUp(model.sequence)))
      }
      // "quiet": main's checkout has also been looked at again since the reset changed it, as it
      // is when nobody edited it in the last moment (children merged one after another).
      const quiet = async () => {
        await reset()
        await Effect.runPromise(checkouts.settled)
      }
      const ours = () =>
        Effect.runPromise(merges.merge({ threadId: threadId as never, strategy }, { kind: "server" }))
      const plain = () => git(repo, ...plainArgs)
      const series = [
        {
          name: "quiet",
          before: quiet,
          run: async () => {
            await ours()
          },
          ms: [] as Array<number>
        },
        {
          name: "changed",
          before: reset,
          run: async () => {
            await ours()
          },
          ms: [] as Array<number>
        },
        {
          name: "plain",
          before: reset,
          run: async () => {
            plain()
          },
          ms: [] as Array<number>
        }
      ]
      // One warm-up of each, then rounds that rotate which goes first.
      for (const s of series) {
        await s.before()
        await s.run()
      }
      for (let round = 0; round < ROUNDS; round++) {
        for (let i = 0; i < series.length; i++) {
          const s = series[(round + i) % series.length]!
          await s.before()
          s.ms.push((await timed(s.run)).ms)
        }
      }
      await reset()
      const [q, c, p] = series.map((s) => summarize(s.ms)) as [Summary, Summary, Summary]
      lines.push(
        `${FILES} files, ${CHANGED}-file change, ${strategy}: thread merge p50 ${formatMs(q.p50)} into a quiet checkout, ${formatMs(c.p50)} right after it changed; git merge by hand p50 ${formatMs(p.p50)}; ratio ${ratio(q.p50, p.p50)} quiet, ${ratio(c.p50, p.p50)} changed (${ROUNDS} rounds, goal <= ${GOAL})`
      )
    }
    return { name: "merge", lines }
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    rmSync(dir, { recursive: true, force: true })
  }
}
