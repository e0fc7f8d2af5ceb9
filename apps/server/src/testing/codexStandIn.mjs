#!/usr/bin/env node
// A stand-in for `codex app-server` that replays one ordering the real one produces: a report on an
// earlier turn (the token usage Codex sends right after thread/resume) reaching Spindle after it
// asked for a new turn. Everything else is the smallest well-formed turn: answered, started, one
// agent message, completed. Real Codex cannot be made to send that report at that moment on demand.
// It appends each request it gets to $CODEX_HOME/stand-in-requests.jsonl (when CODEX_HOME is set),
// so a test can read what Spindle asked Codex for.
import { appendFileSync } from "node:fs"
import { join } from "node:path"
import { createInterface } from "node:readline"

const THREAD = "thread-standin"
const usage = {
  inputTokens: 900,
  cachedInputTokens: 0,
  outputTokens: 99,
  reasoningOutputTokens: 0,
  totalTokens: 999
}
const send = (message) => process.stdout.write(`${JSON.stringify(message)}\n`)

const lines = createInterface({ input: process.stdin })
lines.on("line", (line) => {
  const { id, method, params } = JSON.parse(line)
  if (id === undefined) return
  if (process.env.CODEX_HOME)
    appendFileSync(
      join(process.env.CODEX_HOME, "stand-in-requests.jsonl"),
      `${JSON.stringify({ method, params })}\n`
    )
  if (method === "initialize") send({ id, result: { userAgent: "codex-stand-in" } })
  else if (method === "thread/start" || method === "thread/resume")
    send({ id, result: { thread: { id: THREAD } } })
  else if (method === "turn/start") {
    send({
      method: "thread/tokenUsage/updated",
      params: { threadId: THREAD, turnId: "turn-earlier", tokenUsage: { total: usage, last: usage } }
    })
    send({ id, result: { turn: { id: "turn-now", status: "inProgress" } } })
    send({
      method: "turn/started",
      params: { threadId: THREAD, turn: { id: "turn-now", status: "inProgress" } }
    })
    send({
      method: "item/completed",
      params: { threadId: THREAD, turnId: "turn-now", item: { type: "agentMessage", id: "m1", text: "done" } }
    })
    send({
      method: "turn/completed",
      params: { threadId: THREAD, turn: { id: "turn-now", status: "completed" } }
    })
  } else send({ id, error: { code: -32601, message: `the stand-in does not answer ${method}` } })
})
lines.on("close", () => process.exit(0))
