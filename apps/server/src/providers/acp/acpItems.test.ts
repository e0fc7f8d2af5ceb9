// ACP session updates as turn items: chunk runs, tool calls by kind with their output, exit code
// and diffs, plans, usage, and what a turn's end closes.
import type { SessionUpdate } from "@agentclientprotocol/sdk"
import { assert, describe, it } from "@effect/vitest"
import type { ProviderReport, TurnId } from "@spindle/contracts"
import { closeTurn, newAcpTurn, reportsForUpdate } from "./acpItems.ts"

const TURN = "turn-1" as TurnId

const run = (updates: ReadonlyArray<SessionUpdate>, end?: "completed" | "interrupted") => {
  const turn = newAcpTurn(TURN)
  const reports: Array<ProviderReport> = []
  for (const update of updates) reports.push(...reportsForUpdate(turn, update))
  if (end !== undefined) reports.push(...closeTurn(turn, end))
  return reports.map((r) =>
    r.type === "turn-item"
      ? `${r.phase} ${r.item.kind} ${JSON.stringify({ ...r.item, kind: undefined })}`
      : r.type
  )
}

const text = (t: string) => ({ type: "text" as const, text: t })

describe("ACP updates as turn items", () => {
  it("a run of message chunks is one item; a thought between runs starts another", () => {
    assert.deepStrictEqual(
      run(
        [
          { sessionUpdate: "agent_message_chunk", content: text("Hel") },
          { sessionUpdate: "agent_message_chunk", content: text("lo") },
          { sessionUpdate: "agent_thought_chunk", content: text("hmm") },
          { sessionUpdate: "agent_message_chunk", content: text("Done.") }
        ],
        "completed"
      ),
      [
        'started agent-message {"id":"msg-1","text":""}',
        'updated agent-message {"id":"msg-1","text":"Hel"}',
        'updated agent-message {"id":"msg-1","text":"lo"}',
        'completed agent-message {"id":"msg-1","text":"Hello"}',
        'started reasoning {"id":"thought-2","text":""}',
        'updated reasoning {"id":"thought-2","text":"hmm"}',
        'completed reasoning {"id":"thought-2","text":"hmm"}',
        'started agent-message {"id":"msg-3","text":""}',
        'updated agent-message {"id":"msg-3","text":"Done."}',
        'completed agent-message {"id":"msg-3","text":"Done."}'
      ]
    )
  })

  it("an execute call is a command with its output and exit code; an edit a file change with its paths", () => {
    assert.deepStrictEqual(
      run([
        {
          sessionUpdate: "tool_call",
          toolCallId: "c1",
          title: "Run tests",
          kind: "execute",
          status: "pending",
          rawInput: { command: "npm test" }
        },
        {
          sessionUpdate: "tool_call_update",
          toolCallId: "c1",
          status: "in_progress",
          content: [{ type: "content", content: text("1 passing") }]
        },
        {
          sessionUpdate: "tool_call_update",
          toolCallId: "c1",
          status: "completed",
          content: [
            { type: "content", content: text("1 passing") },
            { type: "content", content: text("done") }
          ],
          rawOutput: { exitCode: 0 }
        },
        {
          sessionUpdate: "tool_call",
          toolCallId: "c2",
          title: "Edit a.ts",
          kind: "edit",
          status: "completed",
          content: [
            { type: "diff", path: "/w/a.ts", oldText: "x", newText: "y" },
            { type: "diff", path: "/w/b.ts", newText: "new" }
          ]
        }
      ]),
      [
        'started command {"id":"tool-c1","command":"npm test","output":""}',
        'updated command {"id":"tool-c1","output":"1 passing\\n"}',
        'completed command {"id":"tool-c1","command":"npm test","output":"1 passing\\ndone\\n","exitCode":0,"status":"completed"}',
        'started file-change {"id":"tool-c2","changes":[{"path":"/w/a.ts","kind":"update"},{"path":"/w/b.ts","kind":"add"}]}',
        'completed file-change {"id":"tool-c2","changes":[{"path":"/w/a.ts","kind":"update"},{"path":"/w/b.ts","kind":"add"}],"status":"completed"}'
      ]
    )
  })

  it("a command's exit code, when the agent gives none: said in its output, or 0 for a completed one", () => {
    assert.deepStrictEqual(
      run([
        { sessionUpdate: "tool_call", toolCallId: "a", title: "`make`", kind: "execute", status: "pending" },
        {
          sessionUpdate: "tool_call_update",
          toolCallId: "a",
          status: "failed",
          content: [{ type: "content", content: text("Exit code 3\nno rule to make target") }]
        },
        { sessionUpdate: "tool_call", toolCallId: "b", title: "`ls`", kind: "execute", status: "pending" },
        { sessionUpdate: "tool_call_update", toolCallId: "b", status: "completed", content: [] }
      ]).filter((line) => line.startsWith("completed")),
      [
        'completed command {"id":"tool-a","command":"`make`","output":"Exit code 3\\nno rule to make target\\n","exitCode":3,"status":"failed"}',
        'completed command {"id":"tool-b","command":"`ls`","output":"","exitCode":0,"status":"completed"}'
      ]
    )
  })

  it("other calls are tool calls; a plan, usage; a turn that ends closes what is open", () => {
    assert.deepStrictEqual(
      run(
        [
          {
            sessionUpdate: "tool_call",
            toolCallId: "r",
            title: "Read a.ts",
            kind: "read",
            status: "in_progress"
          },
          {
            sessionUpdate: "plan",
            entries: [
              { content: "look", status: "completed", priority: "high" },
              { content: "fix", status: "pending", priority: "medium" }
            ]
          },
          { sessionUpdate: "usage_update", used: 1200, size: 200000 },
          {
            sessionUpdate: "tool_call",
            toolCallId: "x",
            title: "sleep",
            kind: "execute",
            status: "in_progress"
          }
        ],
        "interrupted"
      ),
      [
        'started tool-call {"id":"tool-r","tool":"Read a.ts","server":"agent"}',
        'completed other {"id":"plan-1","status":"plan","text":"[x] look\\n[ ] fix"}',
        "turn-usage",
        'started command {"id":"tool-x","command":"sleep","output":""}',
        'completed tool-call {"id":"tool-r","tool":"Read a.ts","server":"agent","status":"interrupted"}',
        'completed command {"id":"tool-x","command":"sleep","output":"","exitCode":null,"status":"interrupted"}'
      ]
    )
  })
})
