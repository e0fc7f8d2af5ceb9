// Test wiring for the board: the real server (`npm start`, its own process group, a temp home, a
// chosen or free port on 127.0.0.1), the real `spindle` CLI, real git repositories, and a real
// Chromium (browser.ts says which) driven by playwright-core. Everything started here is stopped
// by `cleanup()`.
import { type ChildProcess, spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { type Browser, chromium, type Page } from "playwright-core"
import { chooseBrowser } from "./browser.ts"

export const REPO_ROOT = resolve(import.meta.dirname, "../../..")
const BIN = join(REPO_ROOT, "apps/server/bin/spindle.mjs")

const cleanups: Array<() => Promise<void> | void> = []

/** Stops every server and browser and removes every temp dir this file made, newest first. */
export const cleanup = async () => {
  while (cleanups.length > 0) await cleanups.pop()!()
}

export const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const git = (cwd: string, ...args: Array<string>) =>
  run("git", ["-c", "user.name=Test", "-c", "user.email=test@example.com", ...args], { cwd })

/** A repository with one commit on `main`. */
export const gitRepo = async () => {
  const dir = tempDir("board-repo-")
  await git(dir, "init", "-q", "-b", "main")
  await run("sh", ["-c", "echo hello > README.md"], { cwd: dir })
  await git(dir, "add", ".")
  await git(dir, "commit", "-q", "-m", "first")
  return dir
}

export interface Ran {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs a command to its end (at most 60 s). */
export const run = (
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly cwd?: string; readonly env?: NodeJS.ProcessEnv } = {}
) =>
  new Promise<Ran>((resolveRun, reject) => {
    const child = spawn(command, [...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c))
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c))
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`${command} ${args.join(" ")} took over 60 s\n${stdout}\n${stderr}`))
    }, 60_000)
    child.on("exit", (code) => {
      clearTimeout(timer)
      resolveRun({ code: code ?? -1, stdout, stderr })
    })
  })

/** `spindle <args>` against the server of `home`. */
export const spindle = (home: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, [BIN, ...args], { env: { SPINDLE_HOME: home, ...env } })

/** `spindle <args>` left running (for a `thread start` that waits for its setup). */
export const spindleInBackground = (home: string, args: ReadonlyArray<string>) => {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, SPINDLE_HOME: home },
    stdio: "ignore"
  })
  cleanups.push(() => {
    child.kill("SIGKILL")
  })
  return child
}

export interface Server {
  readonly url: string
  readonly port: number
  readonly output: () => string
  /** SIGTERM to its process group; resolves once it exited. */
  readonly stop: () => Promise<void>
}

const killGroup = (child: ChildProcess, signal: NodeJS.Signals) => {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal)
  } catch {
    // already gone
  }
}

/** `npm start -- --home <home> --port <port or 0> …`, resolved on its ready line (20 s at most). */
export const startServer = (
  home: string,
  options: {
    readonly port?: number
    readonly args?: ReadonlyArray<string>
    readonly env?: NodeJS.ProcessEnv
  } = {}
) =>
  new Promise<Server>((resolveStart, reject) => {
    const child = spawn(
      "npm",
      [
        "--silent",
        "start",
        "--",
        "--port",
        String(options.port ?? 0),
        "--home",
        home,
        ...(options.args ?? [])
      ],
      {
        cwd: REPO_ROOT,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, ...options.env }
      }
    )
    let output = ""
    child.stdout?.setEncoding("utf8").on("data", (c: string) => (output += c))
    child.stderr?.setEncoding("utf8").on("data", (c: string) => (output += c))
    const exited = new Promise<void>((r) => child.on("exit", () => r()))
    const stop = async () => {
      killGroup(child, "SIGTERM")
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))])
      killGroup(child, "SIGKILL")
    }
    cleanups.push(stop)
    const timer = setTimeout(() => {
      void stop()
      reject(new Error(`server not ready after 20 s:\n${output}`))
    }, 20_000)
    const poll = setInterval(() => {
      const match = /ready on (http:\/\/127\.0\.0\.1:(\d+))/.exec(output)
      if (match !== null) {
        clearInterval(poll)
        clearTimeout(timer)
        resolveStart({ url: match[1]!, port: Number(match[2]), output: () => output, stop })
      }
    }, 25)
    void exited.then(() => {
      clearInterval(poll)
      clearTimeout(timer)
      reject(new Error(`server exited before ready:\n${output}`))
    })
  })

/** The system's Chromium, or the npm package's (browser.ts), headless, kept off the network. */
export const launchBrowser = async (): Promise<Browser> => {
  const choice = await chooseBrowser(REPO_ROOT)
  const browser = await chromium.launch({
    executablePath: choice.executablePath,
    env: { ...process.env, ...choice.env },
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      ...choice.args
    ],
    timeout: 30_000
  })
  cleanups.push(() => browser.close())
  return browser
}

