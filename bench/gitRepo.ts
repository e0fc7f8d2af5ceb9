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
