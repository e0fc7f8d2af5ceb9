// A tiny Agent Client Protocol agent for tests, run as a real process (`node acpAgent.ts`) and
// driven over its stdio by the ACP provider. It follows a script: ACP_TEST_SCRIPT names a JSON
// file `{ "initialize": "answer" | "never", "loadSession": bool, "modes": [ids], "turns": [[step]] }`,
// the n-th prompt playing `turns[n]` (the last one again past the end). Steps:
//   {"say": text}            agent_message_chunk (split in two chunks)
//   {"think": text}          agent_thought_chunk
//   {"run": cmd, "output": text, "exit": n, "ask": bool}
//                            an execute tool call; with ask, session/request_permission first
//                            (allow once / allow always / reject) and the answer said as a message
//   {"edit": path, "text": t} an edit tool call with a diff (path relative to cwd)
//   {"write": path, "text": t} fs/write_text_file through the client, its answer said
//   {"read": path}           fs/read_text_file through the client, its answer said
//   {"plan": [texts]}        a plan; {"usage": n} a usage update
//   {"sleep": ms}            waits (a session/cancel ends the prompt as cancelled)
//   {"crash": code}          writes a line to stderr and exits
//   {"echo": true}           says this prompt's text
//   {"recall": true}         says every prompt this session had before (kept in a file by session)
//   {"stop": reason}         ends the prompt with that stop reason (default end_turn)
//   {"notes": true}          the updates that are not the turn's work: user_message_chunk,
//                            available_commands_update, current_mode_update, config_option_update,
//                            session_info_update
// Every request it gets (method and params, the MCP servers given with their headers) is appended
// as a JSON line to ACP_TEST_LOG, and its environment to ACP_TEST_LOG + ".env".
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs"
import { isAbsolute, join } from "node:path"
import { Readable, Writable } from "node:stream"
import {
  agent,
  ndJsonStream,
  PROTOCOL_VERSION,
  type SessionUpdate,
  type StopReason
} from "@agentclientprotocol/sdk"

type Step = Record<string, unknown>
interface Script {
  readonly initialize?: "answer" | "never"
  readonly loadSession?: boolean
  readonly modes?: ReadonlyArray<string>
  readonly turns: ReadonlyArray<ReadonlyArray<Step>>
}

const script = JSON.parse(readFileSync(process.env.ACP_TEST_SCRIPT as string, "utf8")) as Script
const log = process.env.ACP_TEST_LOG
const record = (method: string, params: unknown) => {
  if (log !== undefined) appendFileSync(log, `${JSON.stringify({ method, params })}\n`)
}
if (log !== undefined) writeFileSync(`${log}.env`, JSON.stringify(process.env))

