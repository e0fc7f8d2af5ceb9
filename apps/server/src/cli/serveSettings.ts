// The settings of `spindle serve`, each from its flag, else its environment variable, else
// <home>/config.json (checked against the contracts' ServerConfigFile), else the default; with
// errors that name the flag, variable or key at fault and what it takes. The variable and the file
// are read with effect's Config from one ConfigProvider (the environment, then the file), behind
// the flag the CLI parsed. Loaded only by `serve`.
import { existsSync, readFileSync } from "node:fs"
import { availableParallelism } from "node:os"
import { delimiter, isAbsolute, join, resolve } from "node:path"
import { AgentEnv, ServerConfigFile } from "@spindle/contracts"
import { describeIssue } from "@spindle/shared/schemaIssue"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
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
import { parseStoreUrl } from "../config/Store.ts"
import { DEFAULT_SESSION_IDLE_TIMEOUT_MS } from "../providers/idleSessions.ts"
import { DEFAULT_TURN_STALL_INTERRUPT_MS, DEFAULT_TURN_STALL_TIMEOUT_MS } from "../providers/turnWatchdog.ts"
import { parseDurationSetting } from "./durationSetting.ts"
import { CliFailure, EXIT, usageError } from "./errors.ts"

/** The flags as given (strings, lists), before any checking. */
export interface ServeFlags {
  readonly store?: string | undefined
  readonly hostName?: string | undefined
  readonly clusterSecretFile?: string | undefined
  readonly advertiseUrl?: string | undefined
  readonly host?: string | undefined
  readonly port?: string | undefined
  readonly logLevel?: string | undefined
  readonly logFormat?: string | undefined
  readonly allowOrigin: ReadonlyArray<string>
  readonly worktreeRoot?: ReadonlyArray<string> | undefined
  readonly maxBootstrapsPerProject?: string | undefined
  readonly maxThreadsPerProject?: string | undefined
  readonly maxRunningTurns?: string | undefined
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
const splitLines = (value: string) =>
  value
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
 * Turns at once on this host: as given, else one per core. With providers off no turn ever runs
 * (a requested turn stays requested), so no start waits for one.
 */
const runningTurnsLimit = (given: Given<string> | undefined, providersOn: boolean) => {
  const limit = given === undefined ? availableParallelism() : parseLimit(given.name, given.value)
  return providersOn ? limit : Number.POSITIVE_INFINITY
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

/** A host's name as lists show it: 1-64 printable characters. */
const parseHostName = ({ name, value }: Given<string>) => {
  const trimmed = value.trim()
  if (!/^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,63}$/u.test(trimmed)) {
    throw new Bad(
      `${name} takes 1 to 64 letters, digits, spaces, '.', '_' or '-', starting with a letter or digit (got '${value}').`
    )
  }
  return trimmed
}

/** Shorter than this, a secret could be guessed. */
const MIN_SECRET_LENGTH = 32

/**
 * The cluster secret: the file's first line, at least MIN_SECRET_LENGTH characters. Read once
 * here and held redacted, so no log or error ever shows it.
 */
const readClusterSecret = ({ name, value }: Given<string>, home: string) => {
  const path = resolve(home, value)
  let text: string
  try {
    text = readFileSync(path, "utf8")
  } catch (error) {
    throw new Bad(
      `${name} names ${path}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}). Make one with: openssl rand -hex 32 > ${path} && chmod 600 ${path}, and give every host of the store the same file.`
    )
  }
  const secret = (text.split(/\r?\n/u)[0] ?? "").trim()
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new Bad(
      `${name}: ${path} must hold a secret of at least ${MIN_SECRET_LENGTH} characters on its first line (it holds ${secret.length}). Make one with: openssl rand -hex 32 > ${path}`
    )
  }
  return Redacted.make(secret)
}

/** The URL other hosts reach this one at: http(s), with a host, no path beyond `/`. */
const parseAdvertiseUrl = ({ name, value }: Given<string>) => {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new Bad(`${name} takes a URL such as http://build-1.lan:5757 (got '${value}').`)
  }
  if (
    (url.protocol !== "http:" && url.protocol !== "https:") ||
    (url.pathname !== "/" && url.pathname !== "")
  ) {
    throw new Bad(
      `${name} takes an http(s) URL with no path, such as http://build-1.lan:5757 (got '${value}').`
    )
  }
  return url.origin
}

const FILE = "config.json"

/** A setting as given, and its name as its errors say it: the flag, the variable or the file's key. */
interface Given<T> {
  readonly value: T
  readonly name: string
}

const fileKey = (key: string) => `config.json key '${key}'`

/** What no source gives is undefined, so the default applies. */
const optional = <T>(config: Config.Config<T>) =>
  config.pipe(Config.option, Config.map(Option.getOrUndefined))

