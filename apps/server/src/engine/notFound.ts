// The "does not exist" errors every path answers the same way, with the command that finds out.
import { type ProjectId, SpindleError, type ThreadId } from "@spindle/contracts"

export const threadNotFound = (threadId: ThreadId) =>
  new SpindleError({
    reason: "not-found",
    threadId,
    message: `Thread ${threadId} does not exist. List threads with 'spindle thread list'.`
  })

export const projectNotFound = (projectId: ProjectId) =>
  new SpindleError({
    reason: "not-found",
    projectId,
    message: `Project ${projectId} does not exist. List projects with 'spindle project list' or register one with 'spindle project add <path>'.`
  })
