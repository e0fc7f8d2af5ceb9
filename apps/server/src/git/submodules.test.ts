// Submodules of a new worktree: the allowed URL (a real repository behind a real git daemon) is
// initialised; URLs an agent's branch adds (a file:// path, a loopback HTTP server, ext::) are
// skipped with a warning, and the loopback server receives nothing.
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { commitFile, git, initRepo, tempDir } from "../testing/fixtures.ts"
import { gitServices } from "../testing/git.ts"
import { gitDaemon, recordingServer } from "../testing/remotes.ts"
import { transportOf } from "./submodules.ts"

/** A repository whose main has one submodule (`vendor/lib`) served by a git daemon. */
const setup = Effect.gen(function* () {
  const remotes = yield* tempDir()
  const lib = initRepo(join(remotes, "lib"))
  commitFile(lib, "lib.txt", "library\n")
  const daemon = yield* gitDaemon(remotes)
  const libUrl = `${daemon}/lib`
  const repo = initRepo(join(yield* tempDir(), "repo"))
  git(repo, "submodule", "add", "--quiet", libUrl, "vendor/lib")
  git(repo, "commit", "--quiet", "-m", "add submodule")
  const home = join(yield* tempDir(), "home")
  const services = yield* gitServices(home)
  return { repo, lib, libUrl, ...services }
})

/** On a new branch `agent`: `.gitmodules` entries (and gitlinks) an agent could commit. */
const agentBranch = (repo: string, lib: string, entries: ReadonlyArray<readonly [string, string]>) => {
  git(repo, "checkout", "--quiet", "-b", "agent")
  const sha = git(lib, "rev-parse", "HEAD").trim()
  let modules = readFileSync(join(repo, ".gitmodules"), "utf8")
  for (const [path, url] of entries) {
    modules += `[submodule "${path}"]\n\tpath = ${path}\n\turl = ${url}\n`
    git(repo, "update-index", "--add", "--cacheinfo", `160000,${sha},${path}`)
  }
  writeFileSync(join(repo, ".gitmodules"), modules)
  git(repo, "add", ".gitmodules")
  git(repo, "commit", "--quiet", "-m", "more submodules")
  git(repo, "checkout", "--quiet", "main")
}

describe("submodules of a new worktree", () => {
  it.live("initialises a submodule whose URL the user allowed, only when asked", () =>
    Effect.gen(function* () {
      const { repo, libUrl, worktrees } = yield* setup
      const plain = yield* worktrees.create({ repo, projectKey: "p", submoduleUrls: [libUrl] })
      assert.isFalse(existsSync(join(plain.worktreePath, "vendor/lib/lib.txt")))
      const created = yield* worktrees.create({
        repo,
        projectKey: "p",
        initSubmodules: true,
        submoduleUrls: [libUrl]
      })
      assert.strictEqual(readFileSync(join(created.worktreePath, "vendor/lib/lib.txt"), "utf8"), "library\n")
      assert.deepStrictEqual(created.warnings, [])
    })
  )

  it.live("skips URLs an agent's branch added (file://, loopback HTTP), which receive nothing", () =>
    Effect.gen(function* () {
      const { repo, lib, libUrl, worktrees } = yield* setup
      const recorder = yield* recordingServer
      agentBranch(repo, lib, [
        ["vendor/local", `file://${lib}`],
        ["vendor/loop", `${recorder.url}/evil.git`]
      ])
      const created = yield* worktrees.create({
        repo,
        projectKey: "p",
        base: "agent",
        initSubmodules: true,
        submoduleUrls: [libUrl]
      })
      assert.deepStrictEqual(recorder.requests, [])
      assert.isFalse(existsSync(join(created.worktreePath, "vendor/local/lib.txt")))
      assert.isFalse(existsSync(join(created.worktreePath, "vendor/loop/lib.txt")))
      // The allowed one still is.
      assert.isTrue(existsSync(join(created.worktreePath, "vendor/lib/lib.txt")))
      assert.strictEqual(created.warnings.length, 2)
      assert.isTrue(
        created.warnings.some((w) => w.includes(`file://${lib}`) && w.includes("--init-submodules on"))
      )
      assert.isTrue(created.warnings.some((w) => w.includes(recorder.url)))
    })
  )

  it.live("fetches the checked URL even when the repository's config names another", () =>
    Effect.gen(function* () {
      const { repo, libUrl, worktrees } = yield* setup
      const recorder = yield* recordingServer
      // What git would otherwise prefer over .gitmodules, written where any worktree can write.
      git(repo, "config", "submodule.vendor/lib.url", `${recorder.url}/lib.git`)
      const created = yield* worktrees.create({
        repo,
        projectKey: "p",
        initSubmodules: true,
        submoduleUrls: [libUrl]
      })
      assert.deepStrictEqual(recorder.requests, [])
      assert.strictEqual(readFileSync(join(created.worktreePath, "vendor/lib/lib.txt"), "utf8"), "library\n")
      assert.deepStrictEqual(created.warnings, [])
    })
  )

  it.live("refuses a recorded URL git would reach through a local path or a remote helper", () =>
    Effect.gen(function* () {
      const { repo, lib, libUrl, worktrees } = yield* setup
      const marker = join(yield* tempDir(), "ran")
      agentBranch(repo, lib, [
        ["vendor/local", lib],
        ["vendor/ext", `ext::sh -c touch% ${marker}`]
      ])
      const created = yield* worktrees.create({
        repo,
        projectKey: "p",
        base: "agent",
        initSubmodules: true,
        // Even were they recorded: git is never asked to use these transports.
        submoduleUrls: [libUrl, lib, `ext::sh -c touch% ${marker}`]
      })
      assert.isFalse(existsSync(marker))
      assert.isFalse(existsSync(join(created.worktreePath, "vendor/local/lib.txt")))
      assert.strictEqual(created.warnings.length, 2)
      assert.isTrue(created.warnings.every((w) => w.includes("refused")))
    })
  )

  it("tells network transports from local paths and helpers", () => {
    for (const url of [
      "https://example.com/a.git",
      "git@example.com:a.git",
      "ssh://h/a",
      "git://h/a",
      "../lib.git"
    ])
      assert.isTrue(transportOf(url).ok, url)
    for (const url of ["/srv/lib", "file:///srv/lib", "ext::sh -c id", "fd::3", "lib/x:y"])
      assert.isFalse(transportOf(url).ok, url)
  })
})
