// Starts measured as a person makes them: `spindle thread start --json` against a running server
// (in this process), minus the command's own fixed cost (`spindle project list --json` in the
// same round: spawn, load, connect, one request), against a plain `git worktree add -b` of the same
// repository in the same run. Each timed run begins with dirty pages written out (`sync`) and, for the dropped-cache
// figures, the page cache emptied (root only), outside the timing.
import { execFileSync, spawn, spawnSync } from "node:child_process"
import { resolve } from "node:path"
import type { ProjectId } from "@spindle/contracts"
import { summarize } from "@spindle/shared/stats"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Scope from "effect/Scope"
import { Commands } from "../apps/server/src/commands/Commands.ts"
import { WorktreePool } from "../apps/server/src/pool/WorktreePool.ts"
import { serverActor } from "../apps/server/src/testing/fixtures.ts"
import { inProcessServer } from "../apps/server/src/testing/inProcessServer.ts"
import { dropCaches, plainWorktreeAdd, timed } from "./gitRepo.ts"
import { formatMs, ratio } from "./report.ts"

const BIN = resolve(import.meta.dirname, "../apps/server/bin/spindle.mjs")

/** `node bin/spindle.mjs args...` to its end (not spawnSync: the server lives in this process). */
const spindle = (args: ReadonlyArray<string>, home: string) =>
  new Promise<string>((done, failed) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, SPINDLE_HOME: home },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString()
    })
    child.stderr.on("data", (chunk: Buffer) => {
      out += chunk.toString()
    })
    child.on("error", failed)
    child.on("exit", (code) =>
      code === 0 ? done(out) : failed(new Error(`spindle ${args.join(" ")}: ${out}`))
    )
  })

const settle = (cache: "hot" | "dropped") => {
  execFileSync("sync")
  if (cache === "dropped") dropCaches()
}

export interface CliStartCase {
  readonly cache: "hot" | "dropped"
  readonly rounds: number
}

/**
 * Per case, the p50 of (thread start - status) and of a plain add, and their ratio. With a pool,
 * it is refilled (and synced) before each timed start, as it is between starts a person makes.
 */
export const cliStarts = async (
  dir: string,
  repo: string,
  scope: Scope.Scope,
  options: { readonly poolSize: number; readonly cases: ReadonlyArray<CliStartCase>; readonly label: string }
) => {
  spawnSync(process.execPath, [BIN, "--version"], { stdio: "ignore" })
  const server = await Effect.runPromise(Scope.provide(inProcessServer(), scope))
  const commands = Context.get(server.context, Commands)
  const pool = Context.get(server.context, WorktreePool)
  await Effect.runPromise(
    commands.dispatch(
      {
        type: "project.create",
        commandId: "bench",
        projectId: "bench" as ProjectId,
        workspaceRoot: repo,
        worktreePoolSize: options.poolSize
      },
      serverActor
    )
  )
  // Numbered apart from the plain adds of the scenario that calls this (same folder).
  let n = 1000
  const start = () =>
    spindle(
      ["thread", "start", "--project", "bench", "--prompt", "benchmark", "--no-setup", "--json"],
      server.home
    )
  const noop = () => spindle(["project", "list", "--json"], server.home)
  const plain = () => plainWorktreeAdd(repo, dir, ++n)
  const prepare = async (cache: "hot" | "dropped") => {
    if (options.poolSize > 0) await Effect.runPromise(pool.fill)
    settle(cache)
  }
  // Warm-up: the bundle's code cache, git's and the server's first calls.
  await prepare("hot")
  await start()
  await noop()
  plain()
  const lines: Array<string> = []
  for (const { cache, rounds } of options.cases) {
    if (cache === "dropped" && !dropCaches()) {
      lines.push(
        `${options.label}, dropped page cache: skipped, this machine does not let the bench drop caches (root only)`
      )
      continue
    }
    const netMs: Array<number> = []
    const noopMs: Array<number> = []
    const plainMs: Array<number> = []
    for (let round = 0; round < rounds; round++) {
      const ours = async () => {
        settle(cache)
        const noopRun = (await timed(noop)).ms
        await prepare(cache)
        const startRun = (await timed(start)).ms
        noopMs.push(noopRun)
        netMs.push(startRun - noopRun)
      }
      const baseline = async () => {
        settle(cache)
        plainMs.push((await timed(plain)).ms)
      }
      if (round % 2 === 0) {
        await ours()
        await baseline()
      } else {
        await baseline()
        await ours()
      }
    }
    const net = summarize(netMs).p50
    const p = summarize(plainMs).p50
    lines.push(
      `${options.label}, ${cache} page cache: spindle thread start minus its no-op (spindle project list, same round) p50 ${formatMs(net)} (no-op p50 ${formatMs(summarize(noopMs).p50)}); plain git worktree add -b p50 ${formatMs(p)}; ratio ${ratio(net, p)} (${rounds} rounds)`
    )
  }
  return lines
}
