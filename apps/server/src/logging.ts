// Structured logs on stderr (stdout stays for command output), pretty or JSON, at a chosen
// level, with anything that looks like a secret token masked before it is written.
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import type * as LogLevel from "effect/LogLevel"
import * as References from "effect/References"
import type { LogFormat, LogLevel as SpindleLogLevel } from "./config/ServerConfig.ts"

/** Token shapes Spindle issues (provider `spn_…`, client `spc_…`): never let one reach a log. */
const SECRET = /\bsp[nc]_[A-Za-z0-9_-]{8,}/g

export const redactSecrets = (text: string): string =>
  text.replace(SECRET, (match) => `${match.slice(0, 4)}[redacted]`)

const redactDeep = (value: unknown, depth = 0): unknown => {
  if (typeof value === "string") return redactSecrets(value)
  if (depth > 6 || value === null || typeof value !== "object") return value
  if (value instanceof Error) return redactSecrets(value.stack ?? value.message)
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1))
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, depth + 1)]))
}

const levels: Record<SpindleLogLevel, LogLevel.LogLevel> = {
  debug: "Debug",
  info: "Info",
  warn: "Warn",
  error: "Error"
}

export const layer = (options: { readonly level: SpindleLogLevel; readonly format: LogFormat }) => {
  const base = options.format === "json" ? Logger.consoleJson : Logger.consolePretty({ colors: "auto" })
  const redacting = Logger.make<unknown, void>((entry) =>
    base.log({
      ...entry,
      message: redactDeep(entry.message),
      fiber: entry.fiber
    })
  )
  return Layer.mergeAll(
    Logger.layer([redacting]),
    Layer.succeed(References.MinimumLogLevel, levels[options.level]),
    Layer.succeed(References.LogToStderr, true)
  )
}
