// What every decider shares: the answer's shape (events, or the error to answer), the context a
// decision may use, and the look-ups and guards most thread commands begin with.
import { type EventDraft, type ProjectId, SpindleError, type Thread, type ThreadId } from "@spindle/contracts"
import type { ReadModel } from "@spindle/read-model"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import type { Limits } from "../config/ServerConfig.ts"
import * as notFound from "./notFound.ts"

export interface DecideContext {
  /** The ISO timestamp the resulting events will carry. */
  readonly now: string
  /** The limits admission checks new threads against. */
  readonly limits: Limits
  /** The host deciding: it owns the threads it creates. Absent: they name no host. */
  readonly hostId?: string
}

export type Decision = Result.Result<ReadonlyArray<EventDraft>, SpindleError>

export const accept = (...events: ReadonlyArray<EventDraft>): Decision => Result.succeed(events)
export const reject = (fields: ConstructorParameters<typeof SpindleError>[0]): Decision =>
  Result.fail(new SpindleError(fields))

export const findProject = (model: ReadModel, id: ProjectId) =>
  Option.getOrUndefined(HashMap.get(model.projects, id))
export const findThread = (model: ReadModel, id: ThreadId) =>
  Option.getOrUndefined(HashMap.get(model.threads, id))

export const projectNotFound = (projectId: ProjectId): Decision =>
  Result.fail(notFound.projectNotFound(projectId))

export const threadNotFound = (threadId: ThreadId): Decision => Result.fail(notFound.threadNotFound(threadId))

/** A thread's decisions that need it to exist (and, unless said otherwise, be active). */
export const withThread = (
  model: ReadModel,
  threadId: ThreadId,
  f: (thread: Thread) => Decision,
  options?: { readonly allowArchived?: boolean; readonly allowQueued?: boolean }
): Decision => {
  const thread = findThread(model, threadId)
  if (thread === undefined) return threadNotFound(threadId)
  if (thread.status === "queued" && options?.allowQueued !== true) {
    return reject({
      reason: "conflict",
      threadId,
      message: `Thread ${threadId} is queued (${thread.queue === null ? "waiting for a slot" : `position ${thread.queue.position}, waiting for ${thread.queue.waitsFor.kind}`}): it starts when a slot frees. Wait for it ('spindle thread wait ${threadId}'), or take it out of the queue with 'spindle thread stop ${threadId}'.`
    })
  }
  if (thread.status === "archived" && options?.allowArchived !== true) {
    return reject({
      reason: "conflict",
      threadId,
      message:
        thread.deletedAt === null
          ? `Thread ${threadId} is archived. Unarchive it first with 'spindle thread unarchive ${threadId}' (thread.unarchive; its worktree is restored if it was removed), or start a new thread.`
          : `Thread ${threadId} is deleted. Start a new thread instead.`
    })
  }
  return f(thread)
}

/** A bootstrap's step: the bootstrap runs (or, for its failure, the thread still waits in the queue). */
export const inBootstrap = (thread: Thread, f: () => Decision): Decision =>
  thread.bootstrap.status === "running"
    ? f()
    : reject({
        reason: "conflict",
        threadId: thread.id,
        message: `Thread ${thread.id} is not being bootstrapped (bootstrap status: ${thread.bootstrap.status}).`
      })
