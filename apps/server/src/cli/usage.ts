// Parsing of the `spindle` command line into settings, with usage errors that say what to type.
import { parseArgs } from "node:util"
import {
  DEFAULT_HOST,
  DEFAULT_LIMITS,
  DEFAULT_PORT,
  DEFAULT_PROVIDER_SETTINGS,
  type LogFormat,
  type LogLevel,
  resolveHome,
  type ServerSettings
} from "../config/ServerConfig.ts"

export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3, timeout: 4 } as const

export class UsageError extends Error {
  override readonly name = "UsageError"
}

export const HELP = `spindle: thread orchestration server for coding agents

Usage:
  spindle serve [options]     run the server (also: npm start)
  spindle project add <path> [--id ID] [--title T] [--setup-script CMD] [--setup-timeout S] [--default-branch B]
                       [--setup-env NAME=VALUE ...] [--default-provider codex|command] [--default-model M]
                       [--agent-command 'my-agent --print {prompt}'] [--codex-bin PATH] [--codex-config KEY=VALUE ...]
  spindle project update <id> [--title T] [--setup-script CMD | --clear-setup-script] [--setup-timeout S]
                       [--default-branch B] [--setup-env NAME=VALUE ... (replaces the set) | --clear-setup-env]
                       lifecycle (add and update): [--pool-size N] [--port-count N]
                       [--remove-archived-after DAYS|never] [--flag-idle-after DAYS|never]
  spindle project remove <id> [--archive-threads]
                       unregister it (refused while it has active threads unless --archive-threads)
  spindle project list
  spindle thread start --project ID --prompt TEXT [--mode new_worktree|existing_worktree|current_checkout]
                       [--branch B] [--base B | --pr N] [--worktree PATH] [--title T] [--thread-id ID]
                       [--provider codex|command] [--model M] [--runtime-mode approval-required|auto-accept-edits|full-access]
                       [--setup | --no-setup] [--attach FILE ...] [--follow]
                       --attach gives an image or text file with the first prompt (up to 8);
                       --follow shows the workspace, setup output, the agent's messages, commands, file
                       changes and approval requests until the turn ends (exit 1 if it fails)
  spindle thread list | show <id> | logs <id> [--follow]
  spindle thread send <id> --prompt TEXT [--follow]
                       the next turn; into the running turn when the agent can take it (Codex)
  spindle thread interrupt <id>
  spindle thread archive <id> [--force]
                       stop its agent, free its ports, remove its worktree and branch when nothing
                       would be lost (else keep them and say why; --force discards uncommitted work)
  spindle thread unarchive <id>   active again; a removed worktree is checked out again
  spindle thread delete <id> [--force]   archive it and hide it from lists (its events stay)
  spindle thread path <id>        its worktree's path (cd "$(spindle thread path ID)")
  spindle thread stop <id> [--archive]
  spindle thread wait <id>... [--any] [--for turn-completed|setup-completed|needs-approval] [--timeout S]
                       exit 0 once they reached it, 4 on timeout
  spindle thread children <id>   the threads it started, as a tree
  spindle thread diff <id>       its full patch against its base
  spindle thread approve <id> [<request>] [--for-session] | decline <id> [<request>]
                       answer what the agent asks (the request may be left out when only one waits)
  spindle setup rerun <thread> [--follow]
  spindle worktrees [--project ID] [--apply]
                       every worktree under <home>/worktrees: thread, size, state, what cleanup
                       would do; --apply does it (never touching uncommitted or unpushed work)
  spindle token create [--name N] --scope read|operate|admin ... [--expires-in SECONDS]
  spindle token list          client and provider tokens: kind, id, name or thread, scopes, expiry, state
  spindle token revoke <id> [--force]
                       revoke a client (tok_…) or provider (ptk_…) token; the owner token needs --force
  spindle token rotate-owner  write a new owner token to <home>/owner-token, then revoke the old one
  spindle token issue-mcp --thread ID [--capability thread-management|thread-read ...]
                       a provider token for an agent working in that thread (connects Codex by hand)
  spindle open [--no-browser]  sign a browser in to the web board: prints (and opens) a link that works
                       once, within a minute
  spindle help                show this help

Client commands find the server through --url, SPINDLE_URL or <home>/server.json, and
authenticate with --token, SPINDLE_TOKEN or <home>/owner-token (<home>: --home, SPINDLE_HOME,
~/.spindle). --json prints machine-readable results.

Options for serve (flags win over environment variables):
  --host <addr>          address to bind (SPINDLE_HOST, default ${DEFAULT_HOST})
  --port <n>             port, 0 for any free one (SPINDLE_PORT, default ${DEFAULT_PORT})
  --home <dir>           state directory (SPINDLE_HOME, default ~/.spindle)
  --log-level <level>    debug | info | warn | error (SPINDLE_LOG_LEVEL, default info)
  --log-format <format>  pretty | json (SPINDLE_LOG_FORMAT, default pretty)
  --allow-origin <url>   let a browser origin reach the server (repeatable)
  --max-bootstraps-per-project <n>
                         bootstraps at once in one project (SPINDLE_MAX_BOOTSTRAPS_PER_PROJECT, default ${DEFAULT_LIMITS.bootstrapsPerProject})
  --max-threads-per-project <n>
                         active threads in one project (SPINDLE_MAX_THREADS_PER_PROJECT, default ${DEFAULT_LIMITS.activeThreadsPerProject})
  --providers on|off     run threads' turns with their agent (SPINDLE_PROVIDERS, default on); off
                         records turns as requested and runs nothing
  --thread-ports <first-last>
                         ports thread blocks come from (SPINDLE_THREAD_PORTS, default 20000-32767)
  --codex-bin <path>     the Codex CLI (SPINDLE_CODEX_BIN, default codex on PATH)
  --codex-config <KEY=VALUE>
                         a Codex config override, as codex -c takes it (repeatable; SPINDLE_CODEX_CONFIG,
                         one per line); how you pick a model provider, e.g. a local model or a proxy

Exit codes: 0 success, 1 failure, 2 bad usage, 3 server unreachable or unauthorized, 4 timed out
(thread wait).
`

