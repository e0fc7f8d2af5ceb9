// What becomes of an archived thread's worktree: removed when nothing would be lost (or with
// force, after naming what is lost), kept with the reasons, or never touched when Spindle did not
// create it. Each outcome is recorded on the thread (thread.worktree.record). A removal is
// journaled (WorktreeRemovals) before its git runs, with the outcome it is about to record and then
// git's process group, so a restart after a crash records what really happened. The caller holds
// the thread's lifecycle lock.
import {
  type Actor,
  type CommandId,
  SpindleError,
  type Thread,
  type ThreadId,
  type WorktreeCleanup
} from "@spindle/contracts"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { stepCommandId } from "../bootstrap/bootstrapSteps.ts"
import { CrashPoints } from "../bootstrap/CrashPoints.ts"
import type { Engine } from "../engine/Engine.ts"
import { threadNotFound } from "../engine/notFound.ts"
import type { GitCli } from "../git/GitCli.ts"
import type { Worktrees } from "../git/Worktrees.ts"
import type { WorktreeRemovals } from "../persistence/WorktreeRemovals.ts"
import { markRefused } from "../reads/gitRefusals.ts"
import type { ThreadWatch } from "../reads/ThreadWatch.ts"
import { inspectWorktree, keepReasons } from "./worktreeInspection.ts"

/** How long an archive waits for the agent to stop before it looks at the worktree. */
const SESSION_STOP_MS = 15_000

const sessionLive = (thread: Thread) =>
  thread.session.status === "starting" || thread.session.status === "running"

/** The thread, or the error that it does not exist. */
export const requireThread = (engine: Engine["Service"], threadId: ThreadId) =>
  Effect.flatMap(engine.getThread(threadId), (thread) =>
    thread === undefined ? Effect.fail(threadNotFound(threadId)) : Effect.succeed(thread)
  )

/** Why a removed worktree's branch stayed (it holds commits on no other branch). */
export const keptBranchReason = (threadId: ThreadId, branch: string, unpushed: number) =>
  `Kept branch ${branch}: it holds ${unpushed} commit(s) on no other branch; 'spindle thread unarchive ${threadId}' checks it out again.`

