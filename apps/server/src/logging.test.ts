import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Runtime from "effect/Runtime"
import type { LogFormat } from "./config/ServerConfig.ts"
import * as Logging from "./logging.ts"

const providerToken = `spn_${"a1B2".repeat(11)}`
const clientToken = `spc_${"Zz9-".repeat(10)}xyz`
const secrets = [providerToken, clientToken, providerToken.slice(4), clientToken.slice(4)]

/** Runs `effect` under the logger `serve` installs and returns what it wrote to stderr. */
const stderrOf = <A, E>(format: LogFormat, effect: Effect.Effect<A, E>, level: "debug" | "warn" = "debug") =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const original = process.stderr.write
      const written: Array<string> = []
      process.stderr.write = ((chunk: string | Uint8Array) => {
        written.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"))
        return true
      }) as typeof process.stderr.write
      return { original, written }
    }),
    ({ written }) =>
      effect.pipe(
        Effect.provide(Logging.layer({ level, format })),
        Effect.exit,
        Effect.map(() => written.join(""))
      ),
    ({ original }) =>
      Effect.sync(() => {
        process.stderr.write = original
      })
  )

/** A token in every part of an entry: message, annotation, cause, log span, tracing span. */
const leakyEntries = Effect.gen(function* () {
  yield* Effect.logInfo(`message-part Bearer ${providerToken}`, { extra: `object-part ${clientToken}` })
  yield* Effect.logWarning("annotated").pipe(
    Effect.annotateLogs({ header: `annotation-part ${providerToken}`, glued: `key_${clientToken}` })
  )
  yield* Effect.logError(
    "cause-part",
    Cause.fail(new Error(`failing-error ${providerToken}`)),
    Cause.die(new Error(`defect-error ${clientToken}`))
  )
  yield* Effect.fail(new Error(`spanned-error ${clientToken}`)).pipe(
    Effect.withSpan(`tracing-span-${providerToken}`, { attributes: { token: clientToken } }),
    Effect.catchCause((cause) => Effect.logError("span-part", cause))
  )
  yield* Effect.logDebug("log-span-part").pipe(Effect.withLogSpan(`logspan ${clientToken}`))
})

describe("the server's logger", () => {
  for (const format of ["json", "pretty"] as const) {
    it.effect(`masks tokens anywhere in an entry and keeps the rest (${format})`, () =>
      Effect.gen(function* () {
        const text = yield* stderrOf(format, leakyEntries)
        for (const secret of secrets) assert.notInclude(text, secret)
        for (const kept of [
          "message-part Bearer spn_[redacted]",
          "object-part spc_[redacted]",
          "annotation-part spn_[redacted]",
          "key_spc_[redacted]",
          "failing-error spn_[redacted]",
          "defect-error spc_[redacted]",
          "spanned-error spc_[redacted]",
          "tracing-span-spn_[redacted]",
          "logspan",
          "log-span-part"
        ]) {
          assert.include(text, kept)
        }
        const lines = text.split("\n").filter((line) => line.length > 0)
        if (format === "json") {
          // One JSON object per line, each still parseable after masking.
          assert.strictEqual(lines.length, 5)
          const entries = lines.map((line) => JSON.parse(line) as { level: string; annotations: object })
          assert.deepStrictEqual(
            entries.map((e) => e.level),
            ["INFO", "WARN", "ERROR", "ERROR", "DEBUG"]
          )
          assert.deepStrictEqual(entries[1]?.annotations, {
            header: "annotation-part spn_[redacted]",
            glued: "key_spc_[redacted]"
          })
        } else {
          assert.match(text, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(#\d+\): message-part/)
          assert.include(text, "\n  header: annotation-part spn_[redacted]\n")
          assert.match(text, /DEBUG \(#\d+\) logspan_spc_\[redacted\]=\d+ms: log-span-part/)
        }
      })
    )
  }

  it.effect("drops entries below the chosen level", () =>
    Effect.gen(function* () {
      const text = yield* stderrOf(
        "json",
        Effect.andThen(Effect.logDebug("quiet"), Effect.logWarning("loud")),
        "warn"
      )
      assert.notInclude(text, "quiet")
      assert.include(text, "loud")
    })
  )
})

describe("redactSecrets", () => {
  it("leaves ordinary text alone", () => {
    assert.strictEqual(Logging.redactSecrets("spindle spn_ short"), "spindle spn_ short")
  })
})

describe("logDefects", () => {
  it.effect("logs a defect that ends serve through the redacting logger and marks it reported", () =>
    Effect.gen(function* () {
      const defect = new Error(`startup blew up ${providerToken}`)
      const text = yield* stderrOf("json", Logging.logDefects(Effect.die(defect)))
      assert.notInclude(text, providerToken.slice(4))
      assert.include(text, "Spindle stopped on an unexpected error")
      assert.include(text, "startup blew up spn_[redacted]")
      // runMain skips its own (unredacted) report of an error marked like this.
      assert.isFalse(Runtime.getErrorReported(defect))
    })
  )

  it.effect("leaves typed failures to the CLI, which maps them to a one-line message", () =>
    Effect.gen(function* () {
      const text = yield* stderrOf("json", Logging.logDefects(Effect.fail(new Error("typed"))))
      assert.strictEqual(text, "")
    })
  )
})
