import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { ArchiveResult, ProjectRemoveResult, ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { type BootstrapWorld, bootstrapWorld } from "../testing/bootstrap.ts"
import { commitFile, git, serverActor } from "../testing/fixtures.ts"

const branches = (repo: string) =>
  git(repo, "branch", "--format=%(refname:short)")
    .trim()
    .split("\n")
    .filter((b) => b !== "")

const send = (world: BootstrapWorld, command: Record<string, unknown>) =>
  world.commands.dispatch({ commandId: `c-${Math.random().toString(16).slice(2)}`, ...command }, serverActor)

const archive = (world: BootstrapWorld, threadId: string, force = false) =>
  send(world, { type: "thread.archive", threadId, ...(force ? { force: true } : {}) }) as Effect.Effect<
    ArchiveResult,
    unknown
  >

const started = (world: BootstrapWorld, threadId: string, workspace?: Record<string, unknown>) =>
  world.bootstrap(threadId, { runSetupScript: false, ...(workspace === undefined ? {} : { workspace }) })

const thread = (world: BootstrapWorld, id: string) =>
  Effect.map(world.engine.getThread(id as ThreadId), (t) => t!)

describe("archive", () => {
  it.live("of a clean thread removes its worktree and branch, releases its ports, keeps its events", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld()
      const first = yield* started(world, "t1")
      assert.isNotNull((yield* thread(world, "t1")).ports)
      const result = yield* archive(world, "t1")
      assert.strictEqual(result.status, "archived")
      assert.strictEqual(result.worktree?.outcome, "removed")
      assert.isTrue(result.worktree?.branchDeleted)
      assert.isNull(result.worktreePath)
      assert.isFalse(existsSync(first.worktreePath))
      assert.notInclude(branches(world.repo), first.branch)
      const after = yield* thread(world, "t1")
      assert.isNull(after.ports)
      assert.strictEqual(after.cleanup?.head, git(world.repo, "rev-parse", "main").trim())
      assert.includeMembers(
        [...(yield* world.eventTypes("t1"))],
        ["thread.archived", "thread.worktree-cleaned"]
      )
    })
  )

  it.live("keeps a dirty worktree and says which files; --force discards them and says so", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld()
      const first = yield* started(world, "t1")
      writeFileSync(join(first.worktreePath, "notes.txt"), "half done\n")
      const kept = yield* archive(world, "t1")
      assert.strictEqual(kept.status, "archived")
      assert.strictEqual(kept.worktree?.outcome, "kept")
      assert.match(kept.worktree?.reasons.join(" ") ?? "", /1 uncommitted change\(s\): notes\.txt/)
      assert.isTrue(existsSync(join(first.worktreePath, "notes.txt")))
      assert.include(branches(world.repo), first.branch)
      // Archiving again without force changes nothing and records nothing new.
      const sequence = (yield* world.engine.readModel).sequence
      const again = yield* archive(world, "t1")
      assert.strictEqual(again.worktree?.outcome, "kept")
      assert.strictEqual((yield* world.engine.readModel).sequence, sequence)
      const forced = yield* archive(world, "t1", true)
      assert.strictEqual(forced.worktree?.outcome, "removed")
      assert.deepStrictEqual(forced.worktree?.lost?.files, ["notes.txt"])
      assert.match(forced.worktree?.reasons.join(" ") ?? "", /Discarded 1 uncommitted change/)
      assert.isFalse(existsSync(first.worktreePath))
    })
  )

  it.live(
    "keeps unpushed commits; forced, the worktree goes but the branch stays, and unarchive brings it back",
    () =>
      Effect.gen(function* () {
        const world = yield* bootstrapWorld()
        const first = yield* started(world, "t1")
        commitFile(first.worktreePath, "feature.txt", "new work")
        const kept = yield* archive(world, "t1")
        assert.strictEqual(kept.worktree?.outcome, "kept")
        assert.match(
          kept.worktree?.reasons.join(" ") ?? "",
          /1 commit\(s\) on spindle\/\w+ that are on no other branch/
        )
        // Pushed (here: merged into another branch), it is no longer unpushed work.
        const forced = yield* archive(world, "t1", true)
        assert.strictEqual(forced.worktree?.outcome, "removed")
        assert.isFalse(forced.worktree?.branchDeleted)
        assert.isNull(forced.worktree?.lost ?? null)
        assert.include(branches(world.repo), first.branch)
        const back = (yield* send(world, { type: "thread.unarchive", threadId: "t1" })) as ArchiveResult
        assert.strictEqual(back.status, "active")
        assert.strictEqual(back.worktreePath, first.worktreePath)
        assert.strictEqual(readFileSync(join(first.worktreePath, "feature.txt"), "utf8"), "new work")
        assert.strictEqual(git(first.worktreePath, "branch", "--show-current").trim(), first.branch)
        assert.isNotNull((yield* thread(world, "t1")).ports)
      })
  )

  it.live("removes a worktree whose commits are on another branch, and unarchive re-creates the branch", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld()
      const first = yield* started(world, "t1")
      commitFile(first.worktreePath, "merged.txt", "merged work")
      git(world.repo, "branch", "keep-me", first.branch!)
      const result = yield* archive(world, "t1")
      assert.strictEqual(result.worktree?.outcome, "removed")
      assert.isTrue(result.worktree?.branchDeleted)
      const back = (yield* send(world, { type: "thread.unarchive", threadId: "t1" })) as ArchiveResult
      assert.strictEqual(back.worktreePath, first.worktreePath)
      assert.strictEqual(readFileSync(join(first.worktreePath, "merged.txt"), "utf8"), "merged work")
      assert.include(branches(world.repo), first.branch)
      assert.isNull((yield* thread(world, "t1")).cleanup)
    })
  )

  it.live("unarchive re-creates the branch at its recorded commit, not at a ref named like that commit", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld()
      const first = yield* started(world, "t1")
      commitFile(first.worktreePath, "merged.txt", "merged work")
      const head = git(first.worktreePath, "rev-parse", "HEAD").trim()
      git(world.repo, "branch", "keep-me", first.branch!)
      yield* archive(world, "t1")
      // An agent's ref named like the recorded commit, pointing elsewhere.
      git(world.repo, "update-ref", `refs/heads/${head}`, git(world.repo, "rev-parse", "main").trim())
      yield* send(world, { type: "thread.unarchive", threadId: "t1" })
      assert.strictEqual(git(world.repo, "rev-parse", `refs/heads/${first.branch}`).trim(), head)
      assert.strictEqual(readFileSync(join(first.worktreePath, "merged.txt"), "utf8"), "merged work")
    })
  )

  it.live("never removes a worktree or checkout Spindle did not create", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld()
      const theirs = join(world.repo, "..", `theirs-${Math.random().toString(16).slice(2)}`)
      git(world.repo, "worktree", "add", "--quiet", "-b", "theirs", theirs)
      yield* started(world, "adopted", { mode: "existing_worktree", worktreePath: theirs })
      yield* started(world, "here", { mode: "current_checkout" })
      for (const id of ["adopted", "here"]) {
        const result = yield* archive(world, id, true)
        assert.strictEqual(result.worktree?.outcome, "not-ours")
        assert.match(result.worktree?.reasons[0] ?? "", /not created by Spindle/)
      }
      assert.isTrue(existsSync(join(theirs, "README.md")))
      assert.include(branches(world.repo), "theirs")
      assert.isTrue(existsSync(join(world.repo, "README.md")))
    })
  )
})

