// Codex 0.171's trouble notifications as notices (pure), repeats counted with a bound, and the
// stderr tail that says why Codex stopped. Params are the shapes Codex really sent (captured from
// `codex app-server` against a closed port, a broken MCP server and a bad config).

import { assert, describe, it } from "@effect/vitest"
import { MAX_NOTICE_MESSAGE, type TurnId } from "@spindle/contracts"
import * as Schema from "effect/Schema"
import { MAX_REPORTS_PER_NOTICE, makeNoticeGate } from "../noticeGate.ts"
import { makeStderrTail } from "../stderrTail.ts"
import { compactMessage, noticeFor } from "./codexNotices.ts"
import { CodexNoticeNotifications } from "./codexProtocol.ts"

const turnId = "u1" as TurnId
const decode = <M extends keyof typeof CodexNoticeNotifications>(method: M, params: unknown) =>
  Schema.decodeUnknownSync(CodexNoticeNotifications[method] as Schema.Decoder<unknown>)(params)
const notice = <M extends keyof typeof CodexNoticeNotifications>(
  method: M,
  params: unknown,
  turn: TurnId | null = turnId
) => noticeFor(method, decode(method, params), turn)

const RUST_NOISE =
  "Send message error Transport [codex_rmcp_client::tool_list_changes::ToolListChanges<codex_rmcp_client::event_notification_transport::EventNotificationTransport<rmcp::transport::worker::WorkerTransport<rmcp::transport::streamable_http_client::StreamableHttpClientWorker<codex_rmcp_client::http_client_adapter::StreamableHttpClientAdapter>>>>] error: Client error: HTTP request failed: http/request failed: error sending request for url (http://127.0.0.1:9/mcp)"

describe("Codex notices", () => {
  it("an error Codex retries (an unreachable model) is an error notice of the turn, with its details and willRetry", () => {
    const said = notice("error", {
      error: {
        message: "Reconnecting... waiting for network",
        codexErrorInfo: { responseStreamDisconnected: { httpStatusCode: null } },
        additionalDetails: "Connection failed: error sending request",
        misalignment: null
      },
      willRetry: true,
      threadId: "c1",
      turnId: "ct1"
    })
    assert.deepStrictEqual(said, {
      turnId,
      level: "error",
      source: "codex",
      message: "Reconnecting... waiting for network: Connection failed: error sending request",
      willRetry: true
    })
  })

  it("warnings, config warnings and deprecations say what Codex said", () => {
    assert.deepStrictEqual(
      notice("warning", { threadId: "c1", message: "Model metadata for `m` not found." }, null),
      { turnId: null, level: "warning", source: "codex", message: "Model metadata for `m` not found." }
    )
    const config = notice("configWarning", {
      summary: "Invalid configuration; using defaults.",
      details: "/home/x/config.toml:3:2: model_providers.local: provider name must not be empty",
      path: "/home/x/config.toml",
      range: { start: { line: 3, column: 2 }, end: { line: 3, column: 16 } }
    })
    assert.strictEqual(config?.turnId, null, "a config warning is about the session")
    assert.strictEqual(config?.source, "config")
    assert.strictEqual(
      config?.message,
      "Invalid configuration; using defaults: /home/x/config.toml:3:2: model_providers.local: provider name must not be empty"
    )
    assert.strictEqual(
      notice("deprecationNotice", { summary: "X is deprecated", details: null })?.level,
      "info"
    )
  })

  it("a failed MCP server start is a warning naming the server and what the agent loses; starting and ready are nothing", () => {
    const failed = notice("mcpServer/startupStatus/updated", {
      threadId: "c1",
      name: "spindle",
      environmentId: null,
      status: "failed",
      error: `MCP client for \`spindle\` failed to start: MCP startup failed: handshaking with MCP server failed: ${RUST_NOISE}, when send initialize request: ${RUST_NOISE}`,
      failureReason: null
    })
    assert.strictEqual(failed?.level, "warning")
    assert.strictEqual(failed?.source, "mcp:spindle")
    assert.strictEqual(failed?.turnId, null)
    assert.include(failed?.message ?? "", "MCP server 'spindle' failed to start.")
    assert.include(failed?.message ?? "", "cannot use Spindle's tools (t3_thread_start")
    assert.include(failed?.message ?? "", "error sending request for url (http://127.0.0.1:9/mcp)")
    assert.notInclude(failed?.message ?? "", "codex_rmcp_client::", "Rust type names are noise")
    const other = notice("mcpServer/startupStatus/updated", {
      threadId: null,
      name: "docs",
      status: "cancelled",
      error: null
    })
    assert.include(other?.message ?? "", "MCP server 'docs' was cancelled while starting.")
    for (const status of ["starting", "ready"]) {
      assert.isUndefined(
        notice("mcpServer/startupStatus/updated", { threadId: "c1", name: "docs", status, error: null })
      )
    }
  })

  it("a thread in system error is an error; other statuses are nothing", () => {
    assert.strictEqual(
      notice("thread/status/changed", { threadId: "c1", status: { type: "systemError" } })?.level,
      "error"
    )
    assert.isUndefined(
      notice("thread/status/changed", { threadId: "c1", status: { type: "active", activeFlags: [] } })
    )
    assert.isUndefined(notice("thread/status/changed", { threadId: "c1", status: { type: "idle" } }))
  })

  it("rate limits: reached is an error, 90% or more a warning, below nothing", () => {
    const snapshot = (usedPercent: number, reached: string | null) => ({
      rateLimits: {
        limitId: "codex",
        limitName: null,
        normalModelSlug: null,
        primary: { usedPercent, windowDurationMins: 300, resetsAt: 1_800_000_000 },
        secondary: null,
        credits: null,
        individualLimit: null,
        spendControlReached: null,
        planType: null,
        rateLimitReachedType: reached
      }
    })
    const close = notice("account/rateLimits/updated", snapshot(93.4, null))
    assert.strictEqual(close?.level, "warning")
    assert.strictEqual(close?.source, "rate-limits")
    assert.include(
      close?.message ?? "",
      "93% used of its 300-minute window, resets at 2027-01-15T08:00:00.000Z"
    )
    assert.strictEqual(
      notice("account/rateLimits/updated", snapshot(100, "rate_limit_reached"))?.level,
      "error"
    )
    assert.isUndefined(notice("account/rateLimits/updated", snapshot(40, null)))
  })

  it("a message is cut to its start and end", () => {
    const long = `start ${"word ".repeat(1000)}end`
    const cut = compactMessage(long)
    assert.isAtMost(cut.length, MAX_NOTICE_MESSAGE)
    assert.isTrue(cut.startsWith("start word") && cut.endsWith("word end"))
  })
})

