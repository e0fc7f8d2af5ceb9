// The settings of `spindle serve`, each from its flag, else its environment variable, else
// <home>/config.json (checked against the contracts' ServerConfigFile), else the default; with
// errors that name the flag, variable or key at fault and what it takes. Loaded only by `serve`.
import { existsSync, readFileSync } from "node:fs"
import { delimiter, isAbsolute, join, resolve } from "node:path"
import { AgentEnv, ServerConfigFile } from "@spindle/contracts"
import { describeIssue } from "@spindle/shared/schemaIssue"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import {
  DEFAULT_HOST,
  DEFAULT_LIMITS,
  DEFAULT_PORT,
  DEFAULT_PROVIDER_SETTINGS,
  type LogFormat,
  type LogLevel,
  type ServerSettings
} from "../config/ServerConfig.ts"
import { DEFAULT_SESSION_IDLE_TIMEOUT_MS } from "../providers/idleSessions.ts"
import { DEFAULT_TURN_STALL_INTERRUPT_MS, DEFAULT_TURN_STALL_TIMEOUT_MS } from "../providers/turnWatchdog.ts"
import { parseDurationSetting } from "./durationSetting.ts"
import { CliFailure, EXIT, usageError } from "./errors.ts"

/** The flags as given (strings, lists), before any checking. */
export interface ServeFlags {
  readonly host?: string | undefined
  readonly port?: string | undefined
  readonly logLevel?: string | undefined
  readonly logFormat?: string | undefined
  readonly allowOrigin: ReadonlyArray<string>
  readonly worktreeRoot?: ReadonlyArray<string> | undefined
  readonly maxBootstrapsPerProject?: string | undefined
  readonly maxThreadsPerProject?: string | undefined
  readonly providers?: string | undefined
  readonly threadPorts?: string | undefined
  readonly codexBin?: string | undefined
  readonly codexConfig: ReadonlyArray<string>
  readonly agentEnv: ReadonlyArray<string>
  readonly turnStallTimeout?: string | undefined
  readonly turnStallInterrupt?: string | undefined
  readonly sessionIdleTimeout?: string | undefined
}

/** A newline-separated environment variable as a list (blank lines dropped). */
const splitLines = (value: string | undefined) =>
  value === undefined
    ? undefined
    : value
        .split(/\r?\n/u)
        .map((line) => line.trim())
        .filter((line) => line !== "")

class Bad extends Error {}

const oneOf = <T extends string>(name: string, value: string, allowed: ReadonlyArray<T>): T => {
  if ((allowed as ReadonlyArray<string>).includes(value)) return value as T
  throw new Bad(`${name} must be one of ${allowed.join(", ")} (got '${value}').`)
}

const parsePort = (name: string, value: string | number): number => {
  const text = String(value)
  const port = Number(text)
  if (!/^\d+$/.test(text) || port > 65_535) {
    throw new Bad(`${name} must be a number from 0 to 65535 (got '${text}'); 0 picks a free port.`)
  }
  return port
}

const parsePortRange = (name: string, value: string) => {
  const match = /^(\d{1,5})-(\d{1,5})$/.exec(value)
  const first = Number(match?.[1])
  const last = Number(match?.[2])
  if (match === null || first < 1024 || last > 65_535 || last - first < 99) {
    throw new Bad(
      `${name} takes FIRST-LAST, from 1024 to 65535 and at least 100 ports (got '${value}'), e.g. 20000-32767.`
    )
  }
  return { first, last }
}

/** Directories worktrees may be adopted from: absolute, as given; made canonical (no `..`, no trailing `/`). */
const parseRoots = (name: string, roots: ReadonlyArray<string>) =>
  roots.map((root) => {
    if (!isAbsolute(root)) {
      throw new Bad(`${name} takes absolute directories (got '${root}'), e.g. /home/me/worktrees.`)
    }
    if (resolve(root) === "/") {
      throw new Bad(`${name} cannot be '/': that would let agents adopt any folder of the machine.`)
    }
    return resolve(root)
  })

const parseLimit = (name: string, value: string | number): number => {
  const text = String(value)
  const n = Number(text)
  if (!/^\d+$/.test(text) || n < 1 || n > 100_000) {
    throw new Bad(`${name} must be a whole number from 1 to 100000 (got '${text}').`)
  }
  return n
}

/**
 * `--agent-env` entries: NAME=VALUE sets a variable, a bare NAME passes the server's own value (so a
 * secret such as a model provider's key never lands in a flag or the event log); names and values as
 * a project's agentEnv takes them.
 */
