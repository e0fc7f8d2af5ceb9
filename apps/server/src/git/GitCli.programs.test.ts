import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { commitFile, git, gitRepo, tempDir } from "../testing/fixtures.ts"
import { gitServices } from "../testing/git.ts"
import {
  markersIn,
  PLANTED_ATTRIBUTES,
  plantDrivers,
  plantFakeGitDir,
  plantHooksPath,
  plantScript,
  touch
} from "../testing/planted.ts"
import { neutralizers, parseConfigList } from "./repoPrograms.ts"

/** Runs `f`, whose failure does not matter (a planted program may make git fail after it ran). */
const attempt = (f: () => unknown) => {
  try {
    f()
  } catch {}
}

const setup = Effect.gen(function* () {
  const repo = yield* gitRepo
  const dir = yield* tempDir()
  const markers = join(dir, "markers")
  mkdirSync(markers)
  const services = yield* gitServices(join(dir, "home"))
  return { repo, dir, markers, ...services }
})

describe("GitCli runs no program a repository configures", () => {
  it.live("no filter driver, diff driver, external diff or fsmonitor: on checkout, status and diff", () =>
    Effect.gen(function* () {
      const { repo, markers, git: cli, worktrees } = yield* setup
      commitFile(repo, ".gitattributes", PLANTED_ATTRIBUTES)
      commitFile(repo, "a.txt", "committed\n")
      plantDrivers(repo, markers)

      // A checkout (worktree add), then the reads a person's look at a thread makes.
      const created = yield* worktrees.create({ repo, projectKey: "p" })
      const wt = created.worktreePath
      appendFileSync(join(wt, "a.txt"), "changed\n")
      writeFileSync(join(wt, "b.txt"), "new\n")
      const options = { cwd: wt, worktreeOf: repo }
      yield* cli.runOk(["status", "--porcelain=v2"], options)
      const patch = yield* cli.runOk(["diff", "HEAD"], options)
      yield* cli.runOk(["diff", "--numstat", "HEAD"], options)
      yield* cli.run(["diff", "--no-index", "--", "/dev/null", "b.txt"], options)
      yield* cli.runOk(["log", "-p", "-1"], options)
      yield* cli.runOk(["checkout", "--", "a.txt"], options)
      yield* cli.runOk(["archive", "--format=tar", "-o", join(wt, "..", "out.tar"), "HEAD"], options)

      assert.deepStrictEqual(markersIn(markers), [])
      // The diff is git's own, of the real content (no textconv in between).
      assert.include(patch, "+changed")
      // Planted the same way, git itself runs them all: the markers are not a test artefact.
      appendFileSync(join(wt, "a.txt"), "again\n")
      attempt(() => git(wt, "diff", "HEAD"))
      attempt(() => git(wt, "checkout", "--", "a.txt"))
      assert.includeMembers(markersIn(markers), ["filter-process", "fsmonitor"])
    })
  )

  it.live("no diff textconv or external diff, in a diff, a log -p and a diff of a new file", () =>
    Effect.gen(function* () {
      const { repo, markers, git: cli } = yield* setup
      commitFile(repo, ".gitattributes", "*.txt diff=planted\n")
      commitFile(repo, "a.txt", "committed\n")
      git(repo, "config", "diff.planted.textconv", `${touch(markers, "textconv")}; cat`)
      git(repo, "config", "diff.planted.command", `${touch(markers, "diff-command")}; true`)
      appendFileSync(join(repo, "a.txt"), "changed\n")
      writeFileSync(join(repo, "b.txt"), "new\n")
      const patch = yield* cli.runOk(["diff", "HEAD"], { cwd: repo })
      yield* cli.runOk(["log", "-p", "-2"], { cwd: repo })
      yield* cli.run(["diff", "--no-index", "--", "/dev/null", "b.txt"], { cwd: repo })
      assert.deepStrictEqual(markersIn(markers), [])
      assert.include(patch, "+changed")
      // git itself runs them.
      git(repo, "diff", "HEAD")
      git(repo, "diff", "--no-ext-diff", "HEAD")
      assert.deepStrictEqual(markersIn(markers), ["diff-command", "textconv"])
    })
  )

  it.live("no hook: not core.hooksPath's, not .git/hooks'; a project that turns hooks on runs its own", () =>
    Effect.gen(function* () {
      const { repo, dir, markers, git: cli, worktrees } = yield* setup
      plantHooksPath(repo, join(dir, "hooks"), markers)
      yield* worktrees.create({ repo, projectKey: "p" })
      git(repo, "config", "--unset", "core.hooksPath")
      plantScript(join(repo, ".git", "hooks", "post-checkout"), markers, "git-hooks-post-checkout")
      const created = yield* worktrees.create({ repo, projectKey: "p" })
      yield* cli.runOk(["checkout", "--quiet", "--detach", "HEAD"], { cwd: created.worktreePath })
      assert.deepStrictEqual(markersIn(markers), [])

      // A project with hooks on: its new worktree is checked out (never a pool slot) with them.
      const plan = yield* worktrees.plan({ repo, projectKey: "p", gitHooks: true })
      let claimed = false
      const claimSlot = Effect.sync(() => {
        claimed = true
        return undefined
      })
      yield* worktrees.createPlanned({ ...plan, claimSlot })
      assert.deepStrictEqual(markersIn(markers), ["git-hooks-post-checkout"])
      assert.isFalse(claimed)
    })
  )

  it.live(
    "keeps git's work tree in the checkout: a planted core.worktree does not move a reset elsewhere",
    () =>
      Effect.gen(function* () {
        const { repo, dir, git: cli, worktrees } = yield* setup
        const wt = (yield* worktrees.create({ repo, projectKey: "p" })).worktreePath
        const victim = join(dir, "victim")
        mkdirSync(victim)
        writeFileSync(join(victim, "README.md"), "the user's file\n")
        git(wt, "config", "extensions.worktreeConfig", "true")
        git(wt, "config", "--worktree", "core.worktree", victim)
        yield* cli.runOk(["reset", "--hard", "--quiet"], { cwd: wt, worktreeOf: repo })
        assert.strictEqual(readFileSync(join(victim, "README.md"), "utf8"), "the user's file\n")
        // Plain git writes there.
        git(wt, "reset", "--hard", "--quiet")
        assert.strictEqual(readFileSync(join(victim, "README.md"), "utf8"), "# test repository\n")
      })
  )

  it.live("refuses a worktree whose .git points at a git dir its agent made, before git runs", () =>
    Effect.gen(function* () {
      const { repo, markers, git: cli, worktrees } = yield* setup
      const created = yield* worktrees.create({ repo, projectKey: "p" })
      const wt = created.worktreePath
      // Its own link passes.
      yield* cli.runOk(["status"], { cwd: wt, worktreeOf: repo })

      plantFakeGitDir(wt, markers)
      const refused = yield* Effect.flip(cli.runOk(["status"], { cwd: wt, worktreeOf: repo }))
      assert.strictEqual(refused.reason, "foreign-gitdir")
      assert.include(refused.message, join(wt, ".fake", ".git"))
      assert.include(refused.message, "worktree repair")
      // Even where no caller asked for the check, the fake dir's fsmonitor does not run.
      yield* cli.run(["status"], { cwd: wt })
      assert.deepStrictEqual(markersIn(markers), [])
      git(wt, "status")
      assert.deepStrictEqual(markersIn(markers), ["fake-fsmonitor"])
    })
  )

  it.live("refuses a worktree whose admin folder's commondir, or .git, leads elsewhere", () =>
    Effect.gen(function* () {
      const { repo, dir, git: cli, worktrees } = yield* setup
      const first = (yield* worktrees.create({ repo, projectKey: "p" })).worktreePath
      const second = (yield* worktrees.create({ repo, projectKey: "p" })).worktreePath
      const admin = git(first, "rev-parse", "--absolute-git-dir").trim()
      const other = join(dir, "other")
      git(dir, "init", "--quiet", other)
      writeFileSync(join(admin, "commondir"), `${join(other, ".git")}\n`)
      const viaCommondir = yield* Effect.flip(cli.run(["status"], { cwd: first, worktreeOf: repo }))
      assert.strictEqual(viaCommondir.reason, "foreign-gitdir")
      // Another worktree's admin folder: not this worktree's git dir.
      writeFileSync(join(second, ".git"), `gitdir: ${admin}\n`)
      const borrowed = yield* Effect.flip(cli.run(["status"], { cwd: second, worktreeOf: repo }))
      assert.strictEqual(borrowed.reason, "foreign-gitdir")
      // The main checkout is its repository's own.
      yield* cli.runOk(["status"], { cwd: repo, worktreeOf: repo })
    })
  )
})

