// A newcomer's first hour, timed: clone the repository (its committed HEAD), `npm ci`, start the
// server the README's way (its local-model recipe, pointed at the loopback fake model, with its own
// --home and --port), register a repository and follow one thread to a completed turn, exactly
// with the README's commands. Prints each step's time and the total. Loopback only; it stops every
// process it starts and removes its temp dirs. Run: node bench/firstTurn.ts
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { promisify } from "node:util"
import { startFakeModel } from "../apps/server/src/testing/fakeModel.ts"
import { recipeServeArgs, recipeWords } from "../apps/server/src/testing/readmeRecipe.ts"

const execFileAsync = promisify(execFile)
const ROOT = resolve(import.meta.dirname, "..")
const dir = mkdtempSync(join(tmpdir(), "spindle-first-turn-"))
const clone = join(dir, "spindle")
const steps: Array<[string, number]> = []
let server: ChildProcess | undefined
const model = await startFakeModel()

const timed = async <A>(name: string, work: () => A | Promise<A>): Promise<A> => {
  const start = performance.now()
  const result = await work()
  steps.push([name, performance.now() - start])
  process.stderr.write(`${name}: ${((performance.now() - start) / 1000).toFixed(1)} s\n`)
  return result
}
// Asynchronous: the fake model answers from this very process while a command runs.
const run = async (command: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = {}) =>
  (await execFileAsync(command, [...args], { cwd: clone, env: { ...process.env, ...env }, encoding: "utf8" }))
    .stdout

try {
  await timed("git clone", () => execFileSync("git", ["clone", "--quiet", ROOT, clone]))
  await timed("npm ci", () => run("npm", ["ci", "--no-audit", "--no-fund"]))
  const home = join(dir, "home")
  const env = { SPINDLE_HOME: home, CODEX_HOME: join(dir, "codex-home") }
  mkdirSync(env.CODEX_HOME)
  await timed("npm start (the README's local-model recipe) until ready", () => {
    const args = recipeServeArgs(recipeWords(clone), model.url)
    server = spawn("npm", ["start", "--", "--home", home, "--port", "0", ...args], {
      cwd: clone,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    return new Promise<void>((ready, fail) => {
      const seen = (chunk: Buffer) => {
        output += chunk
        if (/ready on http/.test(output)) ready()
      }
      server!.stdout!.on("data", seen)
      server!.stderr!.on("data", seen)
      server!.on("exit", (code) => fail(new Error(`server exited (${code}):\n${output}`)))
    })
  })
  const repo = join(dir, "my-repo")
  mkdirSync(repo)
  writeFileSync(join(repo, "README.md"), "# my repo\n")
  const git = ["-c", "user.name=Newcomer", "-c", "user.email=newcomer@example.com"]
  execFileSync("git", ["init", "-q", "-b", "main", repo])
  execFileSync("git", [...git, "-C", repo, "add", "."])
  execFileSync("git", [...git, "-C", repo, "commit", "-q", "-m", "first"])
  await timed("npx spindle project add", () => run("npx", ["spindle", "project", "add", repo], env))
  const followed = await timed("npx spindle thread start --follow (a completed fake-model turn)", () =>
    run(
      "npx",
      ["spindle", "thread", "start", "--project", "my-repo", "--prompt", "say hello", "--follow"],
      env
    )
  )
  if (!/turn completed/.test(followed)) throw new Error(`the turn did not complete:\n${followed}`)
  const total = steps.reduce((sum, [, ms]) => sum + ms, 0)
  process.stdout.write(
    `\n## first turn, from a clone (fake model, loopback)\n${steps
      .map(([name, ms]) => `  ${name}: ${(ms / 1000).toFixed(1)} s`)
      .join("\n")}\n  total: ${(total / 1000).toFixed(1)} s\n`
  )
} finally {
  server?.kill("SIGTERM")
  if (server !== undefined && server.exitCode === null)
    await new Promise((done) => server!.once("exit", done))
  await model.close()
  rmSync(dir, { recursive: true, force: true })
}
