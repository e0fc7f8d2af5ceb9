// The ACP agents Spindle knows by name, and how a thread's provider becomes a command to run. A
// preset names the program (found on PATH or in the project's node_modules/.bin), the environment
// keys it needs from the server's environment (its API keys, its own settings), and the session
// mode each runtime mode maps to where the agent has modes. `acp` runs the project's own agent
// command (`acpAgent`); a preset uses the project's `acpAgent` too when one is set, so a project
// can point `claude` at a wrapper.
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import type { Project, ProviderKind, RuntimeMode } from "@spindle/contracts"
import { SpindleError } from "@spindle/contracts"
import { findUpwards } from "@spindle/shared/fs"

export type AcpProvider = Extract<ProviderKind, "acp" | "claude" | "gemini" | "opencode" | "codex-acp">

export const ACP_PROVIDERS: ReadonlyArray<AcpProvider> = ["acp", "claude", "gemini", "opencode", "codex-acp"]

export const isAcpProvider = (kind: ProviderKind): kind is AcpProvider =>
  (ACP_PROVIDERS as ReadonlyArray<string>).includes(kind)

export interface AcpPreset {
  /** The program and its arguments. */
  readonly argv: ReadonlyArray<string>
  /** What installs it, for the error when it is missing. */
  readonly install: string
  /** Keys of the server's environment the agent gets (beyond the setup allowlist). */
  readonly envKeys: ReadonlyArray<string>
  /** The agent's session mode for each runtime mode, where it has modes (session/set_mode). */
  readonly modes: Partial<Record<RuntimeMode, string>>
  /**
   * A script of Spindle's (`apps/server/bin/<name>`) that runs the program in its own process with
   * a change, when the preset's own program runs (not a project's `acpAgent`).
   */
  readonly wrapper?: string
}

export const ACP_PRESETS: Readonly<Record<Exclude<AcpProvider, "acp">, AcpPreset>> = {
  claude: {
    argv: ["claude-code-acp"],
    install: "npm install -g @zed-industries/claude-code-acp",
    // Keeps the session's token off the Claude Code CLI's command line (see the script).
    wrapper: "claude-acp.mjs",
    envKeys: [
      "ANTHROPIC_API_KEY",
      "ANTHROPIC_AUTH_TOKEN",
      "ANTHROPIC_BASE_URL",
      "ANTHROPIC_MODEL",
      "CLAUDE_CONFIG_DIR",
      "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC",
      "CLAUDE_CODE_DISABLE_FAST_MODE",
      "CLAUDE_CODE_MAX_RETRIES",
      "CLAUDE_CODE_EXECUTABLE",
      "CLAUDE_CODE_USE_BEDROCK",
      "CLAUDE_CODE_USE_VERTEX",
      "DISABLE_TELEMETRY",
      "DISABLE_AUTOUPDATER",
      "DISABLE_ERROR_REPORTING"
    ],
    modes: {
      "approval-required": "default",
      "auto-accept-edits": "acceptEdits",
      sandboxed: "default",
      "full-access": "bypassPermissions"
    }
  },
  gemini: {
    argv: ["gemini", "--experimental-acp"],
    install: "npm install -g @google/gemini-cli",
    envKeys: [
      "GEMINI_API_KEY",
      "GOOGLE_API_KEY",
      "GOOGLE_CLOUD_PROJECT",
      "GOOGLE_GENAI_USE_VERTEXAI",
      "GEMINI_MODEL"
    ],
    modes: {}
  },
  opencode: {
    argv: ["opencode", "acp"],
    install: "npm install -g opencode-ai",
    envKeys: [
      "ANTHROPIC_API_KEY",
      "OPENAI_API_KEY",
      "GEMINI_API_KEY",
      "OPENROUTER_API_KEY",
      "OPENCODE_CONFIG"
    ],
    modes: {}
  },
  "codex-acp": {
    argv: ["codex-acp"],
    install: "npm install -g @zed-industries/codex-acp",
    envKeys: ["OPENAI_API_KEY", "CODEX_HOME", "OPENAI_BASE_URL"],
    modes: {}
  }
}

/**
 * A script in `apps/server/bin`, found from this module upwards: from the sources and from the
 * CLI's bundle (apps/server/dist/<build>) alike.
 */
export const serverBinScript = (name: string): string =>
  findUpwards(dirname(fileURLToPath(import.meta.url)), join("apps", "server", "bin", name)) ??
  fileURLToPath(new URL(`../../../bin/${name}`, import.meta.url))

/** The command a thread of `project` runs for `provider`, or why there is none. */
export const acpCommand = (
  provider: AcpProvider,
  project: Project
): { readonly argv: ReadonlyArray<string>; readonly preset: AcpPreset | undefined } | SpindleError => {
  if (provider === "acp") {
    if (project.acpAgent !== null) return { argv: project.acpAgent, preset: undefined }
    return new SpindleError({
      reason: "validation",
      projectId: project.id,
      field: "provider",
      message: `Project ${project.id} has no ACP agent command, so the acp provider cannot run there. Set one with 'spindle project update ${project.id} --acp-agent "gemini --experimental-acp"', or pick a preset: --provider claude, gemini, opencode or codex-acp.`
    })
  }
  const preset = ACP_PRESETS[provider]
  return { argv: project.acpAgent ?? preset.argv, preset }
}
