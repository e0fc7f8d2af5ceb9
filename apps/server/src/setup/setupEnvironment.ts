// The whole environment a setup script gets: a short allowlist of the server's own variables,
// the project's `setupEnv`, and the variables Spindle sets for the run. Nothing else of the
// server's environment (tokens, credentials, SPINDLE_* settings) ever reaches the script.
import type { SetupRequest } from "./setupModel.ts"

/** The server variables a setup script inherits: what tools need to find themselves and speak. */
export const SETUP_ENV_ALLOWLIST = [
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "LANG",
  "LANGUAGE",
  "LC_ALL",
  "LC_CTYPE",
  "TERM",
  "TMPDIR",
  "TZ"
] as const

/** SPINDLE_PORT (the block's first port) and SPINDLE_PORT_COUNT, for the setup script and the agent. */
export const portVariables = (
  ports: { readonly first: number; readonly count: number } | null
): Record<string, string> =>
  ports === null ? {} : { SPINDLE_PORT: String(ports.first), SPINDLE_PORT_COUNT: String(ports.count) }

/** Allowlisted server variables, then the project's additions, then Spindle's own (which win). */
export const setupEnvironment = (
  request: SetupRequest,
  serverEnv: Readonly<Record<string, string | undefined>>
): Record<string, string> => {
  const env: Record<string, string> = Object.create(null)
  for (const name of SETUP_ENV_ALLOWLIST) {
    const value = serverEnv[name]
    if (value !== undefined) env[name] = value
  }
  for (const [name, value] of Object.entries(request.setupEnv ?? {})) env[name] = value
  env.SPINDLE_PROJECT_ROOT = request.projectRoot
  env.SPINDLE_WORKTREE_PATH = request.worktreePath
  env.SPINDLE_THREAD_ID = request.threadId
  env.SPINDLE_BRANCH = request.branch ?? ""
  env.T3CODE_PROJECT_ROOT = request.projectRoot
  env.T3CODE_WORKTREE_PATH = request.worktreePath
  Object.assign(env, portVariables(request.ports ?? null))
  return { ...env }
}
