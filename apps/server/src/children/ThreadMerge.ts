// Merging a thread's branch back: into its parent's branch, else the branch it was started from,
// or the one named. Everything is checked before anything is written, each refusal saying what to
// do: a thread with no branch, a running turn (unless `stop` interrupts it first), uncommitted
// changes in its worktree (unless `commit` commits them first), a target that is a remote-tracking
// branch or the thread's own or a descendant's, a conflict (with the files and their hunks). The
// merge itself is git/branchMerge.ts, under the repository's lock: in the checkout where the target
// is checked out, or without any checkout. A merge is recorded on the thread (`thread.merged`);
// `archive` archives it afterwards. A dry run writes nothing, so it neither stops, commits nor
// archives: it previews the branch's committed work.

import {
  type Actor,
  type CommandId,
  type MergeStrategy,
  SpindleError,
  STOP_WAIT_SECONDS,
  type Thread,
  type ThreadMergeRequest,
  type ThreadMergeResult
} from "@spindle/contracts"
import { hasLiveTurn } from "@spindle/read-model/turnState"
import { randomHex } from "@spindle/shared/random"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { Commands } from "../commands/Commands.ts"
import { Engine } from "../engine/Engine.ts"
import { threadNotFound } from "../engine/notFound.ts"
import { mergeFiles, previewMerge } from "../git/branchMerge.ts"
import { GitCli } from "../git/GitCli.ts"
import { type GitError, toSpindleError } from "../git/GitError.ts"
import { inspectTarget, mergeIntoTarget } from "../git/mergeCheckout.ts"
import { withReplay } from "../git/mergeReplay.ts"
import { RepoLocks } from "../git/RepoLocks.ts"
import { Repositories } from "../git/Repositories.ts"
import { commitWorktreeChanges } from "../git/worktreeCommit.ts"
import { ThreadLifecycle } from "../lifecycle/ThreadLifecycle.ts"
import { ThreadWatch } from "../reads/ThreadWatch.ts"
import { CleanCheckouts } from "./CleanCheckouts.ts"

const refused = (
  thread: Thread,
  reason: "validation" | "conflict" | "not-found",
  message: string,
  field?: string
) => new SpindleError({ reason, threadId: thread.id, message, ...(field === undefined ? {} : { field }) })

const conflictText = (conflicts: ThreadMergeResult["conflicts"]) =>
  conflicts
    .map(
      (file) =>
        `${file.path} (lines ${file.hunks.map((h) => `${h.startLine}-${h.endLine}`).join(", ") || "?"})`
    )
    .join("; ")

export class ThreadMerge extends Context.Service<
  ThreadMerge,
  {
    /** Merges (or, with `dryRun`, previews merging) a thread's branch; see the file's comment. */
    readonly merge: (
      request: ThreadMergeRequest,
      actor: Actor
    ) => Effect.Effect<ThreadMergeResult, SpindleError>
  }