/** `cleanWorktree(threadId, force, commandId, actor)`: the outcome recorded, or undefined when there was nothing to do. */
export const makeWorktreeCleanup = (services: {
  readonly engine: Engine["Service"]
  readonly git: GitCli["Service"]
  readonly worktrees: Worktrees["Service"]
  readonly watch: ThreadWatch["Service"]
  readonly removals: WorktreeRemovals["Service"]
}) => {
  const { engine, git, worktrees, watch, removals } = services
  const now = Effect.map(DateTime.now, DateTime.formatIso)
  const getThread = (threadId: ThreadId) => requireThread(engine, threadId)

  const record = (threadId: ThreadId, cleanup: WorktreeCleanup, commandId: CommandId, actor: Actor) =>
    Effect.as(
      engine.dispatch(
        {
          type: "thread.worktree.record",
          commandId: stepCommandId(commandId, "worktree"),
          threadId,
          cleanup
        },
        actor
      ),
      cleanup
    )

  return Effect.fn("ThreadLifecycle.cleanWorktree")(function* (
    threadId: ThreadId,
    force: boolean,
    commandId: CommandId,
    actor: Actor,
    /** Recovery after a restart: no agent can be running, so none is waited for. */
    options: { readonly waitForSession?: boolean } = {}
  ) {
    let thread = yield* getThread(threadId)
    const { worktreePath, branch, createdByUs, mode } = thread.workspace
    if (thread.cleanup?.outcome === "removed" || worktreePath === null) return undefined
    const at = yield* now
    const base = { worktreePath, branch, head: null, branchDeleted: false, lost: null, at }
    if (!createdByUs) {
      if (thread.cleanup?.outcome === "not-ours") return undefined
      return yield* record(
        threadId,
        {
          ...base,
          outcome: "not-ours",
          reasons: [
            `${worktreePath} was not created by Spindle (mode ${mode}), so it is never removed; it is left as it is.`
          ]
        },
        commandId,
        actor
      )
    }
    const project = yield* engine.getProject(thread.projectId)
    if (project === undefined) return undefined
    const repo = project.workspaceRoot
    // The agent may still be writing: let its session stop first.
    if (options.waitForSession !== false && sessionLive(thread)) {
      thread = (yield* watch.until(threadId, (t) => !sessionLive(t), SESSION_STOP_MS)) ?? thread
    }
    const gitFailed = (error: { readonly message: string }) =>
      new SpindleError({
        reason: "git",
        threadId,
        path: worktreePath,
        message: `Could not look at ${worktreePath}: ${error.message}`
      })
    const inspected = yield* inspectWorktree(git, repo, worktreePath, branch, thread.merged).pipe(
      Effect.result
    )
    if (Result.isFailure(inspected) && inspected.failure.reason === "foreign-gitdir") {
      // Its .git leads out of the repository: Spindle neither looks inside nor removes it.
      yield* markRefused(engine, threadId, inspected.failure)
      return yield* record(
        threadId,
        { ...base, outcome: "kept", reasons: [inspected.failure.message] },
        commandId,
        actor
      )
    }
    const inspection = yield* Effect.mapError(Effect.fromResult(inspected), gitFailed)
    const reasons = keepReasons(inspection, branch)
    if (reasons.length > 0 && !force) {
      // Kept again for the same reasons: nothing new to record (the retention sweep asks hourly).
      const previous = thread.cleanup
      if (previous?.outcome === "kept" && previous.reasons.join("\n") === reasons.join("\n")) return previous
      return yield* record(
        threadId,
        { ...base, head: inspection.head, outcome: "kept", reasons },
        commandId,
        actor
      )
    }
    const lostFiles = force ? inspection.dirtyFiles : []
    const lost =
      force && inspection.dirtyCount > 0
        ? [
            `Discarded ${inspection.dirtyCount} uncommitted change(s): ${inspection.dirtyFiles.join(", ")}${inspection.dirtyCount > inspection.dirtyFiles.length ? ", ..." : ""}.`
          ]
        : []
    const planned: WorktreeCleanup = {
      ...base,
      head: inspection.head,
      outcome: "removed",
      reasons: lost,
      lost: lost.length === 0 ? null : { files: lostFiles, commits: [] }
    }
    // Journaled before git runs: a crash from here on is finished by the archive recovery.
    const journalId = stepCommandId(commandId, "worktree")
    yield* removals
      .begin({ commandId: journalId, threadId, repo, worktreePath, branch, planned, gitGroup: null }, at)
      .pipe(Effect.orDie)
    const crash = yield* CrashPoints
    // Worktrees.remove looks again right before it acts (under the repository's lock).
    const removed = yield* worktrees
      .remove({
        repo,
        worktreePath,
        branch,
        deleteBranch: true,
        force,
        held: inspection.held,
        tracked: {
          record: (group) =>
            Effect.flatMap(now, (t) => removals.recordGroup(journalId, group, t)).pipe(Effect.orDie),
          running: crash.reach("worktree-removing")
        }
      })
      .pipe(Effect.result)
    const outcome: WorktreeCleanup = Result.isFailure(removed)
      ? { ...base, head: inspection.head, outcome: "kept", reasons: [removed.failure.message] }
      : {
          ...planned,
          branchDeleted: removed.success.branchDeleted,
          reasons: [
            ...lost,
            ...(branch !== null && !removed.success.branchDeleted && inspection.branchExists
              ? [keptBranchReason(threadId, branch, inspection.unpushedCount)]
              : [])
          ]
        }
    const recorded = yield* record(threadId, outcome, commandId, actor)
    yield* removals.finish(journalId).pipe(Effect.orDie)
    return recorded
  })
}
