import { existsSync, mkdirSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { WorktreeEntry } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { git } from "../testing/fixtures.ts"
import { providerWorld } from "../testing/providers.ts"
import { runProcess } from "../testing/serverProcess.ts"

const BIN = resolve(import.meta.dirname, "../../bin/spindle.mjs")
const spindle = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  runProcess(process.execPath, [BIN, ...args], { env, timeout: "60 seconds" })

const off = { enabled: false, codexBin: "codex", codexConfig: [] }

describe("spindle CLI for the worktree lifecycle", () => {
  it.live(
    "worktrees lists every worktree under the root with its state and plan, and --apply does the plan",
    () =>
      Effect.gen(function* () {
        const world = yield* providerWorld(off)
        const env = { SPINDLE_HOME: world.server.home }
        const active = yield* world.start("active", "keep working")
        const root = realpathSync(join(world.server.home, "worktrees"))
        const dirty = yield* world.start("dirty", "leave a mess")
        writeFileSync(join(dirty.worktreePath, "mess.txt"), "mess\n")
        const archived = yield* spindle(["thread", "archive", "dirty"], env)
        assert.strictEqual(archived.code, 0, archived.stderr)
        assert.include(archived.stdout, "kept worktree")
        assert.include(archived.stdout, "1 uncommitted change(s): mess.txt")
        // --force says what it discards, and does not advise the --force it was given.
        const forcedThread = yield* world.start("forced", "leave a mess too")
        writeFileSync(join(forcedThread.worktreePath, "scratch.txt"), "scratch\n")
        const forced = yield* spindle(["thread", "archive", "forced", "--force"], env)
        assert.strictEqual(forced.code, 0, forced.stderr)
        assert.include(forced.stderr, "1 uncommitted change(s): scratch.txt")
        assert.notInclude(forced.output, "--force to discard")
        assert.include(forced.stdout, "Discarded 1 uncommitted change(s): scratch.txt")

        // A worktree no thread owns, a pool slot, and one whose folder was deleted by hand.
        const orphan = join(root, "p1", "orphan")
        git(world.repo, "worktree", "add", "--quiet", "-b", "spindle/orphan", orphan)
        const slot = join(root, ".pool", "p1", "slot-1")
        mkdirSync(join(root, ".pool", "p1"), { recursive: true })
        git(world.repo, "worktree", "add", "--quiet", "--detach", slot)
        const gone = join(root, "p1", "gone")
        git(world.repo, "worktree", "add", "--quiet", "-b", "gone", gone)
        rmSync(gone, { recursive: true, force: true })

        const listed = yield* spindle(["worktrees", "--json"], env)
        assert.strictEqual(listed.code, 0, listed.stderr)
        const entries = JSON.parse(listed.stdout) as ReadonlyArray<WorktreeEntry>
        const byPath = new Map(entries.map((e) => [e.path, e]))
        const plan = (path: string) => {
          const e = byPath.get(path)
          return e === undefined ? undefined : [e.state, e.action, e.threadId as string | null]
        }
        assert.deepStrictEqual(plan(active.worktreePath), ["clean", "keep", "active"])
        assert.deepStrictEqual(plan(dirty.worktreePath), ["dirty", "keep", "dirty"])
        assert.deepStrictEqual(plan(orphan), ["orphaned", "remove", null])
        assert.deepStrictEqual(plan(slot), ["pooled", "keep", null])
        assert.deepStrictEqual(plan(gone), ["missing", "prune", null])
        assert.strictEqual(entries.length, 5)
        assert.isAbove(byPath.get(active.worktreePath)!.sizeBytes ?? 0, 0)
        assert.include(byPath.get(dirty.worktreePath)!.details.join(" "), "mess.txt")

        const human = yield* spindle(["worktrees"], env)
        assert.strictEqual(human.code, 0, human.stderr)
        assert.include(human.stdout, `would remove: no thread owns it and nothing would be lost`)
        assert.include(human.stdout, "5 worktree(s)")
        assert.include(human.stdout, "1 can be removed")

        const applied = yield* spindle(["worktrees", "--apply", "--json"], env)
        assert.strictEqual(applied.code, 0, applied.stderr)
        const results = new Map(
          (JSON.parse(applied.stdout) as ReadonlyArray<WorktreeEntry>).map((e) => [e.path, e.result])
        )
        assert.strictEqual(results.get(orphan), "removed")
        assert.strictEqual(results.get(gone), "pruned")
        assert.isUndefined(results.get(dirty.worktreePath))
        assert.isFalse(existsSync(orphan))
        assert.isTrue(existsSync(join(dirty.worktreePath, "mess.txt")))
        assert.isTrue(existsSync(slot))
        assert.isTrue(existsSync(active.worktreePath))
        assert.notInclude(git(world.repo, "worktree", "list", "--porcelain"), gone)
        assert.notInclude(git(world.repo, "branch", "--list", "spindle/orphan"), "spindle/orphan")
      })
  )

  it.live("thread archive, unarchive, delete and path; project remove asks for --archive-threads", () =>
    Effect.gen(function* () {
      const world = yield* providerWorld(off)
      const env = { SPINDLE_HOME: world.server.home }
      const started = yield* world.start("t1", "work")
      const path = yield* spindle(["thread", "path", "t1"], env)
      assert.strictEqual(path.code, 0, path.stderr)
      assert.strictEqual(path.stdout.trim(), started.worktreePath)
      const shown = yield* spindle(["thread", "show", "t1"], env)
      assert.match(shown.stdout, /ports \d+-\d+ \(SPINDLE_PORT \d+\)/)

      const archived = yield* spindle(["thread", "archive", "t1"], env)
      assert.strictEqual(archived.code, 0, archived.stderr)
      assert.include(archived.stdout, `removed worktree ${started.worktreePath} and branch ${started.branch}`)
      assert.isFalse(existsSync(started.worktreePath))
      // A prompt to an archived thread says how to bring it back.
      const sent = yield* spindle(["thread", "send", "t1", "--prompt", "more"], env)
      assert.strictEqual(sent.code, 1)
      assert.include(sent.stderr, "spindle thread unarchive t1")
      const back = yield* spindle(["thread", "unarchive", "t1", "--json"], env)
      assert.strictEqual(back.code, 0, back.stderr)
      assert.strictEqual(JSON.parse(back.stdout).status, "active")
      assert.isTrue(existsSync(join(started.worktreePath, "README.md")))

      const refused = yield* spindle(["project", "remove", "p1"], env)
      assert.strictEqual(refused.code, 1)
      assert.include(refused.stderr, "--archive-threads")
      const removed = yield* spindle(["project", "remove", "p1", "--archive-threads"], env)
      assert.strictEqual(removed.code, 0, removed.stderr)
      assert.include(removed.stdout, "Removed project p1")
      assert.include(removed.stdout, "archived thread t1")

      const deleted = yield* spindle(["thread", "delete", "t1"], env)
      assert.strictEqual(deleted.code, 0, deleted.stderr)
      const list = yield* spindle(["thread", "list", "--json"], env)
      assert.deepStrictEqual(JSON.parse(list.stdout), [])
      const missing = yield* spindle(["thread", "archive", "nope"], env)
      assert.strictEqual(missing.code, 1)
      assert.include(missing.stderr, "does not exist")
    })
  )
})
