// The conflict radar: where live threads of one project change the same lines, and the order a
// parent's children merge back with the fewest conflicts. Schemas only; the radar itself is the
// server's (apps/server/src/radar).
import * as Schema from "effect/Schema"
import { DiffSummary } from "./children.ts"
import { ProjectId, ThreadId } from "./ids.ts"
import { Thread, type ThreadChanges } from "./thread.ts"
import { IsoTimestamp } from "./values.ts"

/** An overlap names at most this many files (the rest are counted in `filesTruncated`). */
export const MAX_OVERLAP_FILES = 50
/** Each thread's side of an overlapping file lists at most this many ranges. */
export const MAX_OVERLAP_RANGES = 20
/** `end` of a range that stands for the whole file (a binary file). */
export const WHOLE_FILE_END = 2_147_483_647

export const LineRange = Schema.Struct({
  /** First line of the file at the thread's fork point that the change replaces (1-based). */
  start: Schema.Int,
  /**
   * Last line it replaces (inclusive). A pure insertion has `end = start - 1`: it goes between
   * lines `end` and `start`. A new file is `{start: 1, end: 0}`; a binary file `{start: 1, end:
   * WHOLE_FILE_END}`.
   */
  end: Schema.Int
}).annotate({ identifier: "LineRange" })
export type LineRange = typeof LineRange.Type

/** A range in words: "12-14", "before 7" (a pure insertion), "new file", "whole file". */
export const rangeText = (range: LineRange): string =>
  range.end >= WHOLE_FILE_END
    ? "whole file"
    : range.start === 1 && range.end === 0
      ? "new file"
      : range.end < range.start
        ? `before ${range.start}`
        : range.start === range.end
          ? `${range.start}`
          : `${range.start}-${range.end}`

export const OverlapFile = Schema.Struct({
  path: Schema.String,
  /** Each thread's changed ranges in this file that meet the other's, by thread id. */
  ranges: Schema.Record(Schema.String, Schema.Array(LineRange))
}).annotate({ identifier: "OverlapFile" })
export type OverlapFile = typeof OverlapFile.Type

/**
 * Two live threads of one project that change the same file at overlapping or adjacent lines
 * (committed or not, untracked files included, against each one's fork point).
 */
export const ThreadOverlap = Schema.Struct({
  /** The two threads, in id order. */
  threadIds: Schema.Array(ThreadId),
  files: Schema.Array(OverlapFile),
  /** Overlapping files past MAX_OVERLAP_FILES, not listed. */
  filesTruncated: Schema.Int,
  /** When this pair's overlap appeared (as recorded), if known. */
  since: Schema.optionalKey(IsoTimestamp)
}).annotate({ identifier: "ThreadOverlap" })
export type ThreadOverlap = typeof ThreadOverlap.Type

/** One child in the suggested merge order. */
export const MergeOrderEntry = Schema.Struct({
  threadId: ThreadId,
  /** Siblings whose changes overlap this one's (footprints, committed or not). */
  overlapsWith: Schema.Array(ThreadId),
  /** Siblings whose branch a trial merge (committed work) finds in conflict with this one's. */
  conflictsWith: Schema.Array(ThreadId),
  /** Why it stands where it does, in a few words. */
  note: Schema.String
}).annotate({ identifier: "MergeOrderEntry" })
export type MergeOrderEntry = typeof MergeOrderEntry.Type

export const RadarChild = Schema.Struct({
  thread: Thread,
  /** Files and commits against its base; null without a worktree or base. */
  diff: Schema.NullOr(DiffSummary)
})
export type RadarChild = typeof RadarChild.Type

/** A parent's live children with their changes, the overlaps among them and the suggested merge order. */
export const ThreadChildrenRadar = Schema.Struct({
  threadId: ThreadId,
  children: Schema.Array(RadarChild),
  overlaps: Schema.Array(ThreadOverlap),
  mergeOrder: Schema.Array(MergeOrderEntry)
}).annotate({ identifier: "ThreadChildrenRadar" })
export type ThreadChildrenRadar = typeof ThreadChildrenRadar.Type

export const ProjectOverlaps = Schema.Struct({
  projectId: ProjectId,
  overlaps: Schema.Array(ThreadOverlap)
}).annotate({ identifier: "ProjectOverlaps" })
export type ProjectOverlaps = typeof ProjectOverlaps.Type

/** "3 files +40 -2": a thread's changes in a few words (the CLI and the board say it alike). */
export const changesText = (changes: ThreadChanges): string =>
  `${changes.files} file${changes.files === 1 ? "" : "s"} +${changes.insertions} -${changes.deletions}`
