// The fake Anthropic API on its own: streamed and plain answers, directives, side requests, count_tokens,
// refused outside requests, a held stream ended by close().
import * as http from "node:http"
import { afterEach, describe, expect, it } from "vitest"
import { type FakeAnthropic, promptsOf, startFakeAnthropic } from "./fakeAnthropic.ts"

const tools = [{ name: "Bash" }, { name: "mcp__spindle__t3_thread_start" }]

/** POSTs `body` and returns the status and the SSE events (or the JSON body). */
const post = async (fake: FakeAnthropic, path: string, body: unknown) => {
  const response = await fetch(`${fake.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body)
  })
  const text = await response.text()
  if (!response.headers.get("content-type")?.startsWith("text/event-stream"))
    return { status: response.status, json: JSON.parse(text), events: [] as Array<any> }
  const events = text
    .split("\n\n")
    .filter((chunk) => chunk.includes("data: "))
    .map((chunk) => JSON.parse(chunk.slice(chunk.indexOf("data: ") + 6)))
  return { status: response.status, json: undefined, events }
}

const user = (text: string) => ({ role: "user", content: [{ type: "text", text }] })

let fake: FakeAnthropic | undefined
afterEach(async () => {
  await fake?.close()
  fake = undefined
})

describe("fakeAnthropic", () => {
  it("streams a tool call for a run directive, then quotes its result", async () => {
    fake = await startFakeAnthropic()
    const prompt = user("<system-reminder>x</system-reminder>")
    const first = [prompt, user("go [[run: echo hi]]")]
    const call = await post(fake, "/v1/messages?beta=true", {
      model: "m",
      stream: true,
      tools,
      messages: first
    })
    expect(call.events.map((e) => e.type)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop"
    ])
    expect(call.events[1].content_block).toMatchObject({ type: "tool_use", name: "Bash", input: {} })
    const json = call.events
      .filter((e) => e.delta?.type === "input_json_delta")
      .map((e) => e.delta.partial_json)
      .join("")
    expect(JSON.parse(json)).toMatchObject({ command: "echo hi" })
    expect(call.events[5].delta.stop_reason).toBe("tool_use")

    const id = call.events[1].content_block.id
    const result = { role: "user", content: [{ type: "tool_result", tool_use_id: id, content: "hi\n" }] }
    const assistant = { role: "assistant", content: [call.events[1].content_block] }
    const done = await post(fake, "/v1/messages", {
      stream: true,
      tools,
      messages: [...first, assistant, result]
    })
    const text = done.events.filter((e) => e.delta?.type === "text_delta").map((e) => e.delta.text)
    expect(text.join("")).toBe("ran `echo hi`:\nhi\n")
    expect(done.events.at(-2).delta.stop_reason).toBe("end_turn")
    expect(fake.turns()).toHaveLength(2)
    expect(promptsOf(fake.turns()[1]!)).toEqual(["go [[run: echo hi]]"])
  })

  it("a prompt after an interrupted turn, sent in the same message as the interrupted one, is the one that directs", async () => {
    fake = await startFakeAnthropic()
    const merged = {
      role: "user",
      content: [
        { type: "text", text: "<system-reminder>x</system-reminder>" },
        { type: "text", text: "tell a story [[slow: 60000]]" },
        { type: "text", text: "[Request interrupted by user]" },
        { type: "text", text: "still there?" }
      ]
    }
    const answered = await post(fake, "/v1/messages", { model: "m", tools, messages: [merged] })
    expect(answered.json.content).toEqual([{ type: "text", text: "done: still there?" }])
    expect(promptsOf(fake.turns()[0]!)).toEqual(["tell a story [[slow: 60000]]", "still there?"])
  })

  it("$CWD in a call's arguments is the working directory Claude Code's system prompt names", async () => {
    fake = await startFakeAnthropic()
    const answered = await post(fake, "/v1/messages", {
      model: "m",
      tools: [{ name: "Write" }],
      system: [
        { type: "text", text: "<env>\nWorking directory: /work/tree\nIs directory a git repo: Yes\n</env>" }
      ],
      messages: [user('write [[call: Write {"file_path":"$CWD/a.txt","content":"x"}]]')]
    })
    expect(answered.json.content).toEqual([
      {
        type: "tool_use",
        id: expect.any(String),
        name: "Write",
        input: { file_path: "/work/tree/a.txt", content: "x" }
      }
    ])
  })

  it("takes queued replies first, answers side requests and count_tokens, calls MCP tools by server.tool", async () => {
    fake = await startFakeAnthropic()
    fake.replies.push({ tool: "Write", input: { file_path: "/x", content: "y" } })
    const plain = await post(fake, "/v1/messages", { model: "m", tools, messages: [user("hello")] })
    expect(plain.json).toMatchObject({
      type: "message",
      stop_reason: "tool_use",
      content: [{ type: "tool_use", name: "Write" }]
    })
    const side = await post(fake, "/v1/messages", {
      model: "haiku",
      stream: true,
      messages: [user("title?")]
    })
    expect(side.events.find((e) => e.delta?.type === "text_delta").delta.text).toBe("o")
    const count = await post(fake, "/v1/messages/count_tokens", { messages: [user("foo")] })
    expect(count.json.input_tokens).toBeGreaterThan(0)
    const spawn = await post(fake, "/v1/messages", { tools, messages: [user('[[spawn: {"title": "t"}]]')] })
    expect(spawn.json.content[0]).toMatchObject({
      name: "mcp__spindle__t3_thread_start",
      input: { title: "t" }
    })
    const failed = await post(fake, "/v1/messages", { tools, messages: [user("[[fail: 529]]")] })
    expect(failed).toMatchObject({ status: 529, json: { error: { type: "overloaded_error" } } })
    expect(fake.requests.filter((r) => r.side)).toHaveLength(2)
  })

  it("refuses proxied requests, and close() ends a held stream", async () => {
    fake = await startFakeAnthropic()
    const connect = await new Promise<number | undefined>((resolve, reject) => {
      const req = http.request({
        host: "127.0.0.1",
        port: fake!.port,
        method: "CONNECT",
        path: "example.org:443"
      })
      req.on("connect", (res, socket) => {
        socket.destroy()
        resolve(res.statusCode)
      })
      req.on("error", reject)
      req.end()
    })
    expect(connect).toBe(403)
    expect(fake.outside).toEqual(["example.org:443"])

    fake.replies.push({ text: "a long held answer", holdMs: 60_000 })
    const response = await fetch(`${fake.url}/v1/messages`, {
      method: "POST",
      body: JSON.stringify({ stream: true, tools, messages: [user("hold")] })
    })
    const reader = response.body!.getReader()
    await reader.read()
    const started = Date.now()
    await fake.close()
    fake = undefined
    await expect(
      (async () => {
        while (!(await reader.read()).done) {}
      })()
    ).rejects.toThrow()
    expect(Date.now() - started).toBeLessThan(2000)
  })
})