/** A sign-in link from `spindle open`, as the CLI prints it. */
export const signInLink = async (home: string) => {
  const opened = await spindle(home, ["open", "--no-browser", "--json"])
  if (opened.code !== 0) throw new Error(`spindle open failed: ${opened.stderr}`)
  return JSON.parse(opened.stdout) as { url: string; code: string; expiresAt: string; openedWith: null }
}

/** Signs a new page in through `spindle open`'s link and waits for the live board. */
export const signedInPage = async (
  browser: Browser,
  home: string,
  /** Runs in the page before its own script (a stub of a browser API, say). */
  init?: () => void
): Promise<Page> => {
  const page = await browser.newPage({ viewport: { width: 1600, height: 900 } })
  if (init !== undefined) await page.addInitScript(init)
  const link = await signInLink(home)
  await page.goto(link.url)
  await page.getByTestId("connection").and(page.locator('[data-state="live"]')).waitFor({ timeout: 15_000 })
  return page
}

/** The column a thread's card is in, or undefined when it has no card. */
export const cardColumn = (page: Page, threadId: string) =>
  page.evaluate((id) => {
    const card = document.querySelector(`[data-testid="card"][data-thread-id="${id}"]`)
    return card
      ?.closest("section")
      ?.getAttribute("data-testid")
      ?.replace(/^column-/, "")
  }, threadId)

/** Every card's thread and column, and the connection state: what a failed wait reports. */
export const boardState = (page: Page) =>
  page.evaluate(() => ({
    connection: document.querySelector('[data-testid="connection"]')?.textContent,
    cards: Array.from(document.querySelectorAll('[data-testid="card"]')).map(
      (card) =>
        `${card.getAttribute("data-thread-id")}: ${card.closest("section")?.getAttribute("data-testid")} ${card.textContent}`
    )
  }))

/** Waits until the thread's card is in `column` (bounded); on timeout, says where the cards are. */
export const waitForCard = async (page: Page, threadId: string, column: string, timeout = 15_000) => {
  try {
    await page.waitForFunction(
      ([id, col]) =>
        document
          .querySelector(`[data-testid="card"][data-thread-id="${id}"]`)
          ?.closest(`section[data-testid="column-${col}"]`) != null,
      [threadId, column] as const,
      { timeout }
    )
  } catch (error) {
    throw new Error(`${threadId} not in ${column}: ${JSON.stringify(await boardState(page), null, 2)}`, {
      cause: error
    })
  }
}

/**
 * A CODEX_HOME for one test file, outside /tmp (where Codex will not put its helpers, as the
 * provider tests do); the caller removes it.
 */
export const codexHomeDir = () => {
  const root = join(REPO_ROOT, "node_modules", ".cache", "spindle-codex-homes")
  mkdirSync(root, { recursive: true })
  return mkdtempSync(join(root, "board-"))
}

/** `spindle serve` arguments that run the real Codex CLI against `model` (a fake model's overrides). */
export const codexArgs = (model: { readonly codexConfig: () => ReadonlyArray<string> }) => [
  "--providers",
  "on",
  "--codex-bin",
  join(REPO_ROOT, "node_modules", ".bin", "codex"),
  ...model.codexConfig().flatMap((kv) => ["--codex-config", kv])
]

/**
 * Where a test keeps a screenshot of what it checked: artifacts/board/ at the repository's root
 * (ignored by git; CI keeps it), or SPINDLE_BOARD_SCREENSHOTS (`docs` renews the README's pictures).
 */
export const screenshotPath = (name: string) => {
  const dir = process.env.SPINDLE_BOARD_SCREENSHOTS ?? join(REPO_ROOT, "artifacts", "board")
  mkdirSync(dir, { recursive: true })
  return join(dir, name)
}

/** A shell script agent (`#!/bin/sh` and these lines; `$1` is the prompt), executable, in a temp dir. */
export const agentScript = (lines: ReadonlyArray<string>) => {
  const path = join(tempDir("board-agent-"), "agent.sh")
  writeFileSync(path, ["#!/bin/sh", ...lines, ""].join("\n"), { mode: 0o755 })
  return path
}

/** `spindle project add <a new repo> --id <id>` with `agent` as its command agent; answers the repo. */
export const addCommandProject = async (
  home: string,
  id: string,
  agent: string,
  extra: ReadonlyArray<string> = []
) => {
  const repo = await gitRepo()
  const added = await spindle(home, [
    "project",
    "add",
    repo,
    "--id",
    id,
    "--default-provider",
    "command",
    "--agent-command",
    `${agent} {prompt}`,
    ...extra
  ])
  if (added.code !== 0) throw new Error(`spindle project add failed: ${added.stderr}`)
  return repo
}

/** `spindle thread start --project <project> --thread-id <id> --prompt <prompt> …`, which must succeed. */
export const startThread = async (
  home: string,
  project: string,
  threadId: string,
  prompt: string,
  extra: ReadonlyArray<string> = []
) => {
  const started = await spindle(home, [
    "thread",
    "start",
    "--project",
    project,
    "--thread-id",
    threadId,
    "--prompt",
    prompt,
    ...extra
  ])
  if (started.code !== 0) throw new Error(`spindle thread start failed: ${started.stderr}`)
  return started
}
