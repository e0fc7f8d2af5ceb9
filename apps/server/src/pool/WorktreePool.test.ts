import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join, sep } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { CommandId, ProjectId, ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { type BootstrapWorld, bootstrapWorld } from "../testing/bootstrap.ts"
import { commitFile, git, serverActor } from "../testing/fixtures.ts"

const p1 = ProjectId.make("p1")

const pooledWorld = (size: number, options: Parameters<typeof bootstrapWorld>[0] = {}) =>
  bootstrapWorld({ ...options, project: { worktreePoolSize: size, ...options.project } })

const readySlots = (world: BootstrapWorld) =>
  Effect.map(world.pool.slots(p1), (slots) => slots.filter((s) => s.state === "ready"))

const start = (world: BootstrapWorld, threadId: string) =>
  world.bootstrap(threadId, { runSetupScript: false })

const inPool = (path: string) => path.includes(`${sep}.pool${sep}`)

/** `branch.*` settings (upstream and the like); git exits 1 when there are none. */
const branchConfig = (path: string) => {
  try {
    return git(path, "config", "--get-regexp", "^branch\\.").trim()
  } catch {
    return ""
  }
}

/** What makes two worktrees the same to a user: commit, branch setup, status, files on disk. */
const fingerprint = (path: string, branch: string) => {
  const files = (dir: string, prefix = ""): Array<string> =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.name === ".git"
        ? []
        : entry.isDirectory()
          ? files(join(dir, entry.name), `${prefix}${entry.name}/`)
          : [`${prefix}${entry.name}=${readFileSync(join(dir, entry.name), "utf8")}`]
    )
  return {
    head: git(path, "rev-parse", "HEAD").trim(),
    branch: git(path, "rev-parse", "--abbrev-ref", "HEAD").trim() === branch,
    upstream: branchConfig(path),
    status: git(path, "status", "--porcelain=v1", "--untracked-files=all").trim(),
    files: files(path).sort()
  }
}

