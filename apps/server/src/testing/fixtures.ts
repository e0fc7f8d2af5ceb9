// Test fixtures shared across capabilities: scoped temp dirs, real git repositories and an
// engine over a real SQLite file. Not shipped.
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Actor, CommandId, ProjectId, ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Engine } from "../orchestration/Engine.ts"
import * as Database from "../persistence/Database.ts"

/** A temporary directory removed when the scope closes. */
export const tempDir = (prefix = "spindle-test-") =>
  Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), prefix))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

const git = (cwd: string, ...args: Array<string>) =>
  execFileSync("git", args, {
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "Spindle Test",
      GIT_AUTHOR_EMAIL: "test@spindle.invalid",
      GIT_COMMITTER_NAME: "Spindle Test",
      GIT_COMMITTER_EMAIL: "test@spindle.invalid"
    }
  }).toString()

/** A real git repository with one commit on `main`, inside a scoped temp dir. */
export const gitRepo = Effect.gen(function* () {
  const dir = yield* tempDir("spindle-repo-")
  git(dir, "init", "--quiet", "--initial-branch=main")
  writeFileSync(join(dir, "README.md"), "# test repository\n")
  git(dir, "add", "README.md")
  git(dir, "commit", "--quiet", "-m", "initial commit")
  return dir
})

/** Engine + stores over the database file `filename` (created and migrated as needed). */
export const engineLayer = (filename: string) =>
  Engine.layer.pipe(Layer.provideMerge(Database.layer(filename)))

export const serverActor: Actor = { kind: "server" }

export const ids = {
  command: (s: string) => s as CommandId,
  project: (s: string) => s as ProjectId,
  thread: (s: string) => s as ThreadId
}
