// Sends the hostile MCP cases in one raw MCP session (a new one if the server ends it) and judges
// each answer: a JSON-RPC error, or a tool error whose JSON names a reason, never a success.
import { type HttpAnswer, type RawMcpSession, rawMcpSession } from "../harness/mcp.ts"
import type { Expectation, Verdict } from "./cases.ts"
import type { McpCase } from "./mcpCases.ts"
import type { CaseOutcome } from "./runWs.ts"

interface ToolError {
  readonly error?: string
  readonly message?: string
  readonly field?: string
}

const toolErrorOf = (result: Record<string, unknown>): ToolError | undefined => {
  const content = result.content as Array<{ type?: string; text?: string }> | undefined
  try {
    return JSON.parse(content?.[0]?.text ?? "") as ToolError
  } catch {
    return undefined
  }
}

export const judgeMcp = (answer: HttpAnswer, expect: Expectation): Verdict => {
  if (answer.status >= 500) return { ok: false, got: `HTTP ${answer.status} ${answer.text.slice(0, 80)}` }
  const json = answer.json
  const message = (Array.isArray(json) ? json[0] : json) as Record<string, unknown> | undefined
  const field = "field" in expect ? expect.field : undefined
  const rpcError = message?.error as { code?: unknown; message?: unknown } | undefined
  if (rpcError !== undefined && typeof rpcError.code === "number") {
    const text = String(rpcError.message ?? "")
    if ("reasons" in expect)
      return {
        ok: false,
        got: `JSON-RPC error ${rpcError.code} instead of a tool error: ${text.slice(0, 80)}`
      }
    if (field !== undefined && !text.includes(field))
      return { ok: false, got: `JSON-RPC ${rpcError.code} not naming ${field}: ${text.slice(0, 100)}` }
    return { ok: true, got: `JSON-RPC ${rpcError.code}` }
  }
  const result = message?.result as Record<string, unknown> | undefined
  if (result !== undefined && result.isError === true) {
    const error = toolErrorOf(result)
    const reason = String(error?.error ?? "")
    const allowed = "reasons" in expect ? expect.reasons : "rpcOr" in expect ? expect.rpcOr : undefined
    if (reason === "" || (error?.message ?? "") === "")
      return { ok: false, got: "a tool error without reason or message" }
    if (allowed !== undefined && !allowed.includes(reason as never))
      return { ok: false, got: `tool error ${reason}: ${String(error?.message).slice(0, 100)}` }
    if (field !== undefined && error?.field !== field && !String(error?.message).includes(field))
      return { ok: false, got: `tool error ${reason} not naming ${field}` }
    return { ok: true, got: `tool error ${reason}` }
  }
  if (result !== undefined) return { ok: false, got: "accepted" }
  return { ok: false, got: `HTTP ${answer.status} without a JSON-RPC answer: ${answer.text.slice(0, 80)}` }
}

const send = (session: RawMcpSession, c: McpCase) =>
  c.send === "call" ? session.callRaw(c.tool, c.rawArgs ?? JSON.stringify(c.args)) : session.post(c.body)

/** Runs every case in order; answers the verdicts and how many sessions had to be opened again. */
export const runMcpCases = async (url: string, token: string, cases: ReadonlyArray<McpCase>) => {
  let session = await rawMcpSession(url, token)
  let reopened = 0
  const outcomes: Array<CaseOutcome> = []
  for (const c of cases) {
    let answer = await send(session, c)
    // An ended session is the server's answer to the case before; this one gets a fresh session.
    if (answer.status === 404) {
      session = await rawMcpSession(url, token)
      reopened++
      answer = await send(session, c)
    }
    outcomes.push({ cls: c.cls, name: c.name, verdict: judgeMcp(answer, c.expect) })
  }
  return { outcomes, reopened }
}