describe("WorktreePool", () => {
  it.live("fills to the project's size, hands a slot to a bootstrap, and refills", () =>
    Effect.gen(function* () {
      const world = yield* pooledWorld(2)
      yield* world.pool.fill
      const slots = yield* readySlots(world)
      assert.strictEqual(slots.length, 2)
      const main = git(world.repo, "rev-parse", "main").trim()
      for (const slot of slots) {
        assert.strictEqual(slot.sha, main)
        assert.isTrue(inPool(slot.path))
        // (a plain status would rewrite the slot's index, which counts as touching it)
        assert.strictEqual(git(slot.path, "--no-optional-locks", "status", "--porcelain").trim(), "")
      }
      const result = yield* start(world, "t1")
      assert.isFalse(inPool(result.worktreePath))
      // The slot was moved into place, not copied: one of the two folders is gone from the pool.
      assert.strictEqual(slots.filter((s) => existsSync(s.path)).length, 1)
      assert.strictEqual(git(result.worktreePath, "rev-parse", "--abbrev-ref", "HEAD").trim(), result.branch)
      assert.strictEqual(git(result.worktreePath, "rev-parse", "HEAD").trim(), main)
      assert.strictEqual((yield* world.pool.stats).claimed, 1)
      // Nothing touched the slot since its check: its watch vouched for it, no second check.
      assert.strictEqual((yield* world.pool.stats).trusted, 1)
      assert.strictEqual((yield* readySlots(world)).length, 1)
      yield* world.pool.fill
      assert.strictEqual((yield* readySlots(world)).length, 2)
      assert.strictEqual((yield* world.pool.stats).created, 3)
    })
  )

  it.live("gives a slot's branch main's commit though a ref named like that commit points elsewhere", () =>
    Effect.gen(function* () {
      const world = yield* pooledWorld(1)
      yield* world.pool.fill
      const main = git(world.repo, "rev-parse", "main").trim()
      git(world.repo, "checkout", "--quiet", "-b", "agent")
      commitFile(world.repo, "payload.sh", "echo planted\n")
      git(world.repo, "checkout", "--quiet", "main")
      git(world.repo, "update-ref", `refs/heads/${main}`, "refs/heads/agent")
      const result = yield* start(world, "t1")
      assert.strictEqual((yield* world.pool.stats).claimed, 1)
      assert.strictEqual(git(world.repo, "rev-parse", `refs/heads/${result.branch}`).trim(), main)
      assert.strictEqual(git(result.worktreePath, "rev-parse", "HEAD").trim(), main)
      assert.isFalse(existsSync(join(result.worktreePath, "payload.sh")))
    })
  )

  it.live("brings a slot along when the default branch moved, and never hands one out for another base", () =>
    Effect.gen(function* () {
      const world = yield* pooledWorld(1)
      yield* world.pool.fill
      git(world.repo, "checkout", "--quiet", "-b", "side")
      commitFile(world.repo, "side.txt", "another base\n")
      git(world.repo, "checkout", "--quiet", "main")
      commitFile(world.repo, "moved.txt", "after the slot was made\n")
      const main = git(world.repo, "rev-parse", "main").trim()
      const other = yield* world.bootstrap("t0", {
        runSetupScript: false,
        workspace: { baseBranch: "side" }
      })
      assert.isTrue(existsSync(join(other.worktreePath, "side.txt")))
      assert.isFalse(existsSync(join(other.worktreePath, "moved.txt")))
      assert.strictEqual((yield* world.pool.stats).claimed, 0)
      const result = yield* start(world, "t1")
      assert.strictEqual((yield* world.pool.stats).claimed, 1)
      assert.strictEqual((yield* world.pool.stats).refreshed, 1)
      assert.strictEqual(git(result.worktreePath, "rev-parse", "HEAD").trim(), main)
      assert.strictEqual(
        readFileSync(join(result.worktreePath, "moved.txt"), "utf8"),
        "after the slot was made\n"
      )
      assert.strictEqual(git(result.worktreePath, "status", "--porcelain").trim(), "")
    })
  )

  it.live("discards broken slots (changed, gone, new file, staged) and starts the thread the slow way", () =>
    Effect.gen(function* () {
      const world = yield* pooledWorld(4)
      yield* world.pool.fill
      const [dirty, gone, added, staged] = yield* readySlots(world)
      // Each change right before the claim: the watch must see it, or the claim's check must.
      writeFileSync(join(dirty!.path, "README.md"), "changed in the slot\n")
      rmSync(gone!.path, { recursive: true, force: true })
      mkdirSync(join(added!.path, "new", "deep"), { recursive: true })
      writeFileSync(join(added!.path, "new", "deep", "file.txt"), "untracked\n")
      git(staged!.path, "rm", "--quiet", "--cached", "README.md")
      const result = yield* start(world, "t1")
      const stats = yield* world.pool.stats
      assert.strictEqual(stats.claimed, 0)
      assert.strictEqual(stats.trusted, 0)
      assert.strictEqual(stats.discarded, 4)
      assert.isFalse(existsSync(dirty!.path))
      assert.strictEqual(readFileSync(join(result.worktreePath, "README.md"), "utf8"), "# test repository\n")
      assert.strictEqual(git(result.worktreePath, "status", "--porcelain").trim(), "")
      // git forgot both: only the main checkout and the thread's worktree are left.
      assert.strictEqual(git(world.repo, "worktree", "list", "--porcelain").split("\nworktree ").length, 2)
      assert.strictEqual((yield* readySlots(world)).length, 0)
    })
  )

  it.live("never removes a slot a thread is bound to, with the thread's work in it", () =>
    Effect.gen(function* () {
      const world = yield* pooledWorld(1)
      yield* world.pool.fill
      const [slot] = yield* readySlots(world)
      // A thread bound to the slot, as an adoption before the pool was refused could make one.
      yield* world.engine.dispatch(
        {
          type: "thread.bootstrap.begin",
          commandId: CommandId.make("bind-slot"),
          threadId: ThreadId.make("t-adopted"),
          projectId: p1,
          parentThreadId: null,
          title: "adopted a slot",
          tags: [],
          provider: "codex",
          model: null,
          runtimeMode: "full-access",
          interactionMode: "default",
          workspaceMode: "existing_worktree",
          worktreePath: slot!.path,
          runSetupScript: false
        },
        serverActor
      )
      writeFileSync(join(slot!.path, "work.txt"), "the child's work\n")
      // The claim finds the slot dirty, and the pool's next pass looks again: neither removes it.
      const result = yield* start(world, "t1")
      yield* world.pool.fill
      assert.notStrictEqual(result.worktreePath, slot!.path)
      assert.strictEqual(readFileSync(join(slot!.path, "work.txt"), "utf8"), "the child's work\n")
      assert.include(git(world.repo, "worktree", "list", "--porcelain"), `worktree ${slot!.path}\n`)
      assert.notInclude(
        (yield* world.pool.slots(p1)).map((s) => s.path),
        slot!.path
      )
    })
  )

  it.live(
    "discards a slot with an ignored file left in it (a build output, an .env): never handed out as fresh",
    () =>
      Effect.gen(function* () {
        const world = yield* pooledWorld(1)
        commitFile(world.repo, ".gitignore", "build/\n.env\n")
        yield* world.pool.fill
        const [slot] = yield* readySlots(world)
        mkdirSync(join(slot!.path, "build"))
        writeFileSync(join(slot!.path, "build", "out.js"), "left by an earlier run\n")
        writeFileSync(join(slot!.path, ".env"), "TOKEN=someone-elses\n")
        const result = yield* start(world, "t1")
        const stats = yield* world.pool.stats
        assert.strictEqual(stats.claimed, 0)
        assert.strictEqual(stats.discarded, 1)
        assert.isFalse(existsSync(join(result.worktreePath, "build")))
        assert.isFalse(existsSync(join(result.worktreePath, ".env")))
      })
  )

  it.live("survives a restart: slots are kept, a half-made one is discarded, none is an orphan", () =>
    Effect.gen(function* () {
      const first = yield* pooledWorld(2)
      yield* first.pool.fill
      const before = (yield* readySlots(first)).map((s) => s.path).sort()
      // A slot a crash left half made: registered, nothing checked out.
      const half = join(before[0]!, "..", "halfmade")
      git(first.repo, "worktree", "add", "--quiet", "--detach", "--no-checkout", half, "main")
      const second = yield* pooledWorld(2, { repo: first.repo, home: first.home })
      const report = yield* second.recovery.recover
      assert.deepStrictEqual(report.orphanedWorktrees, [])
      const listed = yield* second.report.list()
      assert.deepStrictEqual(
        listed.map((e) => e.state),
        ["pooled", "pooled", "pooled"]
      )
      assert.deepStrictEqual(
        listed.map((e) => e.action),
        ["keep", "keep", "keep"]
      )
      yield* second.pool.fill
      assert.deepStrictEqual((yield* readySlots(second)).map((s) => s.path).sort(), before)
      assert.isFalse(existsSync(half))
      const stats = yield* second.pool.stats
      assert.strictEqual(stats.created, 0)
      assert.strictEqual(stats.discarded, 1)
    })
  )

  it.live("gives 2 slots to 8 concurrent bootstraps; the other 6 check out, all distinct and complete", () =>
    Effect.gen(function* () {
      const world = yield* pooledWorld(2)
      yield* world.pool.fill
      const results = yield* Effect.all(
        Array.from({ length: 8 }, (_, i) => start(world, `t${i}`)),
        { concurrency: "unbounded" }
      )
      assert.strictEqual((yield* world.pool.stats).claimed, 2)
      assert.strictEqual(new Set(results.map((r) => r.worktreePath)).size, 8)
      assert.strictEqual(new Set(results.map((r) => r.branch)).size, 8)
      for (const result of results) {
        assert.isFalse(inPool(result.worktreePath))
        assert.strictEqual(
          readFileSync(join(result.worktreePath, "README.md"), "utf8"),
          "# test repository\n"
        )
        assert.strictEqual(
          git(result.worktreePath, "rev-parse", "--abbrev-ref", "HEAD").trim(),
          result.branch
        )
      }
    })
  )

  it.live(
    "a pooled thread is identical to one made the slow way: files, includes, setup, branch config",
    () =>
      Effect.gen(function* () {
        const world = yield* pooledWorld(1, {
          setupScript: "echo ran in $SPINDLE_PORT_COUNT > setup-ran.txt"
        })
        commitFile(world.repo, ".gitignore", ".env\nsetup-ran.txt\n")
        commitFile(world.repo, ".worktreeinclude", ".env\n")
        writeFileSync(join(world.repo, ".env"), "TOKEN=local\n")
        yield* world.pool.fill
        const pooled = yield* world.bootstrap("pooled")
        const slow = yield* world.bootstrap("slow")
        assert.strictEqual((yield* world.pool.stats).claimed, 1)
        assert.strictEqual(pooled.setup.status, "succeeded")
        assert.strictEqual(slow.setup.status, "succeeded")
        const a = fingerprint(pooled.worktreePath, pooled.branch!)
        const b = fingerprint(slow.worktreePath, slow.branch!)
        assert.deepStrictEqual(a, b)
        assert.include(a.files, ".env=TOKEN=local\n")
        assert.include(a.files, "setup-ran.txt=ran in 10\n")
        assert.strictEqual(a.upstream, "")
        assert.isTrue(a.branch)
      })
  )

  it.live("keeps no slots for a project without a pool, and drops them when the size goes down", () =>
    Effect.gen(function* () {
      const world = yield* pooledWorld(2)
      yield* world.pool.fill
      assert.strictEqual((yield* readySlots(world)).length, 2)
      yield* world.commands.dispatch(
        { type: "project.update", commandId: "shrink", projectId: "p1", worktreePoolSize: 0 },
        { kind: "server" }
      )
      yield* world.pool.fill
      assert.strictEqual((yield* world.pool.slots(p1)).length, 0)
      assert.strictEqual(git(world.repo, "worktree", "list", "--porcelain").split("\nworktree ").length, 1)
      const result = yield* start(world, "t1")
      assert.strictEqual((yield* world.pool.stats).claimed, 0)
      assert.isFalse(inPool(result.worktreePath))
    })
  )
})