const sessions = new Map<string, { cwd: string; prompts: number; cancelled: boolean }>()
const historyFile = (sessionId: string) => join(process.env.ACP_TEST_HOME ?? "/tmp", `acp-${sessionId}.json`)
const history = (sessionId: string): Array<string> =>
  existsSync(historyFile(sessionId))
    ? (JSON.parse(readFileSync(historyFile(sessionId), "utf8")) as Array<string>)
    : []
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const app = agent({ name: "spindle-test-agent" })
  .onRequest("initialize", async ({ params }) => {
    record("initialize", params)
    if (script.initialize === "never") await new Promise(() => {})
    return {
      protocolVersion: PROTOCOL_VERSION,
      agentCapabilities: { loadSession: script.loadSession === true, mcpCapabilities: { http: true } }
    }
  })
  .onRequest("session/new", ({ params }) => {
    record("session/new", params)
    const sessionId = `s-${process.pid}-${sessions.size + 1}`
    sessions.set(sessionId, { cwd: params.cwd, prompts: 0, cancelled: false })
    const modes = script.modes ?? []
    return {
      sessionId,
      ...(modes.length === 0
        ? {}
        : {
            modes: {
              currentModeId: modes[0] as string,
              availableModes: modes.map((id) => ({ id, name: id }))
            }
          })
    }
  })
  .onRequest("session/load", async ({ params, client }) => {
    record("session/load", params)
    // A loaded session goes on with the script where its conversation left off.
    sessions.set(params.sessionId, {
      cwd: params.cwd,
      prompts: history(params.sessionId).length,
      cancelled: false
    })
    // The conversation so far, replayed as the protocol asks.
    for (const text of history(params.sessionId)) {
      await client.notify("session/update", {
        sessionId: params.sessionId,
        update: { sessionUpdate: "user_message_chunk", content: { type: "text", text } }
      })
    }
    return {}
  })
  .onRequest("session/set_mode", ({ params }) => {
    record("session/set_mode", params)
    return {}
  })
  .onNotification("session/cancel", ({ params }) => {
    record("session/cancel", params)
    const session = sessions.get(params.sessionId)
    if (session !== undefined) session.cancelled = true
  })
  .onRequest("session/prompt", async ({ params, client }) => {
    record("session/prompt", params)
    const session = sessions.get(params.sessionId)
    if (session === undefined) throw new Error(`no session ${params.sessionId}`)
    session.cancelled = false
    const text = params.prompt.map((block) => (block.type === "text" ? block.text : "")).join("")
    const earlier = history(params.sessionId)
    writeFileSync(historyFile(params.sessionId), JSON.stringify([...earlier, text]))
    const steps = script.turns[Math.min(session.prompts, script.turns.length - 1)] ?? []
    session.prompts++
    const update = (u: SessionUpdate) =>
      client.notify("session/update", { sessionId: params.sessionId, update: u })
    const say = (t: string) =>
      update({ sessionUpdate: "agent_message_chunk", content: { type: "text", text: t } })
    const path = (p: unknown) => (isAbsolute(String(p)) ? String(p) : join(session.cwd, String(p)))
    let stop: StopReason = "end_turn"
    let n = 0
    for (const step of steps) {
      if (session.cancelled) return { stopReason: "cancelled" as const }
      const id = `call-${++n}`
      if (typeof step.say === "string") {
        const half = Math.ceil(step.say.length / 2)
        await say(step.say.slice(0, half))
        await say(step.say.slice(half))
      } else if (typeof step.think === "string") {
        await update({ sessionUpdate: "agent_thought_chunk", content: { type: "text", text: step.think } })
      } else if (typeof step.run === "string") {
        await update({
          sessionUpdate: "tool_call",
          toolCallId: id,
          title: step.run,
          kind: "execute",
          status: "pending",
          rawInput: { command: step.run }
        })
        if (step.ask === true) {
          const answer = await client.request("session/request_permission", {
            sessionId: params.sessionId,
            toolCall: { toolCallId: id, kind: "execute", title: step.run, rawInput: { command: step.run } },
            options: [
              { optionId: "once", name: "Allow once", kind: "allow_once" },
              { optionId: "always", name: "Always allow", kind: "allow_always" },
              { optionId: "no", name: "Reject", kind: "reject_once" }
            ]
          })
          const chosen = answer.outcome.outcome === "selected" ? answer.outcome.optionId : "cancelled"
          await say(`permission: ${chosen}`)
          if (chosen !== "once" && chosen !== "always") {
            await update({ sessionUpdate: "tool_call_update", toolCallId: id, status: "failed" })
            if (chosen === "cancelled") return { stopReason: "cancelled" as const }
            continue
          }
        }
        await update({ sessionUpdate: "tool_call_update", toolCallId: id, status: "in_progress" })
        await update({
          sessionUpdate: "tool_call_update",
          toolCallId: id,
          status: "completed",
          content: [{ type: "content", content: { type: "text", text: String(step.output ?? "") } }],
          rawOutput: { exitCode: Number(step.exit ?? 0) }
        })
      } else if (typeof step.edit === "string") {
        await update({
          sessionUpdate: "tool_call",
          toolCallId: id,
          title: `Edit ${step.edit}`,
          kind: "edit",
          status: "completed",
          locations: [{ path: path(step.edit) }],
          content: [{ type: "diff", path: path(step.edit), oldText: "old", newText: String(step.text ?? "") }]
        })
      } else if (typeof step.write === "string") {
        try {
          await client.request("fs/write_text_file", {
            sessionId: params.sessionId,
            path: path(step.write),
            content: String(step.text ?? "")
          })
          await say(`wrote ${step.write}`)
        } catch (error) {
          await say(`write refused: ${(error as Error).message}`)
        }
      } else if (typeof step.read === "string") {
        try {
          const read = await client.request("fs/read_text_file", {
            sessionId: params.sessionId,
            path: path(step.read)
          })
          await say(`read: ${read.content}`)
        } catch (error) {
          await say(`read refused: ${(error as Error).message}`)
        }
      } else if (Array.isArray(step.plan)) {
        await update({
          sessionUpdate: "plan",
          entries: step.plan.map((content) => ({
            content: String(content),
            status: "pending",
            priority: "medium"
          }))
        })
      } else if (typeof step.usage === "number") {
        await update({ sessionUpdate: "usage_update", used: step.usage, size: 200_000 })
      } else if (typeof step.sleep === "number") {
        const until = Date.now() + step.sleep
        while (Date.now() < until && !session.cancelled) await sleep(20)
      } else if (typeof step.crash === "number") {
        process.stderr.write("the test agent crashed on purpose\n")
        process.exit(step.crash)
      } else if (step.echo === true) {
        await say(`prompt: ${text}`)
      } else if (step.recall === true) {
        await say(`I remember: ${earlier.join(" | ")}`)
      } else if (step.notes === true) {
        await update({
          sessionUpdate: "user_message_chunk",
          content: { type: "text", text: "an echo of the prompt" }
        })
        await update({
          sessionUpdate: "available_commands_update",
          availableCommands: [{ name: "review", description: "Review the changes" }]
        })
        await update({ sessionUpdate: "current_mode_update", currentModeId: "default" })
        await update({ sessionUpdate: "config_option_update", configOptions: [] })
        await update({ sessionUpdate: "session_info_update", title: "A session title" })
      } else if (typeof step.stop === "string") {
        stop = step.stop as StopReason
      }
    }
    return { stopReason: session.cancelled ? ("cancelled" as const) : stop }
  })

const connection = app.connect(
  ndJsonStream(
    Writable.toWeb(process.stdout) as WritableStream<Uint8Array>,
    Readable.toWeb(process.stdin) as ReadableStream<Uint8Array>
  )
)
await connection.closed
process.exit(0)
