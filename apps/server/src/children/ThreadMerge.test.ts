// A thread's branch merged back into the branch it started from, on a real server core and real
// repositories: a dry run writes nothing; the merge lands in the repository's checkout of main;
// uncommitted work, a branch of its own as target, a missing target and a conflict are refused
// with what to do, and change nothing.
import { readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { MergeStrategy } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { Engine } from "../engine/Engine.ts"
import { ConflictRadar } from "../radar/ConflictRadar.ts"
import { bootstrapWorld, threadId } from "../testing/bootstrap.ts"
import { commitFile, git } from "../testing/fixtures.ts"
import { CleanCheckouts } from "./CleanCheckouts.ts"
import { ThreadMerge } from "./ThreadMerge.ts"

const refsOf = (repo: string) => git(repo, "for-each-ref", "--format=%(refname) %(objectname)")

const world = bootstrapWorld()

const OWNER = { kind: "client", tokenId: "tok_owner" } as const

/** The world's ThreadMerge, called as the owner. */
const mergerOf = (w: { readonly context: Context.Context<never> }) => {
  const service = Context.getUnsafe(w.context, ThreadMerge)
  return { merge: (request: Parameters<typeof service.merge>[0]) => service.merge(request, OWNER) }
}

describe("thread merge", () => {
  it.live("previews, then merges a thread's commits into the branch it started from", () =>
    Effect.gen(function* () {
      const w = yield* world
      const merges = mergerOf(w)
      const started = yield* w.bootstrap("t1")
      const worktree = started.worktreePath!
      commitFile(worktree, "feature.txt", "one\ntwo\n")
      const before = refsOf(w.repo)

      const preview = yield* merges.merge({ threadId: threadId("t1"), dryRun: true })
      assert.strictEqual(preview.strategy, "ff-only")
      assert.strictEqual(preview.target, "main")
      assert.isNull(preview.commit)
      assert.deepStrictEqual(preview.files, [{ path: "feature.txt", added: 2, removed: 0 }])
      assert.strictEqual(refsOf(w.repo), before, "a dry run writes nothing")

      const merged = yield* merges.merge({ threadId: threadId("t1") })
      const branchHead = git(worktree, "rev-parse", "HEAD").trim()
      assert.strictEqual(merged.commit, branchHead)
      assert.strictEqual(git(w.repo, "rev-parse", "refs/heads/main").trim(), branchHead)
      // main is the repository's own checkout: its files moved with it.
      assert.strictEqual(readFileSync(join(w.repo, "feature.txt"), "utf8"), "one\ntwo\n")
      assert.strictEqual(git(w.repo, "status", "--porcelain=v1"), "")
      const again = yield* merges.merge({ threadId: threadId("t1") })
      assert.isTrue(again.upToDate)
    })
  )

  it.live(
    "refuses uncommitted work, itself or a missing branch as target, and a conflict; nothing changes",
    () =>
      Effect.gen(function* () {
        const w = yield* world
        const merges = mergerOf(w)
        const started = yield* w.bootstrap("t1")
        const worktree = started.worktreePath!
        const refusal = (request: Parameters<typeof merges.merge>[0]) =>
          Effect.gen(function* () {
            const before = { refs: refsOf(w.repo), status: git(w.repo, "status", "--porcelain=v1") }
            const error = yield* Effect.flip(merges.merge(request))
            assert.deepStrictEqual(
              { refs: refsOf(w.repo), status: git(w.repo, "status", "--porcelain=v1") },
              before
            )
            return error
          })

        writeFileSync(join(worktree, "README.md"), "edited, not committed\n")
        const dirty = yield* refusal({ threadId: threadId("t1") })
        assert.strictEqual(dirty.reason, "conflict")
        assert.include(dirty.message, "uncommitted change")
        assert.include(dirty.message, "spindle thread send t1")
        git(worktree, "checkout", "--", "README.md")

        const branch = git(worktree, "rev-parse", "--abbrev-ref", "HEAD").trim()
        const itself = yield* refusal({ threadId: threadId("t1"), into: branch })
        assert.strictEqual(itself.reason, "validation")
        assert.include(itself.message, "cannot be merged into itself")
        const missing = yield* refusal({ threadId: threadId("t1"), into: "no-such-branch" })
        assert.include(missing.message, "There is no branch no-such-branch")

        // The thread and main change the same line.
        const readme = readFileSync(join(worktree, "README.md"), "utf8")
        writeFileSync(join(worktree, "README.md"), `thread's line\n${readme}`)
        git(worktree, "commit", "--quiet", "-am", "thread edit")
        writeFileSync(join(w.repo, "README.md"), `main's line\n${readme}`)
        git(w.repo, "commit", "--quiet", "-am", "main edit")
        const conflict = yield* refusal({ threadId: threadId("t1") })
        assert.strictEqual(conflict.reason, "conflict")
        assert.include(conflict.message, "Conflicts: README.md (lines 1-5)")
        // The conflict is on the thread (the board's Needs you) until a new turn starts.
        const conflicted = (yield* w.engine.getThread(threadId("t1")))!.mergeConflict
        assert.deepStrictEqual(conflicted && { target: conflicted.target, files: conflicted.files }, {
          target: "main",
          files: ["README.md"]
        })
        const dry = yield* merges.merge({ threadId: threadId("t1"), dryRun: true })
        assert.deepStrictEqual(dry.conflicts, [{ path: "README.md", hunks: [{ startLine: 1, endLine: 5 }] }])
        assert.strictEqual(dry.strategy, "merge")
        // main gives way: the merge lands, and the conflict is gone from the thread.
        git(w.repo, "reset", "--quiet", "--hard", "HEAD~1")
        const landed = yield* merges.merge({ threadId: threadId("t1") })
        assert.isNotNull(landed.commit)
        assert.isNull((yield* w.engine.getThread(threadId("t1")))!.mergeConflict)
      })
  )

  it.live(
    "a worktree found clean is looked at again after anything its watch hears, and after its branch moved from elsewhere",
    () =>
      Effect.gen(function* () {
        const w = yield* world
        const merges = mergerOf(w)
        const radar = Context.getUnsafe(w.context, ConflictRadar)
        const started = yield* w.bootstrap("t1")
        const worktree = started.worktreePath!
        const branch = git(worktree, "rev-parse", "--abbrev-ref", "HEAD").trim()
        const mark = radar.diskMark(threadId("t1"))
        /** Waits (bounded) until the worktree's watch has heard of a change since `before`. */
        const heard = (before: string | undefined) =>
          mark.pipe(
            Effect.repeat({ until: (now) => now !== before, schedule: Schedule.spaced("20 millis") }),
            Effect.timeout("10 seconds"),
            Effect.orDie
          )
        // Watched once the radar has looked at it.
        yield* mark.pipe(
          Effect.repeat({ until: (now) => now !== undefined, schedule: Schedule.spaced("20 millis") }),
          Effect.timeout("10 seconds"),
          Effect.orDie
        )
        const refusedAsUncommitted = Effect.gen(function* () {
          const before = refsOf(w.repo)
          const error = yield* Effect.flip(merges.merge({ threadId: threadId("t1") }))
          assert.include(error.message, "uncommitted change")
          assert.strictEqual(refsOf(w.repo), before)
        })

        let seen = yield* mark
        commitFile(worktree, "feature.txt", "one\n")
        seen = yield* heard(seen)
        assert.isNotNull((yield* merges.merge({ threadId: threadId("t1") })).commit, "clean: merged")

        // A new file.
        seen = yield* mark
        writeFileSync(join(worktree, "notes.txt"), "not committed\n")
        seen = yield* heard(seen)
        yield* refusedAsUncommitted
        rmSync(join(worktree, "notes.txt"))
        seen = yield* heard(seen)
        assert.isTrue((yield* merges.merge({ threadId: threadId("t1") })).upToDate, "clean again")

        // A change in the index alone (the worktree's files as they were).
        git(worktree, "rm", "--quiet", "--cached", "--", "feature.txt")
        seen = yield* heard(seen)
        yield* refusedAsUncommitted
        git(worktree, "reset", "--quiet")
        seen = yield* heard(seen)
        assert.isTrue((yield* merges.merge({ threadId: threadId("t1") })).upToDate, "clean again")

        // The branch moved by someone else, with nothing written in the worktree: what its files
        // hold is now uncommitted relative to the new commit.
        const emptyTree = git(w.repo, "hash-object", "-t", "tree", "/dev/null").trim()
        const head = `refs/heads/${branch}`
        const emptied = git(w.repo, "commit-tree", "-p", head, "-m", "elsewhere", emptyTree).trim()
        git(w.repo, "update-ref", head, emptied)
        yield* refusedAsUncommitted
      })
  )

  it.live(
    "a target checkout found clean is looked at again after a change, even one made the moment before the merge",
    () =>
      Effect.gen(function* () {
        const w = yield* world
        const merges = mergerOf(w)
        const checkouts = Context.getUnsafe(w.context, CleanCheckouts)
        for (const id of ["t1", "t2", "t3", "t4"]) {
          const started = yield* w.bootstrap(id)
          commitFile(started.worktreePath!, `${id}.txt`, `${id}\n`)
        }
        const refusedAsBusy = (id: string) =>
          Effect.gen(function* () {
            const before = { refs: refsOf(w.repo), status: git(w.repo, "status", "--porcelain=v1") }
            const error = yield* Effect.flip(merges.merge({ threadId: threadId(id), strategy: "merge" }))
            assert.include(error.message, "has uncommitted changes")
            assert.deepStrictEqual(
              { refs: refsOf(w.repo), status: git(w.repo, "status", "--porcelain=v1") },
              before
            )
          })
        // The first merge into main's checkout starts watching it; once quiet, it is known clean.
        yield* merges.merge({ threadId: threadId("t1"), strategy: "merge" })
        yield* checkouts.settled
        // A tracked file changed, then the merge at once: no time for a look in between.
        writeFileSync(join(w.repo, "README.md"), "the user's edit\n")
        yield* refusedAsBusy("t2")
        yield* checkouts.settled
        yield* refusedAsBusy("t2")
        git(w.repo, "checkout", "--", "README.md")
        yield* checkouts.settled
        yield* merges.merge({ threadId: threadId("t2"), strategy: "merge" })
        yield* checkouts.settled
        // The index alone.
        git(w.repo, "rm", "--quiet", "--cached", "--", "t1.txt")
        yield* refusedAsBusy("t3")
        git(w.repo, "reset", "--quiet")
        yield* checkouts.settled
        // main moved from elsewhere, its files left as they were: they no longer match it.
        const emptyTree = git(w.repo, "hash-object", "-t", "tree", "/dev/null").trim()
        const emptied = git(
          w.repo,
          "commit-tree",
          "-p",
          "refs/heads/main",
          "-m",
          "elsewhere",
          emptyTree
        ).trim()
        git(w.repo, "update-ref", "refs/heads/main", emptied)
        yield* refusedAsBusy("t4")
      })
  )

  it.live(
    "a parent's worktree clean enough to take a child's merge still counts its untracked files as its own work",
    () =>
      Effect.gen(function* () {
        const w = yield* world
        const merges = mergerOf(w)
        const radar = Context.getUnsafe(w.context, ConflictRadar)
        const parent = yield* w.bootstrap("t1")
        const child = yield* w.bootstrap("t2", {
          dispatch: { parent: { threadId: threadId("t1"), worktreePath: parent.worktreePath } }
        })
        commitFile(parent.worktreePath!, "parent.txt", "parent\n")
        commitFile(child.worktreePath!, "child.txt", "child\n")
        writeFileSync(join(parent.worktreePath!, "draft.txt"), "the parent's untracked draft\n")
        // Both worktrees watched by the radar, so their looks can be remembered.
        yield* radar
          .diskMark(threadId("t1"))
          .pipe(
            Effect.repeat({ until: (mark) => mark !== undefined, schedule: Schedule.spaced("20 millis") }),
            Effect.timeout("10 seconds"),
            Effect.orDie
          )
        // A dry run writes nothing, so the parent's worktree stays exactly as its look found it.
        const intoParent = yield* merges.merge({ threadId: threadId("t2"), dryRun: true })
        assert.strictEqual(intoParent.target, parent.branch)
        assert.deepStrictEqual(
          intoParent.conflicts,
          [],
          "an untracked file does not stop a merge into the parent"
        )
        const error = yield* Effect.flip(merges.merge({ threadId: threadId("t1") }))
        assert.include(error.message, "uncommitted change")
      })
  )

  it.live("refuses to merge a thread into the branch of a thread it started", () =>
    Effect.gen(function* () {
      const w = yield* world
      const merges = mergerOf(w)
      const parent = yield* w.bootstrap("t1")
      const child = yield* w.bootstrap("t2", {
        dispatch: { parent: { threadId: threadId("t1"), worktreePath: parent.worktreePath } }
      })
      const before = refsOf(w.repo)
      const error = yield* Effect.flip(merges.merge({ threadId: threadId("t1"), into: child.branch! }))
      assert.strictEqual(error.reason, "validation")
      assert.include(error.message, "which t1 started: merge t2 into t1 instead")
      assert.strictEqual(refsOf(w.repo), before)
    })
  )

  it.live(
    "every strategy brings all the thread's work into the target and records it; no commit is lost",
    () =>
      Effect.gen(function* () {
        const strategies: ReadonlyArray<MergeStrategy> = ["ff-only", "merge", "squash", "rebase"]
        const w = yield* world
        const merges = mergerOf(w)
        const engine = Context.getUnsafe(w.context, Engine)
        for (const [i, strategy] of strategies.entries()) {
          const id = `s${i}`
          const started = yield* w.bootstrap(id)
          const worktree = started.worktreePath!
          commitFile(worktree, `${id}-a.txt`, "a\n")
          commitFile(worktree, `${id}-b.txt`, "b\nb\n")
          const work = git(worktree, "rev-list", "refs/heads/main..HEAD").trim().split("\n")
          const target = `into-${id}`
          // A target that moved since the fork, except for ff-only.
          git(w.repo, "branch", target, "refs/heads/main")
          if (strategy !== "ff-only") {
            const tmp = join(w.repo, "..", `${id}-target`)
            git(w.repo, "worktree", "add", "--quiet", tmp, target)
            commitFile(tmp, `${id}-target.txt`, "target\n")
            git(w.repo, "worktree", "remove", tmp)
          }
          const before = git(w.repo, "rev-parse", `refs/heads/${target}`).trim()
          const merged = yield* merges.merge({ threadId: threadId(id), into: target, strategy })
          assert.strictEqual(merged.strategy, strategy)
          const after = git(w.repo, "rev-parse", `refs/heads/${target}`).trim()
          assert.strictEqual(merged.commit, after)
          assert.include(git(w.repo, "ls-tree", "--name-only", after), `${id}-b.txt`)
          if (strategy === "ff-only" || strategy === "merge") {
            // Every commit of the thread is in the target's history.
            assert.strictEqual(git(w.repo, "rev-list", `${after}..${work[0]}`).trim(), "", strategy)
          } else {
            // Copied into the target; the originals stay on the thread's branch until it is archived.
            assert.deepStrictEqual(
              git(worktree, "rev-list", "refs/heads/main..HEAD").trim().split("\n"),
              work,
              strategy
            )
          }
          const thread = yield* engine.getThread(threadId(id))
          assert.deepStrictEqual(
            {
              strategy: thread?.merged?.strategy,
              before: thread?.merged?.before,
              commit: thread?.merged?.commit,
              files: thread?.merged?.files,
              added: thread?.merged?.added
            },
            { strategy, before, commit: after, files: 2, added: 3 }
          )
          assert.include(yield* w.eventTypes(id), "thread.merged")
        }
      })
  )

  it.live(
    "--commit commits the worktree's changes first; a squashed thread archives cleanly; its branch gone, a merge says how to get it back",
    () =>
      Effect.gen(function* () {
        const w = yield* world
        const merges = mergerOf(w)
        const engine = Context.getUnsafe(w.context, Engine)
        const started = yield* w.bootstrap("t1")
        const worktree = started.worktreePath!
        commitFile(worktree, "done.txt", "done\n")
        writeFileSync(join(worktree, "README.md"), "edited\n")
        writeFileSync(join(worktree, "new.txt"), "untracked\n")
        // main moves, so squash makes a commit of its own.
        commitFile(w.repo, "main.txt", "main\n")
        const dirtyDry = yield* Effect.flip(merges.merge({ threadId: threadId("t1"), dryRun: true }))
        assert.include(dirtyDry.message, "--commit")
        const merged = yield* merges.merge({
          threadId: threadId("t1"),
          strategy: "squash",
          commit: true,
          archive: true
        })
        assert.isString(merged.committed)
        assert.strictEqual(
          git(w.repo, "log", "-1", "--format=%an|%s", merged.committed!).trim(),
          "Spindle|Uncommitted work of thread t1 (work on t1)"
        )
        assert.strictEqual(readFileSync(join(w.repo, "new.txt"), "utf8"), "untracked\n")
        assert.strictEqual(readFileSync(join(w.repo, "README.md"), "utf8"), "edited\n")
        assert.isTrue(merged.archived)
        const thread = yield* engine.getThread(threadId("t1"))
        assert.strictEqual(thread?.status, "archived")
        // The squash holds the thread's work: archiving let the worktree and branch go.
        assert.strictEqual(thread?.cleanup?.outcome, "removed", thread?.cleanup?.reasons.join("; "))
        assert.isTrue(thread?.cleanup?.branchDeleted)

        const gone = yield* Effect.flip(merges.merge({ threadId: threadId("t1") }))
        assert.strictEqual(gone.reason, "not-found")
        assert.include(gone.message, "spindle thread unarchive t1")
      })
  )

  it.live("an archived thread whose branch was kept (it held unmerged commits) can still be merged", () =>
    Effect.gen(function* () {
      const w = yield* world
      const merges = mergerOf(w)
      const engine = Context.getUnsafe(w.context, Engine)
      const started = yield* w.bootstrap("t1")
      commitFile(started.worktreePath!, "kept.txt", "kept\n")
      yield* w.commands.dispatch(
        { type: "thread.archive", commandId: "archive-t1", threadId: "t1" },
        { kind: "server" }
      )
      const archived = yield* engine.getThread(threadId("t1"))
      assert.strictEqual(archived?.status, "archived")
      assert.strictEqual(archived?.cleanup?.outcome, "kept")
      const merged = yield* merges.merge({ threadId: threadId("t1") })
      assert.strictEqual(git(w.repo, "rev-parse", "refs/heads/main").trim(), merged.commit)
      assert.strictEqual(readFileSync(join(w.repo, "kept.txt"), "utf8"), "kept\n")
    })
  )
})
