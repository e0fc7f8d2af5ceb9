// The whole environment of a thread's `codex app-server`: an allowlist of the server's variables
// (what tools need to find themselves, what Codex needs to reach its model), the server's and the
// project's `agentEnv`, and the thread's ports. Codex hands its environment to every command the
// agent runs and snapshots it under CODEX_HOME, so nothing else of the server's (cloud credentials,
// SSH agent, Spindle's settings and tokens) is in it, and the model keys Codex needs are kept from
// the agent's commands by Codex's shell policy. Spindle's session token is never in it: it travels
// in the thread's config (codexSettings.ts mcpThreadConfig).
import { SETUP_ENV_ALLOWLIST } from "../../setup/setupEnvironment.ts"

/**
 * Server variables Codex itself reads: its home, the OpenAI provider's key, endpoint and account
 * headers, the local (`--oss`) provider's endpoint, the certificates it trusts, and proxies (both
 * spellings, as curl and reqwest read them).
 */
export const CODEX_ENV_ALLOWLIST = [
  ...SETUP_ENV_ALLOWLIST,
  "CODEX_HOME",
  "CODEX_SQLITE_HOME",
  "CODEX_API_KEY",
  "OPENAI_API_KEY",
  "OPENAI_BASE_URL",
  "OPENAI_ORGANIZATION",
  "OPENAI_PROJECT",
  "CODEX_OSS_BASE_URL",
  "CODEX_OSS_PORT",
  "CODEX_CA_CERTIFICATE",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "ALL_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "all_proxy",
  "no_proxy"
] as const

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/u
/** `env_key = "NAME"` of a `[model_providers.x]` table in config.toml (a line of its own). */
const ENV_KEY_LINE = /^\s*env_key\s*=\s*["']([A-Za-z_][A-Za-z0-9_]*)["']\s*(?:#.*)?$/gmu
/** `model_providers.x.env_key="NAME"` as a `-c` override. */
const ENV_KEY_OVERRIDE = /^model_providers\.[^=]+\.env_key\s*=\s*["']?([A-Za-z_][A-Za-z0-9_]*)["']?\s*$/u

/**
 * The variables holding the API keys of the model providers the user configured for Codex
 * (`env_key` in CODEX_HOME's config.toml or in a `-c` override): Codex needs them to reach the
 * model the user chose, and they are named by the user, not by the agent.
 */
export const providerKeyNames = (configToml: string, overrides: ReadonlyArray<string>): Array<string> => {
  const names = new Set<string>()
  for (const match of configToml.matchAll(ENV_KEY_LINE)) names.add(match[1]!)
  for (const override of overrides) {
    const name = ENV_KEY_OVERRIDE.exec(override)?.[1]
    if (name !== undefined) names.add(name)
  }
  return [...names].filter((name) => VARIABLE_NAME.test(name))
}

export interface CodexEnvironmentInput {
  /** The server's own environment (with CODEX_HOME set to the server's --codex-home, if any). */
  readonly serverEnv: Readonly<Record<string, string | undefined>>
  /** The text of CODEX_HOME's config.toml ("" when there is none). */
  readonly configToml: string
  /** The server's and the project's `-c` overrides. */
  readonly codexConfig: ReadonlyArray<string>
  /** The server's `--agent-env` (resolved at start), then the project's `agentEnv`, which wins. */
  readonly serverAgentEnv: Readonly<Record<string, string>>
  readonly projectAgentEnv: Readonly<Record<string, string>>
  /** Spindle's own variables for the thread (its ports); they win over everything. */
  readonly spindle: Readonly<Record<string, string>>
}

/** The model credentials Codex reads itself, besides the configured providers' `env_key`s. */
const CODEX_MODEL_KEYS = ["CODEX_API_KEY", "OPENAI_API_KEY"] as const

/**
 * Codex's `shell_environment_policy` for the thread: the model credentials Codex needs for itself
 * stay out of the environment of the agent's commands, and so out of the shell snapshot Codex writes
 * under CODEX_HOME (the policy filters both, as Codex 0.171 does). A credential the user put in an
 * agentEnv is meant for the agent's commands and stays in.
 */
export const shellPolicyConfig = (input: CodexEnvironmentInput): Record<string, unknown> => {
  const given = new Set([...Object.keys(input.serverAgentEnv), ...Object.keys(input.projectAgentEnv)])
  const keys = [...CODEX_MODEL_KEYS, ...providerKeyNames(input.configToml, input.codexConfig)]
  return { "shell_environment_policy.exclude": [...new Set(keys)].filter((name) => !given.has(name)) }
}

export const codexEnvironment = (input: CodexEnvironmentInput): Record<string, string> => {
  const env: Record<string, string> = Object.create(null)
  const names = [...CODEX_ENV_ALLOWLIST, ...providerKeyNames(input.configToml, input.codexConfig)]
  for (const name of names) {
    const value = input.serverEnv[name]
    if (value !== undefined) env[name] = value
  }
  Object.assign(env, input.serverAgentEnv, input.projectAgentEnv, input.spindle)
  return { ...env }
}
