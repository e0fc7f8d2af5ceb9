// The environment an agent process gets (the command provider's, an ACP agent's): the setup
// allowlist of the server's own variables and the keys its provider names, the project's
// `setupEnv`, the server's then the project's `agentEnv`, and Spindle's own variables (the thread,
// its worktree, its model, its ports). Never the server's whole environment.
import { portVariables, SETUP_ENV_ALLOWLIST } from "../setup/setupEnvironment.ts"
import type { SessionContext } from "./ProviderAdapter.ts"

export const agentEnvironment = (
  context: SessionContext,
  serverEnv: Readonly<Record<string, string | undefined>>,
  serverAgentEnv: Readonly<Record<string, string>> = {},
  /** Keys of the server's environment this provider's agent needs (its API keys). */
  serverKeys: ReadonlyArray<string> = []
) => {
  const env: Record<string, string> = {}
  for (const name of [...SETUP_ENV_ALLOWLIST, ...serverKeys]) {
    const value = serverEnv[name]
    if (value !== undefined) env[name] = value
  }
  Object.assign(env, context.project.setupEnv, serverAgentEnv, context.project.agentEnv)
  env.SPINDLE_THREAD_ID = context.thread.id
  env.SPINDLE_PROJECT_ROOT = context.project.workspaceRoot
  env.SPINDLE_WORKTREE_PATH = context.worktreePath
  if (context.thread.model !== null) env.SPINDLE_MODEL = context.thread.model
  Object.assign(env, portVariables(context.thread.ports))
  return env
}