const parseAgentEnv = (name: string, entries: ReadonlyArray<string>, env: NodeJS.ProcessEnv) => {
  const agentEnv: Record<string, string> = {}
  for (const entry of entries) {
    const at = entry.indexOf("=")
    const variable = at < 0 ? entry : entry.slice(0, at)
    const value = at < 0 ? env[variable] : entry.slice(at + 1)
    if (value === undefined) {
      throw new Bad(
        `${name} ${variable} passes the server's own ${variable}, which is not set. Set it before starting the server, or give ${variable}=VALUE.`
      )
    }
    if (Object.hasOwn(agentEnv, variable)) throw new Bad(`${name} sets ${variable} twice.`)
    Object.defineProperty(agentEnv, variable, { value, enumerable: true, writable: true })
  }
  const checked = Schema.decodeUnknownResult(AgentEnv)(agentEnv)
  if (checked._tag === "Failure") {
    throw new Bad(`${name}: ${describeIssue(checked.failure.issue).message}.`)
  }
  return agentEnv
}

/** <home>/config.json, checked; {} when there is none. */
const readConfigFile = (home: string) =>
  Effect.gen(function* () {
    const path = join(home, "config.json")
    if (!existsSync(path)) return {} as ServerConfigFile
    const fail = (message: string) =>
      new CliFailure({
        code: EXIT.usage,
        reason: "bad-config",
        message: `${path}: ${message}`,
        details: { path }
      })
    const text = yield* Effect.try({
      try: () => JSON.parse(readFileSync(path, "utf8")) as unknown,
      catch: (error) => fail(`not valid JSON (${(error as Error).message}). Fix it or remove the file.`)
    })
    return yield* Schema.decodeUnknownEffect(ServerConfigFile)(text, { onExcessProperty: "error" }).pipe(
      Effect.mapError((error) => {
        const { field, message } = describeIssue(error.issue)
        const known = Object.keys(ServerConfigFile.fields).join(", ")
        return fail(
          field === ""
            ? `${message}. It takes an object with the keys ${known}.`
            : `key '${field}': ${message.replace(`${field}: `, "")}. Known keys: ${known}.`
        )
      })
    )
  })

/** One setting from its flag, else its environment variable, else the file. */
const pick = <F>(flag: string | undefined, env: string | undefined, file: F | undefined) =>
  flag !== undefined
    ? { value: flag as string | F, from: "flag" as const }
    : env !== undefined
      ? { value: env as string | F, from: "env" as const }
      : file !== undefined
        ? { value: file as string | F, from: "file" as const }
        : undefined