describe("delete", () => {
  it.live("archives the thread and hides it from lists; its events stay and its id stays taken", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld()
      const first = yield* started(world, "t1")
      const result = (yield* send(world, { type: "thread.delete", threadId: "t1" })) as ArchiveResult
      assert.isTrue(result.deleted)
      assert.strictEqual(result.worktree?.outcome, "removed")
      assert.isFalse(existsSync(first.worktreePath))
      assert.deepStrictEqual((yield* world.engine.snapshot).threads, [])
      const types = yield* world.eventTypes("t1")
      assert.strictEqual(types[0], "thread.created")
      assert.strictEqual(types.at(-1), "thread.deleted")
      const reused = yield* Effect.flip(
        world.bootstrap("t1", { commandId: "start-t1-again", runSetupScript: false })
      )
      assert.strictEqual(reused.reason, "conflict")
      const unarchive = yield* Effect.flip(send(world, { type: "thread.unarchive", threadId: "t1" }))
      assert.strictEqual(unarchive.reason, "conflict")
    })
  )
})

describe("project.remove", () => {
  it.live("is refused while the project has active threads, unless they are archived first", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld()
      const first = yield* started(world, "t1")
      const refused = yield* Effect.flip(send(world, { type: "project.remove", projectId: "p1" }))
      assert.strictEqual(refused.reason, "conflict")
      assert.include(refused.message, "--archive-threads")
      assert.isDefined(yield* world.engine.getProject("p1" as never))
      const removed = (yield* send(world, {
        type: "project.remove",
        projectId: "p1",
        archiveThreads: true
      })) as ProjectRemoveResult
      assert.deepStrictEqual(
        removed.archived.map((a): ReadonlyArray<string | undefined> => [a.threadId, a.worktree?.outcome]),
        [["t1", "removed"]]
      )
      assert.isUndefined(yield* world.engine.getProject("p1" as never))
      assert.isFalse(existsSync(first.worktreePath))
      // The repository itself is never touched.
      assert.isTrue(existsSync(join(world.repo, "README.md")))
      assert.deepStrictEqual((yield* world.engine.snapshot).threads, [])
    })
  )
})

describe("unarchive", () => {
  it.live("of a thread whose kept worktree is still there makes it active with new ports", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld()
      const first = yield* started(world, "t1")
      mkdirSync(join(first.worktreePath, "wip"))
      writeFileSync(join(first.worktreePath, "wip", "a.txt"), "a\n")
      yield* archive(world, "t1")
      const back = (yield* send(world, { type: "thread.unarchive", threadId: "t1" })) as ArchiveResult
      assert.strictEqual(back.status, "active")
      assert.strictEqual(back.worktreePath, first.worktreePath)
      assert.isTrue(existsSync(join(first.worktreePath, "wip", "a.txt")))
      const now = yield* thread(world, "t1")
      assert.isNotNull(now.ports)
      assert.isNull(now.cleanup)
      const twice = yield* Effect.flip(send(world, { type: "thread.unarchive", threadId: "t1" }))
      assert.strictEqual(twice.reason, "conflict")
    })
  )
})