>()("spindle/children/ThreadMerge") {
  static readonly layer = Layer.effect(
    ThreadMerge,
    Effect.gen(function* () {
      const engine = yield* Engine
      const git = yield* GitCli
      const repositories = yield* Repositories
      const locks = yield* RepoLocks
      const commands = yield* Commands
      const watch = yield* ThreadWatch
      const lifecycle = yield* ThreadLifecycle
      const clean = yield* CleanCheckouts
      const commandId = (verb: string) => Effect.map(randomHex(10), (hex) => `${verb}-${hex}` as CommandId)

      /** The branch to merge into, as the request names it or the thread's family says. */
      const targetOf = (thread: Thread, into: string | undefined) =>
        Effect.gen(function* () {
          if (into !== undefined) return into
          if (thread.parentThreadId !== null) {
            const parent = yield* engine.getThread(thread.parentThreadId)
            if (parent?.workspace.branch != null) return parent.workspace.branch
          }
          if (thread.workspace.baseBranch !== null) return thread.workspace.baseBranch
          return yield* refused(
            thread,
            "validation",
            `Thread ${thread.id} has no parent branch or base branch to merge into: name one with --into <branch>.`,
            "into"
          )
        })

      /** Interrupts the thread's live turn and waits for it to end; answers how it ended. */
      const stopTurn = (thread: Thread, actor: Actor) =>
        Effect.gen(function* () {
          const turnId = thread.latestTurn?.turnId
          yield* commands.dispatch(
            { type: "thread.turn.interrupt", commandId: yield* commandId("stop"), threadId: thread.id },
            actor
          )
          const after = yield* watch.until(
            thread.id,
            (t) => !hasLiveTurn(t, turnId),
            STOP_WAIT_SECONDS * 1000
          )
          if (after !== undefined && hasLiveTurn(after, turnId)) {
            return yield* refused(
              thread,
              "conflict",
              `Thread ${thread.id}'s turn was asked to stop but is still running after ${STOP_WAIT_SECONDS} s; nothing was merged. Try again once 'spindle thread show ${thread.id}' shows it ended.`
            )
          }
          return after?.latestTurn?.status ?? "interrupted"
        })

      const merge = Effect.fn("ThreadMerge.merge")(function* (request: ThreadMergeRequest, actor: Actor) {
        const thread = yield* engine.getThread(request.threadId)
        if (thread === undefined) return yield* threadNotFound(request.threadId)
        const project = yield* engine.getProject(thread.projectId)
        const branch = thread.workspace.branch
        const worktree = thread.workspace.worktreePath
        if (project === undefined || branch === null) {
          return yield* refused(
            thread,
            "validation",
            `Thread ${thread.id} has no branch of its own to merge (it works on a detached or shared checkout).`
          )
        }
        const repo = project.workspaceRoot
        const target = yield* targetOf(thread, request.into)
        if (target === branch) {
          return yield* refused(
            thread,
            "validation",
            `Thread ${thread.id} works on ${target}: it cannot be merged into itself. Name another branch with --into.`,
            "into"
          )
        }
        // A descendant's branch holds this thread's work and more: merging into it runs backwards.
        const model = yield* engine.readModel
        const isDescendant = (other: Thread): boolean => {
          let parentId = other.parentThreadId
          for (let depth = 0; parentId !== null && depth < 64; depth++) {
            if (parentId === thread.id) return true
            parentId = HashMap.get(model.threads, parentId).pipe(
              Option.match({ onNone: () => null, onSome: (t) => t.parentThreadId })
            )
          }
          return false
        }
        const descendant = [...HashMap.values(model.threads)].find(
          (other) =>
            other.workspace.branch === target && other.projectId === thread.projectId && isDescendant(other)
        )
        if (descendant !== undefined) {
          return yield* refused(
            thread,
            "validation",
            `${target} is the branch of thread ${descendant.id}, which ${thread.id} started: merge ${descendant.id} into ${thread.id} instead.`,
            "into"
          )
        }
        const gitFailed = (error: GitError) => toSpindleError(error, "into")
        // An archived thread's branch may be gone: unarchive brings it back.
        if ((yield* repositories.branchCommit(repo, branch).pipe(Effect.mapError(gitFailed))) === undefined) {
          return yield* refused(
            thread,
            "not-found",
            `Thread ${thread.id}'s branch ${branch} no longer exists${thread.status === "archived" ? " (archiving removed it)" : ""}: ${thread.status === "archived" ? `'spindle thread unarchive ${thread.id}' re-creates it, then merge` : "there is nothing left to merge"}.`
          )
        }
        if ((yield* repositories.branchCommit(repo, target).pipe(Effect.mapError(gitFailed))) === undefined) {
          const remote =
            (yield* git
              .run(["rev-parse", "--verify", "--quiet", `refs/remotes/${target}`], {
                cwd: repo
              })
              .pipe(Effect.mapError(gitFailed))).exitCode === 0
          return yield* refused(
            thread,
            "validation",
            remote
              ? `${target} is a remote-tracking branch: merge into a local branch (create one with 'git branch <name> ${target}') and name it with --into.`
              : `There is no branch ${target} in ${repo}. Name an existing local branch with --into.`,
            "into"
          )
        }
        const dryRun = request.dryRun === true
        // A turn only requested has not reached the agent yet: the branch is as it will be merged.
        const running = thread.latestTurn?.status === "running"
        if (running && (request.stop !== true || dryRun)) {
          return yield* refused(
            thread,
            "conflict",
            `Thread ${thread.id}'s turn is running: wait for it to end (spindle thread wait ${thread.id}), or merge with --stop to interrupt it first.`
          )
        }
        const worktreeThere = worktree !== null && thread.cleanup?.outcome !== "removed"
        /** Uncommitted changes in the thread's worktree (none to look at: undefined). */
        const worktreeChanges = (branchOid: string | undefined) =>
          worktreeThere
            ? clean.changes({
                checkout: worktree,
                repo,
                branch,
                head: branchOid,
                untracked: true,
                threadId: thread.id
              })
            : Effect.succeed(undefined)
        /** The target's checkout and whether it can take the merge, its branch at `head`. */
        const destinationOf = (head: string | undefined) =>
          Effect.gen(function* () {
            const model = yield* engine.readModel
            // A live thread's worktree (a parent's) is watched by the radar already.
            const owner = (checkout: string) =>
              [...HashMap.values(model.threads)].find(
                (t) => t.status === "active" && t.workspace.worktreePath === checkout
              )?.id
            return yield* inspectTarget(git, repo, `refs/heads/${target}`, (checkout) =>
              clean.changes({
                checkout,
                repo,
                branch: target,
                head,
                untracked: false,
                threadId: owner(checkout)
              })
            )
          }).pipe(Effect.mapError(gitFailed))
        const refuseBusy = (destination: {
          readonly checkout?: string | undefined
          readonly busy?: string | undefined
        }) =>
          destination.busy === undefined
            ? Effect.void
            : refused(
                thread,
                "conflict",
                `${target} is checked out in ${destination.checkout}, which cannot take the merge: ${destination.busy}. Nothing was changed.`
              )
        // Stopping the agent comes first, once the target is known to be able to take the merge.
        let stopped: string | null = null
        if (running) {
          yield* refuseBusy(
            yield* destinationOf(
              yield* repositories.branchCommit(repo, target).pipe(Effect.mapError(gitFailed))
            )
          )
          stopped = yield* stopTurn(thread, actor)
        }
        /** Both refs, read under the lock (ref files, no git call): the target is what update-ref expects. */
        const refsNow = Effect.all([
          repositories.branchCommit(repo, target),
          repositories.branchCommit(repo, branch)
        ])
        const previewOf = ([targetOid, sourceOid]: readonly [string | undefined, string | undefined]) =>
          previewMerge(git, repo, `refs/heads/${target}`, `refs/heads/${branch}`, {
            ...(targetOid === undefined || sourceOid === undefined
              ? {}
              : { oids: { target: targetOid, source: sourceOid } }),
            // A merge asks for its files alongside making the commit.
            files: dryRun
          })
        const merged = yield* locks.withLock(
          repo,
          Effect.gen(function* () {
            // The target's checkout, the thread's worktree and the trial merge, looked at together.
            const refs = yield* refsNow
            const [destination, changes, firstTrial] = yield* Effect.all(
              [destinationOf(refs[0]), worktreeChanges(refs[1]), previewOf(refs)],
              { concurrency: 3 }
            )
            yield* refuseBusy(destination)
            let committed: string | null = null
            let trial = firstTrial
            if (worktree !== null && changes !== undefined && changes > 0) {
              if (request.commit !== true || dryRun) {
                return yield* refused(
                  thread,
                  "conflict",
                  `Thread ${thread.id}'s worktree has ${changes} uncommitted change(s): commit them, or run 'spindle thread send ${thread.id}' asking the agent to commit, or merge with --commit to commit them as the thread's own commit.`
                )
              }
              committed = yield* commitWorktreeChanges(
                git,
                repo,
                worktree,
                branch,
                `Uncommitted work of thread ${thread.id} (${thread.title})`
              )
              trial = yield* Effect.flatMap(refsNow, previewOf)
            }
            const strategy: MergeStrategy = request.strategy ?? (trial.fastForward ? "ff-only" : "merge")
            const preview =
              strategy === "rebase" && !trial.upToDate ? yield* withReplay(git, repo, trial) : trial
            const result = {
              threadId: thread.id,
              strategy,
              target,
              source: branch,
              upToDate: preview.upToDate,
              before: preview.targetOid,
              files: preview.files,
              conflicts: preview.conflicts,
              committed,
              stopped
            }
            if (dryRun) return { ...result, dryRun: true, commit: null }
            if (preview.upToDate) return { ...result, dryRun: false, commit: null }
            if (preview.conflicts.length > 0) {
              // The thread now needs its user (the board's Needs you); nothing else is written.
              yield* engine
                .dispatch(
                  {
                    type: "thread.merge-conflict.record",
                    commandId: yield* commandId("conflict"),
                    threadId: thread.id,
                    conflict: {
                      target,
                      files: preview.conflicts.slice(0, 50).map((c) => c.path),
                      at: new Date(yield* Clock.currentTimeMillis).toISOString()
                    }
                  },
                  actor
                )
                .pipe(Effect.ignore({ log: "Warn", message: "Could not record a merge's conflict" }))
              return yield* refused(
                thread,
                "conflict",
                `${branch} does not merge cleanly into ${target}; nothing was changed. Conflicts: ${conflictText(preview.conflicts)}. Ask the agent to merge ${target} into its branch and resolve them, then merge again.`
              )
            }
            if (strategy === "ff-only" && !preview.fastForward) {
              return yield* refused(
                thread,
                "conflict",
                `${target} moved since ${branch} forked from it, so it cannot fast-forward; use --strategy merge or squash.`,
                "strategy"
              )
            }
            const message = `${strategy === "squash" ? "Squash" : "Merge"} thread ${thread.id} (${thread.title}) into ${target}`
            // The merge's own git processes are started first: the files are for the record.
            const [commit, files] = yield* Effect.all(
              [
                mergeIntoTarget(git, repo, preview, strategy, message, destination.checkout),
                preview.files.length > 0 ? Effect.succeed(preview.files) : mergeFiles(git, repo, preview)
              ],
              { concurrency: 2 }
            )
            yield* engine.dispatch(
              {
                type: "thread.merge.record",
                commandId: yield* commandId("merged"),
                threadId: thread.id,
                merge: {
                  strategy,
                  target,
                  sourceCommit: preview.sourceOid,
                  before: preview.targetOid,
                  commit,
                  files: files.length,
                  added: files.reduce((n, f) => n + (f.added ?? 0), 0),
                  removed: files.reduce((n, f) => n + (f.removed ?? 0), 0),
                  at: new Date(yield* Clock.currentTimeMillis).toISOString()
                }
              },
              actor
            )
            return { ...result, files, dryRun: false, commit }
          }).pipe(Effect.mapError((error) => (error instanceof SpindleError ? error : gitFailed(error))))
        )
        // Outside the repository's lock, which archiving takes itself.
        if (request.archive !== true || dryRun) return merged
        if (thread.status === "archived") return { ...merged, archived: false }
        yield* lifecycle.archive({ commandId: yield* commandId("archive"), threadId: thread.id }, actor)
        return { ...merged, archived: true }
      })

      return { merge }
    })
  )
}