/** A newline-separated environment variable as a list (blank lines dropped). */
const splitLines = (value: string | undefined): Array<string> =>
  (value ?? "")
    .split(/\r?\n/u)
    .map((line) => line.trim())
    .filter((line) => line !== "")

const oneOf = <T extends string>(name: string, value: string, allowed: ReadonlyArray<T>): T => {
  if ((allowed as ReadonlyArray<string>).includes(value)) return value as T
  throw new UsageError(`${name} must be one of ${allowed.join(", ")} (got '${value}').`)
}

const parsePort = (value: string): number => {
  const port = Number(value)
  if (!/^\d+$/.test(value) || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new UsageError(`--port must be a number from 0 to 65535 (got '${value}'); 0 picks a free port.`)
  }
  return port
}

const parsePortRange = (value: string) => {
  const match = /^(\d{1,5})-(\d{1,5})$/.exec(value)
  const first = Number(match?.[1])
  const last = Number(match?.[2])
  if (match === null || first < 1024 || last > 65_535 || last - first < 99) {
    throw new UsageError(
      `--thread-ports takes FIRST-LAST, from 1024 to 65535 and at least 100 ports (got '${value}'), e.g. 20000-32767.`
    )
  }
  return { first, last }
}

const parseLimit = (name: string, value: string | undefined, fallback: number): number => {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < 1 || n > 100_000) {
    throw new UsageError(`${name} must be a whole number from 1 to 100000 (got '${value}').`)
  }
  return n
}

export const parseServeArgs = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv): ServerSettings => {
  let parsed: ReturnType<typeof parse>
  function parse() {
    return parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: "string" },
        port: { type: "string" },
        home: { type: "string" },
        "log-level": { type: "string" },
        "log-format": { type: "string" },
        "allow-origin": { type: "string", multiple: true },
        "max-bootstraps-per-project": { type: "string" },
        "max-threads-per-project": { type: "string" },
        providers: { type: "string" },
        "codex-bin": { type: "string" },
        "codex-config": { type: "string", multiple: true },
        "thread-ports": { type: "string" }
      }
    })
  }
  try {
    parsed = parse()
  } catch (error) {
    throw new UsageError(`${(error as Error).message}. Run 'spindle help' for the options.`)
  }
  const { values } = parsed
  const codexConfig = values["codex-config"] ?? splitLines(env.SPINDLE_CODEX_CONFIG)
  for (const override of codexConfig) {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.\-"]*=/u.test(override)) {
      throw new UsageError(
        `--codex-config takes KEY=VALUE (a Codex config key, then its TOML value), got '${override}'. Example: --codex-config 'model="gpt-5-codex"'.`
      )
    }
  }
  const host = values.host ?? env.SPINDLE_HOST ?? DEFAULT_HOST
  const threadPorts = values["thread-ports"] ?? env.SPINDLE_THREAD_PORTS
  const portText = values.port ?? env.SPINDLE_PORT
  return {
    host,
    port: portText === undefined ? DEFAULT_PORT : parsePort(portText),
    home: resolveHome(values.home, env),
    logLevel: oneOf<LogLevel>("--log-level", values["log-level"] ?? env.SPINDLE_LOG_LEVEL ?? "info", [
      "debug",
      "info",
      "warn",
      "error"
    ]),
    logFormat: oneOf<LogFormat>("--log-format", values["log-format"] ?? env.SPINDLE_LOG_FORMAT ?? "pretty", [
      "pretty",
      "json"
    ]),
    allowedOrigins: values["allow-origin"] ?? [],
    ...(threadPorts === undefined ? {} : { threadPorts: parsePortRange(threadPorts) }),
    providers: {
      enabled:
        oneOf("--providers", values.providers ?? env.SPINDLE_PROVIDERS ?? "on", ["on", "off"] as const) ===
        "on",
      codexBin: values["codex-bin"] ?? env.SPINDLE_CODEX_BIN ?? DEFAULT_PROVIDER_SETTINGS.codexBin,
      codexConfig
    },
    limits: {
      bootstrapsPerProject: parseLimit(
        "--max-bootstraps-per-project",
        values["max-bootstraps-per-project"] ?? env.SPINDLE_MAX_BOOTSTRAPS_PER_PROJECT,
        DEFAULT_LIMITS.bootstrapsPerProject
      ),
      activeThreadsPerProject: parseLimit(
        "--max-threads-per-project",
        values["max-threads-per-project"] ?? env.SPINDLE_MAX_THREADS_PER_PROJECT,
        DEFAULT_LIMITS.activeThreadsPerProject
      ),
      spawnDepth: DEFAULT_LIMITS.spawnDepth,
      childrenPerThread: DEFAULT_LIMITS.childrenPerThread
    }
  }
}
