// The snapshot a client reads: every live project and thread as of one sequence.
import * as Schema from "effect/Schema"
import { Sequence } from "./ids.ts"
import { Project } from "./project.ts"
import { Thread } from "./thread.ts"

export const Snapshot = Schema.Struct({
  /** The sequence of the last event applied to this snapshot. */
  sequence: Sequence,
  projects: Schema.Array(Project),
  threads: Schema.Array(Thread)
}).annotate({ identifier: "Snapshot" })
export type Snapshot = typeof Snapshot.Type

/** What `dispatch` answers for an accepted command. */
export const DispatchResult = Schema.Struct({
  /** The sequence of the last event the command produced (or of the log, if it produced none). */
  sequence: Sequence
}).annotate({ identifier: "DispatchResult" })
export type DispatchResult = typeof DispatchResult.Type
