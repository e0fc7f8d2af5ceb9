// The conflict radar's decisions: whether the overlap it sees between two live threads now is a
// change in the project's overlap set (a pair that starts or stops overlapping, or whose shared
// files change), and whether its count of a thread's changes differs from the last one. Ranges that
// only move within the same files, and a count that stayed, are not events, so the log is not
// flooded while agents type.
import {
  type ProjectOverlapRecord,
  sameChanges,
  type Thread,
  type ThreadChangesRecord
} from "@spindle/contracts"
import type { ReadModel } from "@spindle/read-model"
import { accept, type Decision, findProject, findThread, projectNotFound, reject } from "./decision.ts"

const samePaths = (
  a: ReadonlyArray<{ readonly path: string }>,
  b: ReadonlyArray<{ readonly path: string }>
) => a.length === b.length && a.every((file, i) => file.path === b[i]?.path)

export const decideOverlap = (command: typeof ProjectOverlapRecord.Type, model: ReadModel): Decision => {
  const project = findProject(model, command.projectId)
  if (project === undefined) return projectNotFound(command.projectId)
  const [first, second] = command.threadIds
  if (command.threadIds.length !== 2 || first === undefined || second === undefined || first >= second) {
    return reject({
      reason: "validation",
      field: "threadIds",
      message: "An overlap names two different threads, in id order."
    })
  }
  const key = command.threadIds.join("\0")
  const previous = (project.overlaps ?? []).find((o) => o.threadIds.join("\0") === key)
  if (command.files.length === 0) {
    return previous === undefined
      ? accept()
      : accept({
          type: "project.overlap-changed",
          payload: { ...overlapOf(command), change: "disappeared", files: [], filesTruncated: 0 }
        })
  }
  for (const id of command.threadIds) {
    const thread = findThread(model, id)
    if (thread === undefined || thread.projectId !== command.projectId || thread.status !== "active") {
      return reject({
        reason: "conflict",
        threadId: id,
        message: `Thread ${id} is not a live thread of project ${command.projectId}; an overlap is between live threads of one project.`
      })
    }
  }
  if (previous !== undefined && samePaths(previous.files, command.files)) return accept()
  return accept({
    type: "project.overlap-changed",
    payload: { ...overlapOf(command), change: previous === undefined ? "appeared" : "changed" }
  })
}

const overlapOf = (command: typeof ProjectOverlapRecord.Type) => ({
  projectId: command.projectId,
  threadIds: command.threadIds,
  files: command.files,
  filesTruncated: command.filesTruncated
})

export const decideChanges = (thread: Thread, command: typeof ThreadChangesRecord.Type): Decision =>
  sameChanges(thread.changes, command.changes)
    ? accept()
    : accept({ type: "thread.changes-updated", payload: { threadId: thread.id, changes: command.changes } })
