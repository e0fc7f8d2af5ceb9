// What a runtime mode asks of Codex and what it then lets the agent do: a new project's threads
// start sandboxed (the stand-in app-server records the thread/start Spindle sends), and on the real
// Codex a sandboxed agent's command writes its worktree but nothing outside it and reaches no
// network (even when the project's Codex overrides turn it on), where a full-access one does both.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { homedir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { SpindleEvent, ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { tempDir } from "../../testing/fixtures.ts"
import { codexWorld, eventsUntil, providerWorld, turnEnded } from "../../testing/providers.ts"

const STAND_IN = join(import.meta.dirname, "../../testing/codexStandIn.mjs")

/** The thread/start (or resume) params the stand-in received, oldest first. */
const threadStarts = (home: string) =>
  readFileSync(join(home, "stand-in-requests.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as { method: string; params: Record<string, unknown> })
    .filter((request) => request.method === "thread/start" || request.method === "thread/resume")
    .map((request) => request.params)

/** What the turn's (first) command printed, as Codex reported it when it completed. */
const commandOutput = (events: ReadonlyArray<SpindleEvent>) => {
  for (const e of events) {
    if (e.type === "thread.turn-item" && e.payload.phase === "completed" && e.payload.item.kind === "command")
      return e.payload.item.output ?? ""
  }
  return ""
}

/** The probe's own answers, without what the user's shell start-up files print (pyenv, say). */
const probed = (output: string) =>
  output
    .trim()
    .split("\n")
    .filter((line) => /^(no-write-outside|wrote-outside|net-open|net-closed)$/.test(line))

/**
 * A scoped folder the sandbox does not let an agent write: not under /tmp or $TMPDIR (where the
 * checkout itself, and so node_modules/.cache, may well be), so in /var/tmp or else the home.
 */
const outsideTemp = Effect.acquireRelease(
  Effect.sync(() => {
    const writable = ["/tmp", process.env.TMPDIR].filter((d): d is string => d !== undefined && d !== "")
    const base = ["/var/tmp", homedir()].find(
      (dir) => existsSync(dir) && !writable.some((w) => dir === w || dir.startsWith(`${w}/`))
    )
    if (base === undefined) throw new Error("no folder outside /tmp and $TMPDIR to probe the sandbox with")
    return mkdtempSync(join(base, "spindle-sandbox-probe-"))
  }),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

describe("runtime modes in Codex", () => {
  it.live(
    "a project created without a default starts threads sandboxed: Codex gets workspace-write, on-request and no network; full-access is asked for by name",
    () =>
      Effect.gen(function* () {
        const home = yield* tempDir("spindle-standin-home-")
        const world = yield* providerWorld({
          enabled: true,
          codexBin: STAND_IN,
          codexConfig: [],
          codexHome: home
        })
        yield* world.start("t1", "hello")
        yield* eventsUntil(world.engine, "t1", (e) => e.type === "thread.turn-ended", "20 seconds")
        assert.strictEqual((yield* world.engine.getThread("t1" as ThreadId))?.runtimeMode, "sandboxed")
        const [sandboxed] = threadStarts(home)
        assert.strictEqual(sandboxed?.approvalPolicy, "on-request")
        assert.strictEqual(sandboxed?.sandbox, "workspace-write")
        // Beside the MCP endpoint and the shell policy, the mode pins the network off.
        assert.strictEqual(
          (sandboxed?.config as Record<string, unknown> | undefined)?.[
            "sandbox_workspace_write.network_access"
          ],
          false
        )

        yield* world.start("t2", "hello", { runtimeMode: "full-access" })
        yield* eventsUntil(world.engine, "t2", (e) => e.type === "thread.turn-ended", "20 seconds")
        const [, free] = threadStarts(home)
        assert.strictEqual(free?.approvalPolicy, "never")
        assert.strictEqual(free?.sandbox, "danger-full-access")
      }),
    60_000
  )

  it.live(
    "on the real Codex, a sandboxed agent writes its worktree but not outside it and has no network; a full-access one has both",
    () =>
      Effect.gen(function* () {
        // The project's own override asks for the network: the mode's pinned config wins over it.
        const world = yield* codexWorld({ codexConfig: ["sandbox_workspace_write.network_access=true"] })
        // Outside the worktree and outside /tmp and $TMPDIR (which the sandbox lets the agent write).
        const outside = yield* outsideTemp
        const probe = (name: string) =>
          [
            `echo in > inside-${name}.txt`,
            `touch ${join(outside, name)} 2>/dev/null && echo wrote-outside || echo no-write-outside`,
            `(exec 3<>/dev/tcp/127.0.0.1/${world.model.port}) 2>/dev/null && echo net-open || echo net-closed`
          ].join("; ")
        const sandboxed = yield* world.start("t1", `[[run: ${probe("sandboxed")}]]`)
        const closed = commandOutput(yield* turnEnded(world.engine, "t1"))
        assert.strictEqual((yield* world.engine.getThread("t1" as ThreadId))?.runtimeMode, "sandboxed")
        assert.isTrue(
          existsSync(join(sandboxed.worktreePath, "inside-sandboxed.txt")),
          "it writes its worktree"
        )
        assert.deepStrictEqual(probed(closed), ["no-write-outside", "net-closed"])
        assert.isFalse(existsSync(join(outside, "sandboxed")))

        const free = yield* world.start("t2", `[[run: ${probe("free")}]]`, { runtimeMode: "full-access" })
        const open = commandOutput(yield* turnEnded(world.engine, "t2"))
        assert.isTrue(existsSync(join(free.worktreePath, "inside-free.txt")))
        assert.deepStrictEqual(probed(open), ["wrote-outside", "net-open"])
        assert.isTrue(existsSync(join(outside, "free")))
      }),
    180_000
  )
})
