// The MCP conformance suite (@modelcontextprotocol/conformance) against a real server on
// 127.0.0.1 with provider tokens off (the suite cannot send one), checked against a committed
// baseline that lists only scenarios needing the reference server's fixtures.
import { resolve } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { inProcessServer } from "../testing/inProcessServer.ts"
import { REPO_ROOT, runProcess } from "../testing/serverProcess.ts"

const CLI = resolve(REPO_ROOT, "node_modules/@modelcontextprotocol/conformance/dist/index.js")
const BASELINE = resolve(import.meta.dirname, "conformance-baseline.yml")

describe("MCP conformance", () => {
  it.live(
    "passes every protocol and security scenario; fails only the baselined fixture scenarios",
    () =>
      Effect.gen(function* () {
        const server = yield* inProcessServer({ mcpAuth: "off" })
        const run = yield* runProcess(
          process.execPath,
          [CLI, "server", "--url", `${server.url}/mcp`, "--expected-failures", BASELINE],
          { timeout: "240 seconds" }
        )
        for (const scenario of [
          "server-initialize",
          "ping",
          "logging-set-level",
          "tools-list",
          "tools-call-error",
          "server-sse-multiple-streams",
          "dns-rebinding-protection"
        ]) {
          assert.match(run.output, new RegExp(`✓ ${scenario}: \\d+ passed, 0 failed`), scenario)
        }
        assert.include(run.output, "Baseline check passed")
        assert.strictEqual(run.code, 0, run.output.slice(-2000))
      }),
    300_000
  )
})
