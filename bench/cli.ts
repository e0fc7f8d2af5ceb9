// Scenario "cli": how fast the `spindle` command starts, against a bare `node -e 0` on the same Node
// (process.execPath, the one `npm run bench` and the command run on) measured in
// the same run: --help, --version, `thread list --json` (and the table) against a running server
// with 100 threads, and the server's own cold start to ready on an empty home.
import { spawn, spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import type { Command } from "@spindle/contracts"
import { summarize } from "@spindle/shared/stats"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { serverActor } from "../apps/server/src/testing/fixtures.ts"
import { inProcessServer } from "../apps/server/src/testing/inProcessServer.ts"
import { type BenchResult, formatMs, ratio } from "./report.ts"

const BIN = resolve(import.meta.dirname, "../apps/server/bin/spindle.mjs")
const RUNS = 15
const THREADS = 100
const SERVE_RUNS = 9

/** Runs `node args...` to its end; its exit code and stderr. Not spawnSync: the server under test
 * lives in this process and must go on answering meanwhile. */
const runNode = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv) =>
  new Promise<{ code: number | null; stderr: string }>((done, failed) => {
    const child = spawn(process.execPath, [...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "ignore", "pipe"]
    })
    let stderr = ""
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.on("error", failed)
    child.on("exit", (code) => done({ code, stderr }))
  })

/** Wall time of `node args...` run to its end, RUNS times, one after another. */
const timeRuns = async (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = {}) => {
  const latencies: Array<number> = []
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now()
    const run = await runNode(args, env)
    latencies.push(performance.now() - t0)
    if (run.code !== 0) throw new Error(`node ${args.join(" ")} exited ${run.code}: ${run.stderr}`)
  }
  return summarize(latencies)
}

/**
 * Spawn to the "ready on" line of `spindle serve` on a new empty home, then SIGTERM. The first run
 * is not counted: after a build it is the one that writes the bundle's code cache (see
 * bin/bundle.mjs), which every later start of that build uses.
 */
const serverColdStart = async () => {
  const latencies: Array<number> = []
  for (let i = 0; i <= SERVE_RUNS; i++) {
    const home = mkdtempSync(join(tmpdir(), "spindle-bench-home-"))
    const t0 = performance.now()
    const child = spawn(
      process.execPath,
      [BIN, "serve", "--port", "0", "--home", home, "--providers", "off"],
      {
        stdio: ["ignore", "pipe", "pipe"]
      }
    )
    let output = ""
    let ready = false
    await new Promise<void>((done, failed) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString()
        // Once per run: later chunks (the rest of the startup lines, the shutdown) still arrive.
        if (!ready && output.includes("ready on")) {
          ready = true
          if (i > 0) latencies.push(performance.now() - t0)
          done()
        }
      }
      child.stdout.on("data", onData)
      child.stderr.on("data", onData)
      child.on("exit", (code) => failed(new Error(`serve exited ${code}: ${output}`)))
    })
    child.removeAllListeners("exit")
    const exited = new Promise((done) => child.on("exit", done))
    child.kill("SIGTERM")
    await exited
    rmSync(home, { recursive: true, force: true })
  }
  return summarize(latencies)
}

export const run = async (): Promise<BenchResult> => {
  // The first run builds the bundle when the sources changed; it is not what is measured.
  spawnSync(process.execPath, [BIN, "--version"], { stdio: "ignore" })
  const scope = Effect.runSync(Scope.make())
  try {
    const server = await Effect.runPromise(Scope.provide(inProcessServer(), scope))
    const dispatch = (command: Command) => Effect.runPromise(server.engine.dispatch(command, serverActor))
    await dispatch({
      type: "project.create",
      commandId: "bench",
      projectId: "bench",
      workspaceRoot: "/bench"
    } as Command)
    for (let i = 0; i < THREADS; i++) {
      await dispatch({
        type: "thread.create",
        commandId: `bench-${i}`,
        threadId: `bench-${i}`,
        projectId: "bench",
        title: `thread ${i}`
      } as Command)
    }
    const env = { SPINDLE_HOME: server.home }
    const bare = await timeRuns(["-e", "0"])
    const help = await timeRuns([BIN, "--help"])
    const version = await timeRuns([BIN, "--version"])
    const listJson = await timeRuns([BIN, "thread", "list", "--json"], env)
    const listTable = await timeRuns([BIN, "thread", "list"], env)
    const bareAgain = await timeRuns(["-e", "0"])
    const base = Math.min(bare.p50, bareAgain.p50)
    const cold = await serverColdStart()
    const line = (name: string, s: { p50: number; p99: number }, goal?: number) =>
      `${name}: p50 ${formatMs(s.p50)}, p99 ${formatMs(s.p99)} = ${ratio(s.p50, base)} node -e 0${
        goal === undefined ? "" : ` (goal <= ${goal}x)`
      }`
    return {
      name: `cli: ${RUNS} runs each, the command's whole life (spawn to exit)`,
      lines: [
        `node -e 0 (baseline: process.execPath, Node ${process.version}, the Node the command runs on): p50 ${formatMs(bare.p50)} before, ${formatMs(bareAgain.p50)} after`,
        line("spindle --help", help, 3),
        line("spindle --version", version),
        line(`spindle thread list --json (${THREADS} threads)`, listJson, 4),
        line(`spindle thread list (${THREADS} threads, table)`, listTable),
        `spindle serve, spawn to ready on an empty home (${SERVE_RUNS} runs): p50 ${formatMs(cold.p50)}, p99 ${formatMs(cold.p99)} (goal <= 300 ms)`
      ]
    }
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}