/**
 * One setting from its flag, else its environment variable, else its config.json key: the flag as
 * parsed by the CLI, the other two read from one ConfigProvider (the environment, then the file).
 */
const setting = (flag: string, given: string | undefined, variable: string, key: string) =>
  optional(
    given !== undefined
      ? Config.succeed<Given<string>>({ value: given, name: flag })
      : Config.String(variable).pipe(
          Config.map((value): Given<string> => ({ value, name: variable })),
          Config.orElse(() =>
            Config.schema(Schema.String, [FILE, key]).pipe(
              Config.map((value): Given<string> => ({ value, name: fileKey(key) }))
            )
          )
        )
  )

/** A list setting: the flag's entries, else its variable split by `split`, else the file's array. */
const listSetting = (
  flag: string,
  given: ReadonlyArray<string> | undefined,
  variable: string | undefined,
  split: (value: string) => ReadonlyArray<string>,
  key: string
) => {
  const fromFile = Config.Array(Schema.String, [FILE, key]).pipe(
    Config.map((value): Given<ReadonlyArray<string>> => ({ value, name: fileKey(key) }))
  )
  return optional(
    given !== undefined && given.length > 0
      ? Config.succeed<Given<ReadonlyArray<string>>>({ value: given, name: flag })
      : variable === undefined
        ? fromFile
        : Config.String(variable).pipe(
            Config.map((value): Given<ReadonlyArray<string>> => ({ value: split(value), name: variable })),
            Config.orElse(() => fromFile)
          )
  )
}

/** Every setting as given, before it is checked. */
const givenSettings = (flags: ServeFlags) =>
  Config.unwrap({
    store: setting("--store", flags.store, "SPINDLE_STORE", "store"),
    hostName: setting("--host-name", flags.hostName, "SPINDLE_HOST_NAME", "hostName"),
    clusterSecretFile: setting(
      "--cluster-secret-file",
      flags.clusterSecretFile,
      "SPINDLE_CLUSTER_SECRET_FILE",
      "clusterSecretFile"
    ),
    advertiseUrl: setting("--advertise-url", flags.advertiseUrl, "SPINDLE_ADVERTISE_URL", "advertiseUrl"),
    host: setting("--host", flags.host, "SPINDLE_HOST", "host"),
    port: setting("--port", flags.port, "SPINDLE_PORT", "port"),
    logLevel: setting("--log-level", flags.logLevel, "SPINDLE_LOG_LEVEL", "logLevel"),
    logFormat: setting("--log-format", flags.logFormat, "SPINDLE_LOG_FORMAT", "logFormat"),
    allowedOrigins: listSetting("--allow-origin", flags.allowOrigin, undefined, splitLines, "allowedOrigins"),
    worktreeRoots: listSetting(
      "--worktree-root",
      flags.worktreeRoot,
      "SPINDLE_WORKTREE_ROOTS",
      (value) => value.split(delimiter).filter((root) => root !== ""),
      "worktreeRoots"
    ),
    threadPorts: setting("--thread-ports", flags.threadPorts, "SPINDLE_THREAD_PORTS", "threadPorts"),
    providers: setting("--providers", flags.providers, "SPINDLE_PROVIDERS", "providers"),
    codexBin: setting("--codex-bin", flags.codexBin, "SPINDLE_CODEX_BIN", "codexBin"),
    codexConfig: listSetting(
      "--codex-config",
      flags.codexConfig,
      "SPINDLE_CODEX_CONFIG",
      splitLines,
      "codexConfig"
    ),
    agentEnv: listSetting("--agent-env", flags.agentEnv, "SPINDLE_AGENT_ENV", splitLines, "agentEnv"),
    bootstraps: setting(
      "--max-bootstraps-per-project",
      flags.maxBootstrapsPerProject,
      "SPINDLE_MAX_BOOTSTRAPS_PER_PROJECT",
      "maxBootstrapsPerProject"
    ),
    threads: setting(
      "--max-threads-per-project",
      flags.maxThreadsPerProject,
      "SPINDLE_MAX_THREADS_PER_PROJECT",
      "maxThreadsPerProject"
    ),
    runningTurns: setting(
      "--max-running-turns",
      flags.maxRunningTurns,
      "SPINDLE_MAX_RUNNING_TURNS",
      "maxRunningTurns"
    ),
    stall: setting(
      "--turn-stall-timeout",
      flags.turnStallTimeout,
      "SPINDLE_TURN_STALL_TIMEOUT",
      "turnStallTimeout"
    ),
    stallInterrupt: setting(
      "--turn-stall-interrupt",
      flags.turnStallInterrupt,
      "SPINDLE_TURN_STALL_INTERRUPT",
      "turnStallInterrupt"
    ),
    idle: setting(
      "--session-idle-timeout",
      flags.sessionIdleTimeout,
      "SPINDLE_SESSION_IDLE_TIMEOUT",
      "sessionIdleTimeout"
    )
  })

