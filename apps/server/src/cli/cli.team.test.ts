import { assert, describe, it } from "@effect/vitest"
import type { ThreadId } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { ProviderTokens } from "../auth/ProviderTokens.ts"
import { callTool, mcpClient } from "../testing/mcp.ts"
import { PROJECT, providersOn, providerWorld, turnEnded } from "../testing/providers.ts"
import { runSpindle } from "../testing/serverProcess.ts"

const spindle = runSpindle

const AGENT = [
  "/bin/sh",
  "-c",
  'case "$1" in slow*) exec sleep 60;; esac; printf "%s\\n" "$1" > notes.txt; git add notes.txt; git -c user.name=a -c user.email=a@spindle.invalid commit -qm note; echo draft > draft.txt; echo "done: $1"',
  "agent",
  "{prompt}"
]

describe("spindle CLI for a team of threads", () => {
  it.live("wait (0 when reached, 4 on timeout), children as a tree, show with changes, diff, stop", () =>
    Effect.gen(function* () {
      const world = yield* providerWorld(providersOn, { agentCommand: AGENT })
      const env = { SPINDLE_HOME: world.server.home }
      yield* world.start("lead", "lead the team", { provider: "command" })
      yield* turnEnded(world.engine, "lead")
      const tokens = Context.get(world.server.context, ProviderTokens)
      const issued = yield* tokens.issue({
        threadId: "lead" as ThreadId,
        projectId: PROJECT,
        providerSessionId: "session-lead",
        capabilities: ["thread-management", "thread-read"]
      })
      const agent = yield* mcpClient(world.server.url, issued.token)
      const batch = (yield* callTool(agent, "t3_threads_start", {
        provider: "command",
        threads: [{ prompt: "alpha" }, { prompt: "slow beta" }]
      })).structuredContent as { threads: Array<{ threadId: string }> }
      const [alpha, slow] = batch.threads.map((t) => t.threadId) as [string, string]
      // Every id Spindle makes has one shape: the agent's (random, or derived from its request id)
      // and the CLI's alike.
      const retried = (yield* callTool(agent, "t3_thread_start", {
        provider: "command",
        prompt: "gamma",
        clientRequestId: "req-1"
      })).structuredContent as { threadId: string }
      const fromCli = JSON.parse(
        (yield* spindle(
          ["thread", "start", "--project", PROJECT, "--prompt", "delta", "--provider", "command", "--json"],
          env
        )).stdout
      ) as { id: string }
      for (const id of [alpha, slow, retried.threadId, fromCli.id]) assert.match(id, /^t-[0-9a-f]{12}$/)

      const waited = yield* spindle(["thread", "wait", alpha, "--timeout", "30"], env)
      assert.strictEqual(waited.code, 0, waited.stderr)
      assert.include(waited.stdout, `${alpha}  completed`)
      const timedOut = yield* spindle(["thread", "wait", alpha, slow, "--timeout", "1"], env)
      assert.strictEqual(timedOut.code, 4, timedOut.stderr)
      assert.include(timedOut.stderr, "timed out after 1 s")
      const any = yield* spindle(["thread", "wait", alpha, slow, "--any", "--timeout", "5"], env)
      assert.strictEqual(any.code, 0, any.stderr)

      const tree = yield* spindle(["thread", "children", "lead"], env)
      assert.strictEqual(tree.code, 0, tree.stderr)
      const lines = tree.stdout.trim().split("\n")
      assert.strictEqual(lines[0], "lead")
      // The tree, then what the conflict radar says of the live children.
      const radarAt = lines.findIndex((line) => /^(no overlaps|overlaps \(conflict radar\))/.test(line))
      assert.isAbove(radarAt, 1, tree.stdout)
      assert.isTrue(
        lines.slice(1, radarAt).every((line) => /^(├─|└─) /.test(line)),
        tree.stdout
      )
      assert.include(tree.stdout, alpha)
      assert.include(tree.stdout, slow)

      const shown = yield* spindle(["thread", "show", alpha], env)
      // The new untracked draft counts its line, as it will once added.
      assert.include(shown.stdout, "2 file(s), +2 -0, 1 commit(s) ahead")
      assert.include(shown.stdout, "? draft.txt +1 -0")
      const json = JSON.parse((yield* spindle(["thread", "show", alpha, "--json"], env)).stdout)
      assert.strictEqual(json.latestTurn.lastMessage, "done: alpha")
      const diff = yield* spindle(["thread", "diff", alpha], env)
      assert.strictEqual(diff.code, 0, diff.stderr)
      assert.include(diff.stdout, "+alpha")
      assert.include(diff.stdout, "b/draft.txt")

      const stopped = yield* spindle(["thread", "stop", slow, "--archive"], env)
      assert.strictEqual(stopped.code, 0, stopped.stderr)
      assert.match(
        stopped.stdout,
        new RegExp(`^Turn \\S+ of ${slow} ended interrupted\\. Archived ${slow}\\.$`, "m")
      )
      const unknown = yield* spindle(["thread", "wait", "nope"], env)
      assert.strictEqual(unknown.code, 1)
      assert.include(unknown.stderr, "not-found")
    })
  )
})
