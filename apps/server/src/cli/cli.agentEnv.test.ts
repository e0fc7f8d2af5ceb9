// `spindle project add/update --agent-env NAME=VALUE` through the real bin against a real server.
import { resolve } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { gitRepo } from "../testing/fixtures.ts"
import { inProcessServer } from "../testing/inProcessServer.ts"
import { runProcess } from "../testing/serverProcess.ts"

const BIN = resolve(import.meta.dirname, "../../bin/spindle.mjs")

const spindle = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  runProcess(process.execPath, [BIN, ...args], { env })

const agentEnvOf = (stdout: string) =>
  (JSON.parse(stdout) as Array<{ id: string; agentEnv: Record<string, string> }>).find((p) => p.id === "demo")
    ?.agentEnv

describe("spindle project --agent-env", () => {
  it.live(
    "sets, replaces and clears a project's agent variables and sets its ACP agent; refuses bad names, Spindle's own and a bad command, changing nothing",
    () =>
      Effect.gen(function* () {
        const server = yield* inProcessServer()
        const repo = yield* gitRepo
        const env = { SPINDLE_HOME: server.home }
        const added = yield* spindle(
          ["project", "add", repo, "--id", "demo", "--agent-env", "NODE_OPTIONS=--max-old-space-size=4096"],
          env
        )
        assert.strictEqual(added.code, 0, added.stderr)
        assert.include(added.stdout, "agent env: NODE_OPTIONS")
        const list = () => spindle(["project", "list", "--json"], env)
        assert.deepStrictEqual(agentEnvOf((yield* list()).stdout), {
          NODE_OPTIONS: "--max-old-space-size=4096"
        })

        const replaced = yield* spindle(["project", "update", "demo", "--agent-env", "A=b=c"], env)
        assert.strictEqual(replaced.code, 0, replaced.stderr)
        assert.deepStrictEqual(agentEnvOf((yield* list()).stdout), { A: "b=c" })

        const bad = yield* spindle(["project", "update", "demo", "--agent-env", "1BAD=x"], env)
        assert.notStrictEqual(bad.code, 0)
        assert.include(bad.stderr, "agent variable names")
        const reserved = yield* spindle(
          ["project", "update", "demo", "--agent-env", "SPINDLE_MCP_TOKEN=spn_forged"],
          env
        )
        assert.notStrictEqual(reserved.code, 0)
        assert.include(reserved.stderr, "Spindle's own")
        const malformed = yield* spindle(["project", "update", "demo", "--agent-env", "novalue"], env)
        assert.notStrictEqual(malformed.code, 0)
        assert.include(malformed.stderr, "--agent-env takes NAME=VALUE")
        assert.deepStrictEqual(agentEnvOf((yield* list()).stdout), { A: "b=c" }, "refusals changed nothing")

        const cleared = yield* spindle(["project", "update", "demo", "--clear-agent-env"], env)
        assert.strictEqual(cleared.code, 0, cleared.stderr)
        assert.deepStrictEqual(agentEnvOf((yield* list()).stdout), {})

        // The ACP agent the acp provider runs (and a preset, when set): words or a JSON array.
        const acp = yield* spindle(["project", "update", "demo", "--acp-agent", "my-agent --acp"], env)
        assert.strictEqual(acp.code, 0, acp.stderr)
        assert.include(acp.stdout, "acp agent: my-agent --acp")
        const acpAgentOf = (stdout: string) =>
          (JSON.parse(stdout) as Array<{ acpAgent: unknown }>)[0]?.acpAgent
        assert.deepStrictEqual(acpAgentOf((yield* list()).stdout), ["my-agent", "--acp"])
        const badAcp = yield* spindle(["project", "update", "demo", "--acp-agent", "[1]"], env)
        assert.strictEqual(badAcp.code, 2)
        assert.include(badAcp.stderr, "--acp-agent as JSON must be an array of strings")
        assert.deepStrictEqual(acpAgentOf((yield* list()).stdout), ["my-agent", "--acp"], "nothing changed")
      }),
    90_000
  )
})
