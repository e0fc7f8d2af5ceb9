// Structured logs on stderr (stdout stays for command output), pretty or JSON, at a chosen level.
// Every entry is rendered to its final text first and anything shaped like a Spindle token is
// masked in that text just before it is written, so a token in the message, a cause, an
// annotation or a span name cannot reach the log, whatever path it took into the entry.
import { Console } from "node:console"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Formatter from "effect/Formatter"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import type * as LogLevel from "effect/LogLevel"
import * as References from "effect/References"
import * as Runtime from "effect/Runtime"
import type { LogFormat, LogLevel as SpindleLogLevel } from "./config/ServerConfig.ts"

/**
 * Token shapes Spindle issues (provider `spn_…`, client `spc_…`). No word boundary in front, so a
 * token glued to other text (`key_spn_…`, a span label) is masked too.
 */
const SECRET = /sp[nc]_[A-Za-z0-9_-]{8,}/g

export const redactSecrets = (text: string): string =>
  text.replace(SECRET, (match) => `${match.slice(0, 4)}[redacted]`)

type Structured = ReturnType<(typeof Logger.formatStructured)["log"]>

const ansi = (code: string, text: string, colors: boolean) => (colors ? `\x1b[${code}m${text}\x1b[0m` : text)

const clock = (iso: string) => {
  const date = new Date(iso)
  const two = (n: number) => n.toString().padStart(2, "0")
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${date
    .getMilliseconds()
    .toString()
    .padStart(3, "0")}`
}

const levelColor: Record<string, string> = { DEBUG: "34", INFO: "32", WARN: "33", ERROR: "31", FATAL: "41" }

const indent = (text: string) => text.replace(/^/gm, "  ")

const show = (value: unknown) => (typeof value === "string" ? value : Formatter.format(value))

/**
 * The pretty layout of Effect's console logger as one string: `[time] LEVEL (#fiber) span=Nms:
 * message`, then, indented, the cause, further message parts and one `key: value` per annotation.
 */
const renderPretty = (entry: Structured, colors: boolean): string => {
  const parts = Array.isArray(entry.message) ? [...entry.message] : [entry.message]
  let first = `${ansi("37", `[${clock(entry.timestamp)}]`, colors)} ${ansi(levelColor[entry.level] ?? "0", entry.level, colors)} (${entry.fiberId})`
  for (const [label, ms] of Object.entries(entry.spans)) first += ` ${label.replace(/[\s="]/g, "_")}=${ms}ms`
  first += ":"
  if (typeof parts[0] === "string") first += ` ${ansi("1;36", parts.shift() as string, colors)}`
  const lines = [first]
  if (entry.cause !== undefined) lines.push(indent(entry.cause))
  for (const part of parts) lines.push(indent(show(part)))
  for (const [key, value] of Object.entries(entry.annotations)) {
    lines.push(indent(`${ansi("1;37", `${key}:`, colors)} ${show(value)}`))
  }
  return lines.join("\n")
}

const levels: Record<SpindleLogLevel, LogLevel.LogLevel> = {
  debug: "Debug",
  info: "Info",
  warn: "Warn",
  error: "Error"
}

/** Renders one entry to its final text (JSON line or pretty block), before redaction. */
const renderer = (format: LogFormat): Logger.Logger<unknown, string> =>
  format === "json"
    ? Logger.formatJson
    : Logger.map(Logger.formatStructured, (entry) => renderPretty(entry, process.stderr.isTTY === true))

/** The server's logger: `serve` installs this, and nothing else writes log entries. */
export const layer = (options: { readonly level: SpindleLogLevel; readonly format: LogFormat }) => {
  const render = renderer(options.format)
  // A Console over stderr rather than stderr.write: it ignores write errors (EPIPE once the
  // reader went away) instead of crashing the server.
  const sink = new Console({ stdout: process.stderr, stderr: process.stderr })
  const writer = Logger.make<unknown, void>((entry) => {
    sink.error(redactSecrets(render.log(entry)))
  })
  return Layer.mergeAll(
    Logger.layer([writer]),
    Layer.succeed(References.MinimumLogLevel, levels[options.level]),
    // For any console logger outside this one (Effect's fallback): stderr, never stdout.
    Layer.succeed(References.LogToStderr, true)
  )
}

/**
 * A defect that ends `self` is logged here, through this logger (so redacted), and marked as
 * reported so that `runMain` does not print it again with Effect's plain console logger.
 */
export const logDefects = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.tapCause(self, (cause) => {
    if (!Cause.hasDies(cause)) return Effect.void
    return Effect.andThen(
      Effect.logError("Spindle stopped on an unexpected error", cause),
      Effect.sync(() => {
        const squashed = Cause.squash(cause)
        if (typeof squashed === "object" && squashed !== null && Object.isExtensible(squashed)) {
          Object.assign(squashed, { [Runtime.errorReported]: false })
        }
      })
    )
  })
