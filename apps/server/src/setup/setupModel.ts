// The values the setup service takes and hands back. Types only: no behaviour lives here.
import type { ThreadId } from "@spindle/contracts"
import type * as Stream from "effect/Stream"

export interface SetupRequest {
  readonly threadId: ThreadId
  /** The project's repository root, exported as SPINDLE_PROJECT_ROOT. */
  readonly projectRoot: string
  /** The thread's worktree: the script's working directory, exported as SPINDLE_WORKTREE_PATH. */
  readonly worktreePath: string
  /** Exported as SPINDLE_BRANCH ("" when the worktree has no branch). */
  readonly branch: string | null
  /**
   * The script's text, run with /bin/sh from a copy under the logs dir; null runs nothing
   * (`no-script`). Which text that is (setting or committed file) is the caller's choice.
   */
  readonly script: string | null
  /** The project's extra variables; see setupEnvironment.ts for everything the script gets. */
  readonly setupEnv?: Readonly<Record<string, string>>
  /** The thread's ports, exported as SPINDLE_PORT (the first) and SPINDLE_PORT_COUNT. */
  readonly ports?: { readonly first: number; readonly count: number } | null
  /** Projects default to DEFAULT_SETUP_TIMEOUT_SECONDS (900). */
  readonly timeoutSeconds: number
  /** The run's number, as recorded on the thread; defaults to one past the last run seen for it. */
  readonly run?: number
}

export type SetupRunStatus = "succeeded" | "failed" | "timed-out" | "cancelled" | "no-script"

export interface SetupResult {
  readonly status: SetupRunStatus
  /** Null when the script was ended by a signal or never started. */
  readonly exitCode: number | null
  /** The signal that ended the script, e.g. "SIGTERM". */
  readonly signal: string | null
  readonly durationMs: number
  /** The last 8 KiB of output. */
  readonly logTail: string
  /** Null when nothing ran (`no-script`). */
  readonly logPath: string | null
  readonly run: number
}

export type OutputStream = "stdout" | "stderr"

export interface SetupLine {
  readonly run: number
  readonly stream: OutputStream
  readonly line: string
}

/** A consistent view of a thread's setup output: the file up to a point, then every later line once. */
export interface SetupFollow {
  /** The run in progress when following started; null if none was (lines then come from the next run). */
  readonly run: number | null
  /** The run's log file as written so far. */
  readonly logSoFar: string
  /** Lines after `logSoFar`, ending when the run ends. */
  readonly lines: Stream.Stream<SetupLine>
}
