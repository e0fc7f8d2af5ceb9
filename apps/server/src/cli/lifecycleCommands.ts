// `spindle thread archive|unarchive|delete`, `spindle worktrees [--apply]` and `spindle project
// remove`: one request each, then what became of the worktrees, in words or JSON.
import type { ArchiveResult, ProjectId, ProjectRemoveResult, WorktreeEntry } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { commandId, parse, str } from "./commands.ts"
import { runWithClient } from "./connect.ts"

const describeWorktree = (result: ArchiveResult) => {
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

/** `spindle thread archive <id> [--force]`, `delete <id> [--force]`, `unarchive <id>` */
export const lifecycleCommand = (args: ReadonlyArray<string>, verb: "archive" | "unarchive" | "delete") => {
  const { values, positionals, global } = parse(
    args,
    verb === "unarchive" ? {} : { force: { type: "boolean" } },
    1
  )
  const threadId = positionals[0]!
  const force = values.force === true
  return runWithClient(
    global,
    (client) =>
      Effect.gen(function* () {
        if (force && !global.json) {
          // Say what will be lost before it is.
          const thread = yield* client["thread.get"]({ threadId: threadId as never })
          const entries = yield* client["worktree.list"]({ projectId: thread.projectId })
          const mine = entries.find((e) => e.threadId === thread.id)
          if (mine !== undefined && mine.details.length > 0) {
            process.stderr.write(
              `--force removes ${mine.path} anyway:\n${mine.details.map((d) => `  - ${d}`).join("\n")}\n`
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
      }),
    lifecycleLine(verb === "archive" ? "Archived" : verb === "delete" ? "Deleted" : "Unarchived")
  )
}

const size = (bytes: number | null) =>
  bytes === null
    ? "?"
    : bytes >= 1024 ** 3
      ? `${(bytes / 1024 ** 3).toFixed(1)} GiB`
      : bytes >= 1024 ** 2
        ? `${(bytes / 1024 ** 2).toFixed(1)} MiB`
        : `${Math.ceil(bytes / 1024)} KiB`

const formatEntry = (entry: WorktreeEntry) =>
  [
    `${entry.path}`,
    `  ${entry.state}  ${size(entry.sizeBytes)}  ${entry.threadId === null ? "no thread" : `thread ${entry.threadId} (${entry.threadStatus})`}${entry.branch === null ? "" : `  on ${entry.branch}`}`,
    ...entry.details.map((detail) => `  - ${detail}`),
    `  ${entry.result === undefined ? `would ${entry.action}: ${entry.why}` : `${entry.action}: ${entry.result}`}`
  ].join("\n")

/** `spindle worktrees [--project ID] [--apply]` */
export const worktreesCommand = (args: ReadonlyArray<string>) => {
  const { values, global } = parse(args, { project: { type: "string" }, apply: { type: "boolean" } }, 0)
  const project = str(values, "project") as ProjectId | undefined
  const payload = project === undefined ? {} : { projectId: project }
  const apply = values.apply === true
  return runWithClient(
    global,
    (client) => (apply ? client["worktree.cleanup"](payload) : client["worktree.list"](payload)),
    (entries) => {
      if (entries.length === 0) return "No worktrees under Spindle's root."
      const total = entries.reduce((n, e) => n + (e.sizeBytes ?? 0), 0)
      const removable = entries.filter((e) => e.action === "remove")
      return [
        ...entries.map(formatEntry),
        "",
        `${entries.length} worktree(s), ${size(total)} in all; ${
          apply
            ? `${entries.filter((e) => e.result === "removed" || e.result === "pruned").length} cleaned up.`
            : `${removable.length} can be removed (${size(removable.reduce((n, e) => n + (e.sizeBytes ?? 0), 0))}): run 'spindle worktrees --apply'.`
        }`
      ].join("\n")
    }
  )
}

/** `spindle project remove <id> [--archive-threads]` */
export const projectRemoveCommand = (args: ReadonlyArray<string>) => {
  const { values, positionals, global } = parse(args, { "archive-threads": { type: "boolean" } }, 1)
  const archiveThreads = values["archive-threads"] === true
  return runWithClient(
    global,
    (client) =>
      Effect.map(
        client["orchestration.dispatchCommand"]({
          command: {
            type: "project.remove",
            commandId: commandId("project-remove"),
            projectId: positionals[0]!,
            ...(archiveThreads ? { archiveThreads } : {})
          }
        }),
        (result) => result as ProjectRemoveResult
      ),
    (result) =>
      [
        `Removed project ${result.projectId} (its repository is untouched)`,
        ...result.archived.map(lifecycleLine("  archived"))
      ].join("\n")
  )
}
