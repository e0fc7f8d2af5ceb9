// Deterministic generated repositories for the git benchmarks: `files` files in nested
// folders, contents derived from their index, one commit on main.
import { execFileSync } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"

const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: "Spindle Bench",
  GIT_AUTHOR_EMAIL: "bench@spindle.invalid",
  GIT_COMMITTER_NAME: "Spindle Bench",
  GIT_COMMITTER_EMAIL: "bench@spindle.invalid",
  GIT_AUTHOR_DATE: "2026-01-01T00:00:00Z",
  GIT_COMMITTER_DATE: "2026-01-01T00:00:00Z"
}

export const git = (cwd: string, ...args: Array<string>) =>
  execFileSync("git", args, {
    cwd,
    env: gitEnv,
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: 64 * 1024 * 1024
  }).toString()

export const generateRepo = (dir: string, files: number) => {
  mkdirSync(dir, { recursive: true })
  git(dir, "init", "--quiet", "--initial-branch=main")
  for (let i = 0; i < files; i++) {
    const folder = join(dir, `pkg${i % 50}`, `mod${Math.floor(i / 50) % 20}`)
    if (i < 1000) mkdirSync(folder, { recursive: true })
    writeFileSync(join(folder, `file${i}.ts`), `export const value${i} = ${i}\n// ${"x".repeat(i % 200)}\n`)
  }
  git(dir, "add", "-A")
  git(dir, "commit", "--quiet", "-m", `generated ${files} files`)
  return dir
}

/** Removes every linked worktree and every branch but main, so the next round starts the same. */
export const resetWorktrees = (repo: string) => {
  for (const line of git(repo, "worktree", "list", "--porcelain").split("\n")) {
    const path = line.startsWith("worktree ") ? line.slice(9) : undefined
    if (path !== undefined && path !== repo) git(repo, "worktree", "remove", "--force", path)
  }
  git(repo, "worktree", "prune")
  for (const branch of git(repo, "branch", "--format=%(refname:short)").split("\n")) {
    if (branch !== "" && branch !== "main") git(repo, "branch", "-D", branch)
  }
}

export const timed = async <A>(f: () => Promise<A> | A) => {
  const t0 = performance.now()
  const value = await f()
  return { ms: performance.now() - t0, value }
}

/**
 * `rounds` timings of `ours` and of a plain `git worktree add -b`, alternating which goes first,
 * after one warm-up of each; the worktrees are removed between rounds, outside the timings.
 */
/**
 * Empties the kernel's page cache (as root: `sync; echo 3 > /proc/sys/vm/drop_caches`), so the
 * next run reads the repository from disk. False where this machine does not allow it.
 */
export const dropCaches = (): boolean => {
  try {
    execFileSync("sync")
    writeFileSync("/proc/sys/vm/drop_caches", "3\n")
    return true
  } catch {
    return false
  }
}

export const alternate = async (
  repo: string,
  rounds: number,
  ours: (n: number) => Promise<unknown>,
  plain: (n: number) => unknown,
  options: { readonly coldCache?: boolean } = {}
) => {
  const oursMs: Array<number> = []
  const plainMs: Array<number> = []
  await ours(0)
  plain(0)
  resetWorktrees(repo)
  // With a cold cache, each timed run starts with the page cache emptied (not timed).
  const before = () => (options.coldCache === true ? dropCaches() : true)
  for (let round = 1; round <= rounds; round++) {
    const a = async () => {
      before()
      oursMs.push((await timed(() => ours(round))).ms)
    }
    const b = async () => {
      before()
      plainMs.push((await timed(() => plain(round))).ms)
    }
    if (round % 2 === 0) {
      await a()
      await b()
    } else {
      await b()
      await a()
    }
    resetWorktrees(repo)
  }
  return { oursMs, plainMs }
}

/** The baseline: a plain `git worktree add -b plain/<n> <dir>/plain/<n> main` (`config`: `-c` settings first). */
export const plainWorktreeAdd = (repo: string, dir: string, n: number, config: Array<string> = []) =>
  git(
    repo,
    ...config,
    "worktree",
    "add",
    "--quiet",
    "--no-track",
    "-b",
    `plain/${n}`,
    join(dir, "plain", `${n}`),
    "main"
  )
