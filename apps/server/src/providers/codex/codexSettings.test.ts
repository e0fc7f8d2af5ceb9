import { assert, describe, it } from "@effect/vitest"
import { MAX_ITEM_TEXT, type TurnId } from "@spindle/contracts"
import { codexDecision } from "./codexApprovals.ts"
import { reportsFor, toTurnItem } from "./codexReports.ts"
import { codexArgs, codexPolicy, mcpThreadConfig, resolveBinary } from "./codexSettings.ts"

const turn = "u1" as TurnId

describe("Codex settings and mapping", () => {
  it("runtimeMode maps to approval policy, sandbox and network; only auto-accept-edits accepts edits itself", () => {
    const noNetwork = { "sandbox_workspace_write.network_access": false }
    assert.deepStrictEqual(codexPolicy("approval-required"), {
      approvalPolicy: "untrusted",
      sandbox: "workspace-write",
      config: noNetwork,
      autoAcceptEdits: false
    })
    assert.deepStrictEqual(codexPolicy("auto-accept-edits"), {
      approvalPolicy: "untrusted",
      sandbox: "workspace-write",
      config: noNetwork,
      autoAcceptEdits: true
    })
    // Commands run without asking, inside the worktree-only sandbox with no network; stepping out asks.
    assert.deepStrictEqual(codexPolicy("sandboxed"), {
      approvalPolicy: "on-request",
      sandbox: "workspace-write",
      config: noNetwork,
      autoAcceptEdits: false
    })
    assert.deepStrictEqual(codexPolicy("full-access"), {
      approvalPolicy: "never",
      sandbox: "danger-full-access",
      config: {},
      autoAcceptEdits: false
    })
  })

  it("the token is in the thread's config only: not on the command line; the user's overrides come first, the project's last", () => {
    const project = { codexConfig: ['model="p"'] } as never
    const args = codexArgs({ enabled: true, codexBin: "codex", codexConfig: ['model="s"'] }, project)
    assert.deepStrictEqual(args, ["app-server", "-c", 'model="s"', "-c", 'model="p"'])
    const config = mcpThreadConfig("http://127.0.0.1:1/mcp", "spn_secret")
    assert.deepStrictEqual(config, {
      "mcp_servers.spindle.url": "http://127.0.0.1:1/mcp",
      "mcp_servers.spindle.http_headers": { Authorization: "Bearer spn_secret" },
      "mcp_servers.spindle.required": true,
      "mcp_servers.spindle.default_tools_approval_mode": "approve"
    })
  })

  it("a missing binary is not found; a name is looked up on PATH", () => {
    assert.isUndefined(resolveBinary("/nonexistent/codex", "/bin"))
    assert.isUndefined(resolveBinary("no-such-codex-binary", "/bin:/usr/bin"))
    assert.strictEqual(resolveBinary("sh", "/nonexistent:/bin"), "/bin/sh")
  })

  it("decisions fall back to what Codex offers for the request", () => {
    assert.strictEqual(codexDecision("accept-for-session", null), "acceptForSession")
    assert.strictEqual(codexDecision("accept-for-session", ["accept", "cancel"]), "accept")
    assert.strictEqual(codexDecision("decline", ["accept", "cancel"]), "cancel")
    assert.strictEqual(codexDecision("decline", ["accept", "decline"]), "decline")
  })

  it("notifications become reports: items capped, user messages skipped, the turn's end with its reason", () => {
    assert.isUndefined(toTurnItem({ type: "userMessage", id: "x" }))
    const long = "x".repeat(MAX_ITEM_TEXT + 10)
    const item = toTurnItem({ type: "agentMessage", id: "m", text: long } as never)
    assert.strictEqual(item?.text?.length, MAX_ITEM_TEXT)
    assert.deepStrictEqual(
      reportsFor(
        "turn/completed",
        { threadId: "c", turn: { id: "t", status: "failed", error: { message: "rate limited" } } },
        turn
      ),
      [{ type: "turn-ended", turnId: turn, status: "failed", reason: "rate limited" }]
    )
    assert.deepStrictEqual(
      reportsFor(
        "item/commandExecution/outputDelta",
        { threadId: "c", turnId: "t", itemId: "i", delta: "out" },
        turn
      ),
      [
        {
          type: "turn-item",
          turnId: turn,
          phase: "updated",
          item: { id: "i", kind: "command", output: "out" }
        }
      ]
    )
    const change = reportsFor(
      "item/completed",
      {
        threadId: "c",
        turnId: "t",
        item: {
          type: "fileChange",
          id: "f",
          status: "completed",
          changes: [{ path: "a.ts", kind: { type: "update" } }]
        }
      },
      turn
    )
    assert.deepStrictEqual(change, [
      {
        type: "turn-item",
        turnId: turn,
        phase: "completed",
        item: {
          id: "f",
          kind: "file-change",
          changes: [{ path: "a.ts", kind: "update" }],
          status: "completed"
        }
      }
    ])
  })
})
