// `spindle thread merge` against a real server whose command agent commits in its worktree: a dry
// run, the merge into the repository's checkout of main, --json, a missing target (exit 1) and a
// name git would read otherwise (exit 2, before connecting); a running turn with uncommitted work
// is refused, then stopped, committed, squashed and archived in one call.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { git } from "../testing/fixtures.ts"
import { eventsUntil, providersOn, providerWorld, turnEnded } from "../testing/providers.ts"
import { runSpindle } from "../testing/serverProcess.ts"

const spindle = runSpindle

const AGENT = [
  "/bin/sh",
  "-c",
  'printf "%s\\n" "$1" > notes.txt; git add notes.txt; git -c user.name=a -c user.email=a@spindle.invalid commit -qm note; echo "done: $1"',
  "agent",
  "{prompt}"
]

describe("spindle thread merge", () => {
  it.live("dry run, merge into main, --json; refusals with their exit codes", () =>
    Effect.gen(function* () {
      const world = yield* providerWorld(providersOn, { agentCommand: AGENT })
      const env = { SPINDLE_HOME: world.server.home }
      yield* world.start("t1", "write notes", { provider: "command" })
      yield* turnEnded(world.engine, "t1")
      const mainBefore = git(world.repo, "rev-parse", "refs/heads/main").trim()

      const dry = yield* spindle(["thread", "merge", "t1", "--dry-run"], env)
      assert.strictEqual(dry.code, 0, dry.stderr)
      assert.include(dry.stdout, "into main (ff-only) would apply cleanly")
      assert.include(dry.stdout, "notes.txt +1 -0")
      assert.strictEqual(git(world.repo, "rev-parse", "refs/heads/main").trim(), mainBefore)

      const bad = yield* spindle(["thread", "merge", "t1", "--into", "main..x"], env)
      assert.strictEqual(bad.code, 2, bad.stderr)
      assert.include(bad.stderr, "--into")
      const missing = yield* spindle(["thread", "merge", "t1", "--into", "nowhere"], env)
      assert.strictEqual(missing.code, 1, missing.stderr)
      assert.include(missing.stderr, "There is no branch nowhere")

      const merged = yield* spindle(["thread", "merge", "t1", "--json"], env)
      assert.strictEqual(merged.code, 0, merged.stderr)
      const result = JSON.parse(merged.stdout) as { commit: string; target: string; strategy: string }
      assert.strictEqual(result.target, "main")
      assert.strictEqual(result.strategy, "ff-only")
      assert.strictEqual(git(world.repo, "rev-parse", "refs/heads/main").trim(), result.commit)
      assert.strictEqual(readFileSync(join(world.repo, "notes.txt"), "utf8"), "write notes\n")
    })
  )

  it.live(
    "--stop --commit --archive: a running agent's uncommitted work merged and the thread archived",
    () =>
      Effect.gen(function* () {
        const busy = ["/bin/sh", "-c", 'printf "wip\\n" > wip.txt; echo "started"; exec sleep 60']
        const world = yield* providerWorld(providersOn, { agentCommand: busy })
        const env = { SPINDLE_HOME: world.server.home }
        yield* world.start("t1", "work", { provider: "command" })
        yield* eventsUntil(world.engine, "t1", (e) => e.type === "thread.turn-item")

        const running = yield* spindle(["thread", "merge", "t1"], env)
        assert.strictEqual(running.code, 1, running.stderr)
        assert.include(running.stderr, "--stop")

        const merged = yield* spindle(
          ["thread", "merge", "t1", "--stop", "--commit", "--archive", "--strategy", "squash"],
          env
        )
        assert.strictEqual(merged.code, 0, merged.stderr)
        assert.include(merged.stdout, "Stopped its turn first (it ended interrupted).")
        assert.include(merged.stdout, "Committed its uncommitted changes first as")
        assert.include(merged.stdout, "into main (squash)")
        assert.include(merged.stdout, "Archived thread t1.")
        assert.strictEqual(readFileSync(join(world.repo, "wip.txt"), "utf8"), "wip\n")
        assert.strictEqual(
          git(world.repo, "log", "-1", "--format=%s", "refs/heads/main").trim(),
          "Squash thread t1 (work) into main"
        )
        const thread = yield* world.engine.getThread("t1" as never)
        assert.strictEqual(thread?.status, "archived")
        assert.strictEqual(thread?.merged?.strategy, "squash")
      })
  )
})
