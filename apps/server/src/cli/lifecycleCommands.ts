// `spindle thread archive|unarchive|delete` and `spindle project remove`: one request each, then
// what became of the worktrees, in words or JSON.
import type { ArchiveResult, ProjectRemoveResult } from "@spindle/contracts"
import { UNCOMMITTED_ADVICE } from "@spindle/contracts/lifecycleWords"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import { withClient } from "./connect.ts"
import { globalOptions } from "./globals.ts"
import { idArgument } from "./ids.ts"
import { commandId, print, writeErrorLine } from "./output.ts"

/** What became of an archived thread's worktree, a line each. */
export const describeWorktree = (result: ArchiveResult) => {
  const cleanup = result.worktree
  if (cleanup === null) return result.worktreePath === null ? [] : [`  worktree ${result.worktreePath}`]
  switch (cleanup.outcome) {
    case "removed":
      return [
        `  removed worktree ${cleanup.worktreePath}${cleanup.branchDeleted ? ` and branch ${cleanup.branch}` : ""}`,
        ...cleanup.reasons.map((reason) => `  ! ${reason}`)
      ]
    case "kept":
      return [
        `  kept worktree ${cleanup.worktreePath}${cleanup.branch === null ? "" : ` and branch ${cleanup.branch}`}:`,
        ...cleanup.reasons.map((reason) => `    - ${reason}`)
      ]
    case "not-ours":
      return cleanup.reasons.map((reason) => `  ${reason}`)
  }
}

const lifecycleLine = (verb: string) => (result: ArchiveResult) =>
  [`${verb} thread ${result.threadId}`, ...describeWorktree(result)].join("\n")

const threadIdArg = idArgument("thread", "The thread's id")
const forceFlag = Flag.Boolean("force").pipe(
  Flag.withDescription("Remove its worktree even with uncommitted changes (they are lost)"),
  Flag.withDefault(false)
)

const lifecycle = (verb: "archive" | "unarchive" | "delete", force: boolean, threadId: string) =>
  Effect.gen(function* () {
    const { json } = yield* globalOptions
    const result = yield* withClient((client) =>
      Effect.gen(function* () {
        if (force && !json) {
          // Say what will be lost before it is.
          const thread = yield* client["thread.get"]({ threadId: threadId as never })
          const entries = yield* client["worktree.list"]({ projectId: thread.projectId })
          const mine = entries.find((e) => e.threadId === thread.id)
          if (mine !== undefined && mine.details.length > 0) {
            writeErrorLine(
              // What is lost, without the advice to use the --force already given.
              `--force removes ${mine.path} anyway:\n${mine.details.map((d) => `  - ${d.replace(` ${UNCOMMITTED_ADVICE}`, "")}`).join("\n")}`
            )
          }
        }
        return (yield* client["orchestration.dispatchCommand"]({
          command: {
            type: `thread.${verb}`,
            commandId: commandId(verb),
            threadId,
            ...(force ? { force: true } : {})
          }
        })) as ArchiveResult
      })
    )
    yield* print(
      result,
      lifecycleLine(verb === "archive" ? "Archived" : verb === "delete" ? "Deleted" : "Unarchived")
    )
  })

export const archiveCommand = Command.make("archive", { thread: threadIdArg, force: forceFlag }, (a) =>
  lifecycle("archive", a.force, a.thread)
).pipe(
  Command.withDescription(
    "Stop its agent, free its ports, remove its worktree and branch when nothing would be lost (else keep them and say why)"
  )
)

export const unarchiveCommand = Command.make("unarchive", { thread: threadIdArg }, (a) =>
  lifecycle("unarchive", false, a.thread)
).pipe(Command.withDescription("Active again; a removed worktree is checked out again"))

export const deleteCommand = Command.make("delete", { thread: threadIdArg, force: forceFlag }, (a) =>
  lifecycle("delete", a.force, a.thread)
).pipe(Command.withDescription("Archive it and hide it from lists (its events stay)"))

export const projectRemoveCommand = Command.make(
  "remove",
  {
    project: idArgument("project", "The project's id"),
    archiveThreads: Flag.Boolean("archive-threads").pipe(
      Flag.withDescription("Archive its active threads first (refused otherwise)"),
      Flag.withDefault(false)
    )
  },
  ({ project, archiveThreads }) =>
    Effect.gen(function* () {
      const result = yield* withClient((client) =>
        client["orchestration.dispatchCommand"]({
          command: {
            type: "project.remove",
            commandId: commandId("project-remove"),
            projectId: project,
            ...(archiveThreads ? { archiveThreads } : {})
          }
        })
      )
      yield* print(result as ProjectRemoveResult, (r) =>
        [
          `Removed project ${r.projectId} (its repository is untouched)`,
          ...r.archived.map(lifecycleLine("  archived"))
        ].join("\n")
      )
    })
).pipe(
  Command.withDescription(
    "Unregister a project (refused while it has active threads unless --archive-threads)"
  )
)