export const resolveServeSettings = (flags: ServeFlags, home: string, env: NodeJS.ProcessEnv) =>
  Effect.gen(function* () {
    const file = yield* readConfigFile(home)
    // The environment first, then the file under a path no variable name can reach.
    const sources = ConfigProvider.fromEnvRecord(env, { preserveEmptyStrings: true }).pipe(
      ConfigProvider.orElse(ConfigProvider.fromUnknown({ [FILE]: file }, { preserveEmptyStrings: true }))
    )
    const given = yield* givenSettings(flags)
      .parse(sources)
      .pipe(
        Effect.mapError(
          (error) => new CliFailure({ code: EXIT.failed, reason: "internal", message: String(error) })
        )
      )
    return yield* Effect.try({
      try: (): ServerSettings => {
        for (const override of given.codexConfig?.value ?? []) {
          if (!/^[A-Za-z0-9_][A-Za-z0-9_.\-"]*=/u.test(override)) {
            throw new Bad(
              `--codex-config takes KEY=VALUE (a Codex config key, then its TOML value), got '${override}'. Example: --codex-config 'model="gpt-5-codex"'.`
            )
          }
        }
        const agentEnv = parseAgentEnv(
          given.agentEnv?.name ?? "--agent-env",
          given.agentEnv?.value ?? [],
          env
        )
        const { port, threadPorts, logLevel, logFormat, providers, bootstraps, threads, worktreeRoots } =
          given
        const providersOn =
          providers === undefined || oneOf(providers.name, String(providers.value), ["on", "off"]) === "on"
        const runningTurns = runningTurnsLimit(given.runningTurns, providersOn)
        const duration = (chosen: Given<string> | undefined) => {
          if (chosen === undefined) return undefined
          const ms = parseDurationSetting(chosen.name, chosen.value)
          if (typeof ms !== "number") throw new Bad(ms.error)
          return { ms, name: chosen.name }
        }
        const stall = duration(given.stall)
        const stallInterrupt = duration(given.stallInterrupt)
        const idle = duration(given.idle)
        const stallMs = stall?.ms ?? DEFAULT_TURN_STALL_TIMEOUT_MS
        const stallInterruptMs = stallInterrupt?.ms ?? DEFAULT_TURN_STALL_INTERRUPT_MS
        if (stallMs > 0 && stallInterruptMs > 0 && stallInterruptMs < stallMs) {
          throw new Bad(
            `${stallInterrupt?.name ?? "--turn-stall-interrupt (default 30m)"} must be at least ${stall?.name ?? "--turn-stall-timeout (default 5m)"}: a turn is marked stalled before it is stopped. Raise it, or give 0 to never stop a stalled turn.`
          )
        }
        // "sqlite" names the default, so a flag can override a config file's or variable's URL.
        const store =
          given.store === undefined || given.store.value === "sqlite"
            ? undefined
            : parseStoreUrl(given.store.value)
        if (store !== undefined && "error" in store) throw new Bad(`${given.store?.name} ${store.error}`)
        return {
          ...(store === undefined ? {} : { store }),
          ...(given.hostName === undefined ? {} : { hostName: parseHostName(given.hostName) }),
          ...(given.clusterSecretFile === undefined
            ? {}
            : { clusterSecret: readClusterSecret(given.clusterSecretFile, home) }),
          ...(given.advertiseUrl === undefined
            ? {}
            : { advertiseUrl: parseAdvertiseUrl(given.advertiseUrl) }),
          host: given.host?.value ?? DEFAULT_HOST,
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
          allowedOrigins: given.allowedOrigins?.value ?? [],
          ...(worktreeRoots === undefined
            ? {}
            : { worktreeRoots: parseRoots(worktreeRoots.name, worktreeRoots.value) }),
          ...(threadPorts === undefined
            ? {}
            : { threadPorts: parsePortRange(threadPorts.name, String(threadPorts.value)) }),
          providers: {
            enabled: providersOn,
            codexBin: given.codexBin?.value ?? DEFAULT_PROVIDER_SETTINGS.codexBin,
            codexConfig: given.codexConfig?.value ?? [],
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
            childrenPerThread: DEFAULT_LIMITS.childrenPerThread,
            runningTurns,
            wakesPerHour: DEFAULT_LIMITS.wakesPerHour
          }
        }
      },
      catch: (error) =>
        error instanceof Bad
          ? usageError(`${error.message} Run 'spindle serve --help' for the settings.`)
          : new CliFailure({ code: EXIT.failed, reason: "internal", message: String(error) })
    })
  })
