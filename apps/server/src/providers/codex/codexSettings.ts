// How a thread's Codex session is launched: which binary, which `-c` overrides (server's, then the
// project's), how Spindle's MCP endpoint and the session's token reach it (thread config, over
// stdin), and the approval policy and sandbox its runtimeMode asks for. Its environment is
// codexEnvironment.ts's.

import { accessSync, constants, statSync } from "node:fs"
import { delimiter, join } from "node:path"
import { type Project, type RuntimeMode, SpindleError, type ThreadId } from "@spindle/contracts"
import type { ProviderSettings } from "../../config/ServerConfig.ts"
import type { CodexAskForApproval, CodexSandboxMode } from "./codexProtocol.ts"

/** The MCP server name Codex gives Spindle's tools (the model sees them as `mcp__spindle__…`). */
export const MCP_SERVER_NAME = "spindle"

const isExecutable = (path: string) => {
  try {
    if (!statSync(path).isFile()) return false
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** The binary to run: an absolute path as given, or a name found on PATH; undefined when missing. */
export const resolveBinary = (bin: string, path: string | undefined): string | undefined => {
  if (bin.startsWith("/")) return isExecutable(bin) ? bin : undefined
  for (const dir of (path ?? "").split(delimiter)) {
    if (dir === "") continue
    const candidate = join(dir, bin)
    if (isExecutable(candidate)) return candidate
  }
  return undefined
}

export const codexMissing = (threadId: ThreadId, bin: string) =>
  new SpindleError({
    reason: "provider",
    threadId,
    message: bin.startsWith("/")
      ? `The Codex CLI ${bin} does not exist or is not executable. Fix --codex-bin (SPINDLE_CODEX_BIN) or the project's codexBin.`
      : `The Codex CLI '${bin}' is not on the server's PATH. Install it with 'npm install -g @openai/codex', or point Spindle at it with --codex-bin /path/to/codex (SPINDLE_CODEX_BIN).`
  })

/** `app-server` and its `-c` overrides: the server's, then the project's (which win). */
export const codexArgs = (settings: ProviderSettings, project: Project): Array<string> => [
  "app-server",
  ...[...settings.codexConfig, ...project.codexConfig].flatMap((override) => ["-c", override])
]

/**
 * Spindle's MCP endpoint and this session's token, as the `config` of `thread/start` and
 * `thread/resume`: it travels over Codex's stdin, so it is in no command line (`ps`), no environment
 * (which Codex snapshots to `$CODEX_HOME/shell_snapshots` and hands to every command the agent runs)
 * and no file. Dotted keys, so the user's other MCP servers stay as configured.
 */
export const mcpThreadConfig = (mcpUrl: string, token: string): Record<string, unknown> => ({
  [`mcp_servers.${MCP_SERVER_NAME}.url`]: mcpUrl,
  [`mcp_servers.${MCP_SERVER_NAME}.http_headers`]: { Authorization: `Bearer ${token}` },
  // A server from a thread's config starts with the thread, not the app-server: `required` makes
  // Codex wait for it (and fail the start if it cannot connect) rather than run the first turn
  // without Spindle's tools.
  [`mcp_servers.${MCP_SERVER_NAME}.required`]: true,
  // Spindle's own tools are gated by the session's token, not by Codex's approval prompts (which
  // would refuse them outright under approvalPolicy `never`).
  [`mcp_servers.${MCP_SERVER_NAME}.default_tools_approval_mode`]: "approve"
})

/**
 * Codex's own sub-agents off (thread config, which wins over every `-c` and config.toml): a
 * `spawn_agent` child would run in this thread's process and worktree, outside Spindle's limits,
 * tokens and events. t3_thread_start is the one way to start another agent. `multi_agent` is
 * 0.171's default set (multi_agent_v1 tools); `multi_agent_v2` its opt-in successor.
 */
export const NO_CODEX_SUBAGENTS = {
  "features.multi_agent": false,
  "features.multi_agent_v2": false
} as const

/**
 * Codex config pinned for the thread (thread/start's `config`, which wins over every `-c` and the
 * user's config.toml): a sandboxed agent has no network, whatever a project's overrides say, so
 * no workspace-write mode gives a child more than its parent.
 */
const NO_NETWORK = { "sandbox_workspace_write.network_access": false } as const

/**
 * `approval-required` asks for commands and edits (Codex `untrusted`); `auto-accept-edits` asks for
 * commands only (also `untrusted`, with edit requests accepted by Spindle itself); `sandboxed` runs
 * commands without asking inside the sandbox and asks to step outside it (`on-request`); these
 * three write only the worktree, with no network (`workspace-write`). `full-access` asks nothing
 * and leaves the sandbox (`never`, `danger-full-access`).
 */
export const codexPolicy = (
  mode: RuntimeMode
): {
  readonly approvalPolicy: CodexAskForApproval
  readonly sandbox: CodexSandboxMode
  readonly config: Readonly<Record<string, unknown>>
  readonly autoAcceptEdits: boolean
} => {
  switch (mode) {
    case "full-access":
      return { approvalPolicy: "never", sandbox: "danger-full-access", config: {}, autoAcceptEdits: false }
    case "sandboxed":
      return {
        approvalPolicy: "on-request",
        sandbox: "workspace-write",
        config: NO_NETWORK,
        autoAcceptEdits: false
      }
    case "approval-required":
    case "auto-accept-edits":
      return {
        approvalPolicy: "untrusted",
        sandbox: "workspace-write",
        config: NO_NETWORK,
        autoAcceptEdits: mode === "auto-accept-edits"
      }
  }
}

/** What the agent is told about its place in Spindle and about starting other threads. */
export const developerInstructions = (worktreePath: string, branch: string | null, plan = false) =>
  [
    `You are working in a Spindle thread, in the git checkout ${worktreePath}${branch === null ? "" : ` (branch ${branch})`}.`,
    `The MCP server '${MCP_SERVER_NAME}' lets you start other threads: t3_thread_start starts another coding agent in its own git worktree with a first prompt.`,
    "Use t3_thread_start ONLY when the user explicitly asks you to start, spawn or create another thread or agent; never to hand off work on your own initiative.",
    "It returns as soon as the new thread's workspace exists; it does not wait for the other agent's work. When you start one, tell the user its threadId, branch and worktreePath from the result.",
    "t3_thread_status and t3_thread_list show the threads you started and how they are doing.",
    ...(plan
      ? [
          "No one answers request_user_input during a turn in Spindle: ask your questions in your final message and end the turn; the user's reply comes as the next prompt."
        ]
      : [])
  ].join("\n")