describe("WorktreePool and removed projects", () => {
  it.live("discards the slots of a project that was removed, leaving the repository as it was", () =>
    Effect.gen(function* () {
      const world = yield* pooledWorld(2)
      yield* world.pool.fill
      const slots = yield* readySlots(world)
      assert.strictEqual(slots.length, 2)
      yield* world.commands.dispatch(
        { type: "project.remove", commandId: "rm", projectId: "p1" },
        {
          kind: "server"
        }
      )
      yield* world.pool.fill
      for (const slot of slots) assert.isFalse(existsSync(slot.path))
      assert.isFalse(existsSync(join(slots[0]!.path, "..")))
      assert.strictEqual(git(world.repo, "worktree", "list", "--porcelain").split("\nworktree ").length, 1)
      assert.strictEqual(git(world.repo, "status", "--porcelain").trim(), "")
    })
  )
})

describe("WorktreePool.start", () => {
  it.live("refills in the background after a claim", () =>
    Effect.gen(function* () {
      const world = yield* pooledWorld(1, { settings: { poolIntervalMs: 60_000 } })
      yield* world.pool.start
      const full = Effect.gen(function* () {
        for (let i = 0; i < 200; i++) {
          if ((yield* readySlots(world)).length === 1) return true
          yield* Effect.sleep("50 millis")
        }
        return false
      })
      assert.isTrue(yield* full)
      yield* start(world, "t1")
      assert.strictEqual((yield* world.pool.stats).claimed, 1)
      assert.isTrue(yield* full)
      assert.strictEqual((yield* world.pool.stats).created, 2)
    })
  )
})
