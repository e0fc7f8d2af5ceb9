// The bundle `spindle` runs from (bin/bundle.mjs), built into a folder of the test's own: the
// server's script and the MCP and ACP SDKs' files apart, and V8's code cache beside the script: written
// when there is none, used when it fits, replaced when it is broken or holds much less than a
// whole server start.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { tempDir } from "../testing/fixtures.ts"
import { readyUrl, runProcess, startProcess } from "../testing/serverProcess.ts"

const BIN = join(import.meta.dirname, "../../bin/spindle.mjs")

/** `spindle serve` on an empty home until ready, then SIGTERM: its exit code and stderr. */
const serveOnce = (bundles: string) =>
  Effect.gen(function* () {
    const home = yield* tempDir("spindle-home-")
    const started = startProcess(
      process.execPath,
      [BIN, "serve", "--port", "0", "--home", home, "--providers", "off"],
      { env: { SPINDLE_BUNDLE_DIR: bundles, SPINDLE_DEBUG_BUNDLE: "1" } }
    )
    yield* readyUrl(started, 60_000, () => started.child.kill("SIGKILL"))
    started.child.kill("SIGTERM")
    const code = yield* Effect.promise(() => started.exited)
    return { code, stderr: started.stderr() }
  })

const buildDir = (bundles: string) =>
  join(bundles, JSON.parse(readFileSync(join(bundles, "current.json"), "utf8")).dir as string)

describe("the bundle spindle serve runs from", () => {
  it.live(
    "keeps the MCP SDK apart; writes the code cache, replaces a small or broken one, and uses one that fits",
    () =>
      Effect.gen(function* () {
        const bundles = yield* tempDir("spindle-bundles-")
        const env = { SPINDLE_BUNDLE_DIR: bundles, SPINDLE_DEBUG_BUNDLE: "1" }
        // A serve that stops at a usage error builds the bundle and leaves a cache of the little
        // it compiled.
        const usage = yield* runProcess(process.execPath, [BIN, "serve", "--bogus"], { env })
        assert.strictEqual(usage.code, 2, usage.stderr)
        assert.include(usage.stderr, "code cache absent")
        const dir = buildDir(bundles)
        assert.includeMembers(readdirSync(dir), [
          "serve.cjs",
          "mcp-sdk.cjs",
          "acp-sdk.cjs",
          "serve.cjs.cache",
          "main.js"
        ])
        // The server's script holds neither zod nor ajv (the SDK's validators); the SDK's file does.
        const serve = readFileSync(join(dir, "serve.cjs"), "latin1")
        for (const marker of ["ZodError", "strict mode"]) {
          assert.notInclude(serve, marker)
          assert.include(readFileSync(join(dir, "mcp-sdk.cjs"), "latin1"), marker)
        }
        // Nor the ACP SDK, read only when an ACP session starts.
        assert.notInclude(serve, "ACP connection closed")
        assert.include(readFileSync(join(dir, "acp-sdk.cjs"), "latin1"), "ACP connection closed")
        // As the server's script loads it: a CommonJS file beside it, with what AcpAdapter takes.
        const acpSdk = createRequire(join(dir, "serve.cjs"))("./acp-sdk.cjs") as Record<string, unknown>
        for (const name of ["client", "ndJsonStream", "PROTOCOL_VERSION", "RequestError"]) {
          assert.isDefined(acpSdk[name], name)
        }
        const cache = join(dir, "serve.cjs.cache")
        const small = statSync(cache).size

        // A server that started replaces it with the cache of a whole start.
        const first = yield* serveOnce(bundles)
        assert.strictEqual(first.code, 0, first.stderr)
        assert.include(first.stderr, "code cache used")
        assert.isAbove(statSync(cache).size, small * 1.25)
        const written = statSync(cache).mtimeMs

        const second = yield* serveOnce(bundles)
        assert.strictEqual(second.code, 0, second.stderr)
        assert.include(second.stderr, "code cache used")
        assert.strictEqual(statSync(cache).mtimeMs, written, "a cache that fits is not written again")

        const garbage = Buffer.alloc(statSync(cache).size, 7)
        writeFileSync(cache, garbage)
        const third = yield* serveOnce(bundles)
        assert.strictEqual(third.code, 0, third.stderr)
        assert.include(third.stderr, "code cache rejected")
        assert.isFalse(readFileSync(cache).equals(garbage), "the stopped server wrote a cache that fits")
        const fourth = yield* serveOnce(bundles)
        assert.include(fourth.stderr, "code cache used")
      }),
    180_000
  )
})
