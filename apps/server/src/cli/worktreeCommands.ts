// `spindle worktrees [--project ID] [--apply]`: every worktree under <home>/worktrees with its
// thread, size, state and what cleanup would do; --apply does it.
import type { ProjectId, WorktreeEntry } from "@spindle/contracts"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { withClient } from "./connect.ts"
import { idFlag } from "./ids.ts"
import { print } from "./output.ts"

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

export const worktreesCommand = Command.make(
  "worktrees",
  {
    project: idFlag("project", "project", "Only this project's").pipe(Flag.optional),
    apply: Flag.Boolean("apply").pipe(
      Flag.withDescription("Do the cleanup (never touching uncommitted or unpushed work)"),
      Flag.withDefault(false)
    )
  },
  ({ project, apply }) =>
    Effect.gen(function* () {
      const payload = Option.match(project, {
        onNone: () => ({}),
        onSome: (id) => ({ projectId: id as ProjectId })
      })
      const entries = yield* withClient((client) =>
        apply ? client["worktree.cleanup"](payload) : client["worktree.list"](payload)
      )
      yield* print(entries, (entries) => {
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
      })
    })
).pipe(
  Command.withDescription("Every worktree under <home>/worktrees: thread, size, state, what cleanup would do")
)