export const resolveServeSettings = (flags: ServeFlags, home: string, env: NodeJS.ProcessEnv) =>
  Effect.gen(function* () {
    const file = yield* readConfigFile(home)
    return yield* Effect.try({
      try: (): ServerSettings => {
        const label = (flag: string, variable: string, key: string, from: "flag" | "env" | "file") =>
          from === "flag" ? flag : from === "env" ? variable : `config.json key '${key}'`
        const setting = <F>(
          flag: string,
          variable: string,
          key: string,
          given: string | undefined,
          fromFile: F | undefined
        ) => {
          const chosen = pick(given, env[variable], fromFile)
          return chosen === undefined
            ? undefined
            : { value: chosen.value, name: label(flag, variable, key, chosen.from) }
        }
        const codexConfig =
          flags.codexConfig.length > 0
            ? flags.codexConfig
            : (splitLines(env.SPINDLE_CODEX_CONFIG) ?? file.codexConfig ?? [])
        for (const override of codexConfig) {
          if (!/^[A-Za-z0-9_][A-Za-z0-9_.\-"]*=/u.test(override)) {
            throw new Bad(
              `--codex-config takes KEY=VALUE (a Codex config key, then its TOML value), got '${override}'. Example: --codex-config 'model="gpt-5-codex"'.`
            )
          }
        }
        const worktreeRoots =
          (flags.worktreeRoot ?? []).length > 0
            ? { value: flags.worktreeRoot ?? [], name: "--worktree-root" }
            : env.SPINDLE_WORKTREE_ROOTS !== undefined
              ? {
                  value: env.SPINDLE_WORKTREE_ROOTS.split(delimiter).filter((root) => root !== ""),
                  name: "SPINDLE_WORKTREE_ROOTS"
                }
              : file.worktreeRoots !== undefined
                ? { value: file.worktreeRoots, name: "config.json key 'worktreeRoots'" }
                : undefined
        const agentEnvFrom =
          flags.agentEnv.length > 0
            ? { entries: flags.agentEnv, name: "--agent-env" }
            : env.SPINDLE_AGENT_ENV !== undefined
              ? { entries: splitLines(env.SPINDLE_AGENT_ENV) ?? [], name: "SPINDLE_AGENT_ENV" }
              : { entries: file.agentEnv ?? [], name: "config.json key 'agentEnv'" }
        const agentEnv = parseAgentEnv(agentEnvFrom.name, agentEnvFrom.entries, env)
        const port = setting("--port", "SPINDLE_PORT", "port", flags.port, file.port)
        const threadPorts = setting(
          "--thread-ports",
          "SPINDLE_THREAD_PORTS",
          "threadPorts",
          flags.threadPorts,
          file.threadPorts
        )
        const logLevel = setting(
          "--log-level",
          "SPINDLE_LOG_LEVEL",
          "logLevel",
          flags.logLevel,
          file.logLevel
        )
        const logFormat = setting(
          "--log-format",
          "SPINDLE_LOG_FORMAT",
          "logFormat",
          flags.logFormat,
          file.logFormat
        )
        const providers = setting(
          "--providers",
          "SPINDLE_PROVIDERS",
          "providers",
          flags.providers,
          file.providers
        )
        const bootstraps = setting(
          "--max-bootstraps-per-project",
          "SPINDLE_MAX_BOOTSTRAPS_PER_PROJECT",
          "maxBootstrapsPerProject",
          flags.maxBootstrapsPerProject,
          file.maxBootstrapsPerProject
        )
        const threads = setting(
          "--max-threads-per-project",
          "SPINDLE_MAX_THREADS_PER_PROJECT",
          "maxThreadsPerProject",
          flags.maxThreadsPerProject,
          file.maxThreadsPerProject
        )
        const duration = (chosen: { value: unknown; name: string } | undefined) => {
          if (chosen === undefined) return undefined
          const ms = parseDurationSetting(chosen.name, chosen.value as string | number)
          if (typeof ms !== "number") throw new Bad(ms.error)
          return { ms, name: chosen.name }
        }
        const stall = duration(
          setting(
            "--turn-stall-timeout",
            "SPINDLE_TURN_STALL_TIMEOUT",
            "turnStallTimeout",
            flags.turnStallTimeout,
            file.turnStallTimeout
          )
        )
        const stallInterrupt = duration(
          setting(
            "--turn-stall-interrupt",
            "SPINDLE_TURN_STALL_INTERRUPT",
            "turnStallInterrupt",
            flags.turnStallInterrupt,
            file.turnStallInterrupt
          )
        )
        const idle = duration(
          setting(
            "--session-idle-timeout",
            "SPINDLE_SESSION_IDLE_TIMEOUT",
            "sessionIdleTimeout",
            flags.sessionIdleTimeout,
            file.sessionIdleTimeout
          )
        )
        const stallMs = stall?.ms ?? DEFAULT_TURN_STALL_TIMEOUT_MS
        const stallInterruptMs = stallInterrupt?.ms ?? DEFAULT_TURN_STALL_INTERRUPT_MS
        if (stallMs > 0 && stallInterruptMs > 0 && stallInterruptMs < stallMs) {
          throw new Bad(
            `${stallInterrupt?.name ?? "--turn-stall-interrupt (default 30m)"} must be at least ${stall?.name ?? "--turn-stall-timeout (default 5m)"}: a turn is marked stalled before it is stopped. Raise it, or give 0 to never stop a stalled turn.`
          )
        }
        return {
          host: flags.host ?? env.SPINDLE_HOST ?? file.host ?? DEFAULT_HOST,
          port: port === undefined ? DEFAULT_PORT : parsePort(port.name, port.value),
          home,
          logLevel:
            logLevel === undefined
              ? "info"
              : oneOf<LogLevel>(logLevel.name, String(logLevel.value), ["debug", "info", "warn", "error"]),
          logFormat:
            logFormat === undefined
              ? "pretty"
              : oneOf<LogFormat>(logFormat.name, String(logFormat.value), ["pretty", "json"]),
          allowedOrigins: flags.allowOrigin.length > 0 ? flags.allowOrigin : (file.allowedOrigins ?? []),
          ...(worktreeRoots === undefined
            ? {}
            : { worktreeRoots: parseRoots(worktreeRoots.name, worktreeRoots.value) }),
          ...(threadPorts === undefined
            ? {}
            : { threadPorts: parsePortRange(threadPorts.name, String(threadPorts.value)) }),
          providers: {
            enabled:
              providers === undefined ||
              oneOf(providers.name, String(providers.value), ["on", "off"]) === "on",
            codexBin:
              flags.codexBin ?? env.SPINDLE_CODEX_BIN ?? file.codexBin ?? DEFAULT_PROVIDER_SETTINGS.codexBin,
            codexConfig,
            ...(Object.keys(agentEnv).length === 0 ? {} : { agentEnv }),
            turnStallTimeoutMs: stallMs,
            turnStallInterruptMs: stallInterruptMs,
            sessionIdleTimeoutMs: idle?.ms ?? DEFAULT_SESSION_IDLE_TIMEOUT_MS
          },
          limits: {
            bootstrapsPerProject:
              bootstraps === undefined
                ? DEFAULT_LIMITS.bootstrapsPerProject
                : parseLimit(bootstraps.name, bootstraps.value),
            activeThreadsPerProject:
              threads === undefined
                ? DEFAULT_LIMITS.activeThreadsPerProject
                : parseLimit(threads.name, threads.value),
            spawnDepth: DEFAULT_LIMITS.spawnDepth,
            childrenPerThread: DEFAULT_LIMITS.childrenPerThread
          }
        }
      },
      catch: (error) =>
        error instanceof Bad
          ? usageError(`${error.message} Run 'spindle serve --help' for the settings.`)
          : new CliFailure({ code: EXIT.failed, reason: "internal", message: String(error) })
    })
  })
