// Sends the hostile WebSocket cases one by one over a raw socket (reopened when the server closes
// it, which is itself an answer) and judges each reply against what the case expects.
import { openRaw, type RawSocket, type WsReply } from "../harness/wsRaw.ts"
import type { Expectation, Verdict } from "./cases.ts"
import type { WsCase } from "./wsCases.ts"

const BASE_IDS = new Set(["h-pc", "h-tc", "h-ts", "h-pu", "h-ar", "h-rr"])
/** Close codes that name a protocol refusal. */
const PROTOCOL_CLOSES = new Set([1002, 1003, 1007, 1008, 1009])

const names = (error: Record<string, unknown>, field: string) =>
  error.field === field || String(error.message ?? "").includes(field)

export const judgeWs = (reply: WsReply, expect: Expectation): Verdict => {
  switch (reply.kind) {
    case "timeout":
      return { ok: false, got: "no answer within the bound" }
    case "closed":
      return "frame" in expect && PROTOCOL_CLOSES.has(reply.code)
        ? { ok: true, got: `closed ${reply.code}` }
        : { ok: false, got: `connection closed ${reply.code} ${reply.reason}` }
    case "message": {
      const tag = String((reply.raw as Record<string, unknown> | null)?._tag ?? "?")
      return "frame" in expect
        ? { ok: true, got: `protocol answer ${tag}` }
        : { ok: false, got: `no reply to the request, only a ${tag} without its id` }
    }
    case "exit": {
      if (reply.ok) return { ok: false, got: "accepted" }
      const error = reply.error
      if (error === undefined) {
        const defect = JSON.stringify((reply.raw as { exit?: unknown }).exit).slice(0, 120)
        return "refusal" in expect || "frame" in expect
          ? { ok: true, got: "refused without a SpindleError" }
          : { ok: false, got: `a defect, not a SpindleError: ${defect}` }
      }
      const reason = String(error.reason)
      const message = String(error.message ?? "")
      if (message.trim() === "") return { ok: false, got: `${reason} without a message` }
      if ("reasons" in expect) {
        if (!expect.reasons.includes(reason as never))
          return { ok: false, got: `${reason}: ${message.slice(0, 100)}` }
        if (expect.field !== undefined && !names(error, expect.field))
          return { ok: false, got: `${reason} not naming ${expect.field}: ${message.slice(0, 100)}` }
      }
      return { ok: true, got: reason }
    }
  }
}

/** Ids the base commands create; each case gets its own, so one wrongly accepted case cannot change the next one's answer. */
const FRESH_IDS: Record<string, (index: number) => string> = {
  commandId: (i) => `h-${i}`,
  threadId: (i) => `t-h-${i}`,
  projectId: (i) => `p-h-${i}`
}
const BASE_VALUES = new Set([...BASE_IDS, "t-new", "t-boot", "p-new"])

const commandText = (c: Extract<WsCase, { send: "dispatch" }>, index: number) => {
  if (c.rawCommand !== undefined)
    return c.rawCommand.replace(
      /"(commandId|threadId|projectId)":"([^"]*)"/gu,
      (whole, key: string, value: string) =>
        BASE_VALUES.has(value) ? `"${key}":"${FRESH_IDS[key]!(index)}"` : whole
    )
  const command = c.command
  if (command === null || typeof command !== "object" || Array.isArray(command))
    return JSON.stringify(command)
  const fresh = Object.fromEntries(
    Object.entries(command as Record<string, unknown>).map(([key, value]) => [
      key,
      key in FRESH_IDS && BASE_VALUES.has(String(value)) ? FRESH_IDS[key]!(index) : value
    ])
  )
  return JSON.stringify(fresh)
}

const send = (socket: RawSocket, c: WsCase, index: number): Promise<WsReply> => {
  switch (c.send) {
    case "dispatch": {
      const awaitPart = "await" in c ? `,"await":${JSON.stringify(c.await)}` : ""
      return socket.request("orchestration.dispatchCommand", null, {
        rawPayload: `{"command":${commandText(c, index)}${awaitPart}}`
      })
    }
    case "request":
      return socket.request(c.tag, c.payload, c.rawPayload === undefined ? {} : { rawPayload: c.rawPayload })
    case "frame":
      return socket.send(c.data, {
        ...(c.binary === true ? { binary: true } : {}),
        ...(c.id === undefined ? {} : { id: c.id }),
        timeoutMs: c.id === undefined ? 3_000 : 15_000
      })
  }
}

export interface CaseOutcome {
  readonly cls: string
  readonly name: string
  readonly verdict: Verdict
}

/** Runs every case in order; answers each case's verdict and how often the socket had to be reopened. */
export const runWsCases = async (url: string, token: string, cases: ReadonlyArray<WsCase>) => {
  const open = () => openRaw(url, { authorization: `Bearer ${token}` })
  let socket = await open()
  let reopened = 0
  const outcomes: Array<CaseOutcome> = []
  for (const [index, c] of cases.entries()) {
    if (socket.socket.readyState !== socket.socket.OPEN) {
      socket.close()
      socket = await open()
      reopened++
    }
    const reply = await send(socket, c, index)
    outcomes.push({ cls: c.cls, name: c.name, verdict: judgeWs(reply, c.expect) })
  }
  socket.close()
  return { outcomes, reopened }
}
