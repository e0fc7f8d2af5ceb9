// What each runtime mode lets a thread's agent do on the host, in the words `--help`, `thread start`
// and `project show` use; the modes themselves are the contracts' (a type import only, so the CLI's
// cold start does not load the contracts barrel).
import type { RuntimeMode, Thread } from "@spindle/contracts"

const SUMMARY: Record<RuntimeMode, string> = {
  "approval-required": "asks before each command and each file edit; commands run in the sandbox",
  "auto-accept-edits": "edits files freely, asks before each command; commands run in the sandbox",
  sandboxed:
    "runs commands freely in a sandbox that writes only its worktree and temp dirs, with no network; asks to step outside",
  "full-access": "runs anything as you, anywhere, with the network; never asks"
}

/** Least to most the agent may do without asking. */
export const RUNTIME_MODES = Object.keys(SUMMARY) as ReadonlyArray<RuntimeMode>

/** A flag's help: what it sets, then each mode and what it lets the agent do. */
export const runtimeModeHelp = (what: string) =>
  `${what}. ${RUNTIME_MODES.map((mode) => `${mode}: ${SUMMARY[mode]}`).join(". ")}. The command provider has no sandbox and no approvals, whatever the mode.`

/** One line on what a thread's agent may do, as `thread start` prints it. */
export const agentRights = (thread: Pick<Thread, "provider" | "runtimeMode">) =>
  thread.provider === "command"
    ? "command agent: no sandbox, no approvals (full access)"
    : `${thread.runtimeMode}: ${SUMMARY[thread.runtimeMode]}`

/** What a mode lets the agent do, for `project show`. */
export const modeSummary = (mode: RuntimeMode) => SUMMARY[mode]
