// Test fixtures shared across capabilities: scoped temp dirs, real git repositories and an
// engine over a real SQLite file. Not shipped.
import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import type { Actor, CommandId, ProjectId, ThreadId, TurnId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { DEFAULT_LIMITS, databasePath, ServerConfig, type ServerSettings } from "../config/ServerConfig.ts"
import { Engine } from "../engine/Engine.ts"
import * as Database from "../persistence/Database.ts"
import { testPostgres, testStore } from "./testStore.ts"

/** A temporary directory removed when the scope closes. */
export const tempDir = (prefix = "spindle-test-") =>
  Effect.acquireRelease(
    Effect.sync(() => realpathSync(mkdtempSync(join(tmpdir(), prefix)))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

/** A Spindle home (mode 0700) inside a scoped temp dir. */
export const tempHome = Effect.map(tempDir("spindle-home-"), (dir) => {
  const home = join(dir, "home")
  mkdirSync(home, { mode: 0o700 })
  return home
})

/** Runs git synchronously for test set-up, with a fixed identity. */
export const git = (cwd: string, ...args: Array<string>) =>
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

/** Creates a repository at `dir` with one commit on `main`. */
export const initRepo = (dir: string) => {
  mkdirSync(dir, { recursive: true })
  git(dir, "init", "--quiet", "--initial-branch=main")
  writeFileSync(join(dir, "README.md"), "# test repository\n")
  git(dir, "add", "README.md")
  git(dir, "commit", "--quiet", "-m", "initial commit")
  return dir
}

/** Commits a file with the given content on the current branch of `dir`. */
export const commitFile = (dir: string, name: string, content: string) => {
  mkdirSync(dirname(join(dir, name)), { recursive: true })
  writeFileSync(join(dir, name), content)
  git(dir, "add", "--", name)
  git(dir, "commit", "--quiet", "-m", `add ${name}`)
}

/** A real git repository with one commit on `main`, inside a scoped temp dir. */
export const gitRepo = Effect.map(tempDir("spindle-repo-"), (dir) => initRepo(dir))

/**
 * Engine + stores over the database file `filename` (created and migrated as needed), or the
 * Postgres database standing for it when the tests run against Postgres (testStore.ts).
 */
export const engineLayer = (filename: string) =>
  Engine.layer.pipe(Layer.provideMerge(Database.layer(testStore(filename))))

export const serverActor: Actor = { kind: "server" }

export const ids = {
  command: (s: string) => s as CommandId,
  project: (s: string) => s as ProjectId,
  thread: (s: string) => s as ThreadId,
  turn: (s: string) => s as TurnId
}

/** ServerConfig for in-process tests: loopback, ephemeral port, the given home. */
export const testSettings = (home: string): ServerSettings => ({
  host: "127.0.0.1",
  port: 0,
  home,
  ...(testPostgres() === undefined ? {} : { store: testStore(databasePath({ home })) }),
  logLevel: "error",
  logFormat: "json",
  allowedOrigins: [],
  limits: DEFAULT_LIMITS,
  // Turns stay requested unless a test runs an agent on purpose (see testing/providers.ts).
  providers: { enabled: false, codexBin: "codex", codexConfig: [] }
})

export const testConfig = (home: string) => ServerConfig.layer(testSettings(home))