describe("repeats of a notice", () => {
  const said = {
    turnId,
    level: "error" as const,
    source: "codex",
    message: "Reconnecting... waiting for network",
    willRetry: true
  }

  it("a retry storm of 10,000 sayings is a bounded number of reports whose counts add up to the sayings reported", () => {
    const gate = makeNoticeGate()
    const reports = Array.from({ length: 10_000 }, () => gate.admit(said)).filter((r) => r !== undefined)
    assert.strictEqual(reports.length, MAX_REPORTS_PER_NOTICE)
    assert.deepStrictEqual(
      reports.slice(0, 5).map((r) => r.count),
      [1, 1, 2, 4, 8]
    )
    assert.strictEqual(
      reports.reduce((sum, r) => sum + r.count, 0),
      2 ** (MAX_REPORTS_PER_NOTICE - 1)
    )
  })

  it("another message, or the same in another turn, is its own notice; numbers alone do not make one", () => {
    const gate = makeNoticeGate()
    assert.isDefined(gate.admit(said))
    assert.isDefined(gate.admit({ ...said, message: "another" }))
    assert.isDefined(gate.admit({ ...said, turnId: null }))
    assert.isDefined(gate.admit({ ...said, message: "retry 1/5" }))
    const second = gate.admit({ ...said, message: "retry 2/5" })
    assert.strictEqual(second?.count, 1, "the 2nd saying of 'retry #/#'")
    assert.isUndefined(gate.admit({ ...said, message: "retry 3/5" }), "the 3rd is only counted")
  })
})

describe("Codex's stderr tail", () => {
  it("keeps the last lines without colour codes or blank lines, the unfinished last line included", () => {
    const tail = makeStderrTail(3)
    tail.push("\u001b[2m2026-12-05T00:19:40Z\u001b[0m \u001b[31mERROR\u001b[0m codex: first\n")
    tail.push("Error: model_providers.local: provider name must not be empty\nin `model_")
    tail.push("providers`\n\n\n")
    tail.push("no newline at the end")
    tail.end()
    assert.deepStrictEqual(tail.lines(), [
      "Error: model_providers.local: provider name must not be empty",
      "in `model_providers`",
      "no newline at the end"
    ])
    const coloured = makeStderrTail(5)
    coloured.push("\u001b[2m2026\u001b[0m \u001b[31mERROR\u001b[0m x\n")
    assert.deepStrictEqual(coloured.lines(), ["2026 ERROR x"])
  })
})