describe("neutralizers", () => {
  const entries = (text: string) => parseConfigList(text.replaceAll("|", "\0"))

  it("clears planted transport programs and keeps the user's own", () => {
    const settings = neutralizers(
      entries(
        [
          "global|credential.helper\nstore",
          "global|core.sshcommand\nssh -i ~/.ssh/work",
          "local|credential.https://example.com.helper\n!touch /tmp/x",
          "local|core.sshcommand\ntouch /tmp/y",
          "local|remote.origin.uploadpack\ntouch /tmp/z; git-upload-pack",
          "local|submodule.lib.update\n!touch /tmp/w",
          "worktree|core.alternaterefscommand\ntouch /tmp/v",
          ""
        ].join("|")
      )
    )
    assert.deepStrictEqual(settings, [
      ["submodule.lib.update", "checkout"],
      ["core.sshcommand", "ssh -i ~/.ssh/work"],
      ["remote.origin.uploadpack", "git-upload-pack"],
      ["core.alternaterefscommand", ""],
      ["credential.helper", ""],
      ["credential.helper", "store"]
    ])
  })

  it("leaves a config without programs alone", () => {
    assert.deepStrictEqual(
      neutralizers(entries("global|user.name\nme|local|core.bare\nfalse|global|credential.helper\nstore|")),
      []
    )
  })
})
