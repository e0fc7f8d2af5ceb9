// `spindle overlaps [--project ID]`: the conflict radar's overlaps between live threads, and the
// lines `thread show` and `thread children` print about them. Thin: one request, a readable
// answer or JSON (--json: one ProjectOverlaps per project, the server's shape).
import {
  type MergeOrderEntry,
  type ProjectId,
  rangeText,
  type ThreadId,
  type ThreadOverlap
} from "@spindle/contracts"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { withClient } from "./connect.ts"
import { idFlag } from "./ids.ts"
import { print } from "./output.ts"

/** One overlap in lines: the other thread (or both), then each file with each side's ranges. */
export const overlapLines = (overlap: ThreadOverlap, from?: ThreadId, indent = "  "): Array<string> => {
  const [a, b] = overlap.threadIds as [ThreadId, ThreadId]
  const head = from === undefined ? `${a} and ${b}` : `with ${from === a ? b : a}`
  return [
    `${indent}${head}: ${overlap.files.length + overlap.filesTruncated} file(s)${overlap.since === undefined ? "" : ` since ${overlap.since}`}`,
    ...overlap.files.map(
      (file) =>
        `${indent}  ${file.path}: ${overlap.threadIds
          .map((id) => `${id} ${(file.ranges[id] ?? []).map(rangeText).join(", ")}`)
          .join("; ")}`
    ),
    ...(overlap.filesTruncated > 0 ? [`${indent}  … and ${overlap.filesTruncated} more file(s)`] : [])
  ]
}

export const mergeOrderLines = (order: ReadonlyArray<MergeOrderEntry>): Array<string> =>
  order.map((entry, i) => `  ${i + 1}. ${entry.threadId}: ${entry.note}`)

export const overlapsCommand = Command.make(
  "overlaps",
  { project: idFlag("project", "project", "Only this project's").pipe(Flag.optional) },
  ({ project }) =>
    Effect.gen(function* () {
      const projects = yield* withClient((client) =>
        client["radar.overlaps"](
          Option.match(project, { onNone: () => ({}), onSome: (id) => ({ projectId: id as ProjectId }) })
        )
      )
      yield* print(projects, (all) => {
        const lines = all.flatMap((entry) =>
          entry.overlaps.length === 0
            ? []
            : [`project ${entry.projectId}:`, ...entry.overlaps.flatMap((o) => overlapLines(o))]
        )
        return lines.length === 0 ? "No live threads overlap." : lines.join("\n")
      })
    })
).pipe(
  Command.withDescription(
    "Live threads whose changes touch the same lines of the same files (the conflict radar); --json: one entry per project"
  )
)
