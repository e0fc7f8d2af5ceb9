// Best of N through the real CLI against a real server: three variants of one prompt, whose command
// agent (a real process, committing in its real worktree) takes a different role in each (claimed
// with mkdir, which only one process wins); a check command (`test -f ok.txt`) passes in two and
// fails in one; `attempt show` compares states, diff stats, overlaps and exit codes; bad input and
// bad picks are refused with nothing changed; `attempt pick` merges the chosen variant into main and
// archives the others, whose unmerged commits keep their worktrees and branches.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { AttemptComparison, AttemptPickResult, Thread } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { git } from "../testing/fixtures.ts"
import { eventsUntil, providersOn, providerWorld } from "../testing/providers.ts"
import { runSpindle } from "../testing/serverProcess.ts"

const CHECK =
  'test -f ok.txt && test -z "$SPINDLE_TEST_SERVER_SECRET" && test "$SPINDLE_WORKTREE_PATH" = "$PWD"'

const commit = 'git add -A; git -c user.name=a -c user.email=a@spindle.invalid commit -qm "variant $n"'

/** Role 0 and 1 write ok.txt and shared.txt (so they overlap) and a file of their own; role 2 only c.txt. */
const agent = (roles: string) => [
  "/bin/sh",
  "-c",
  [
    `for i in 0 1 2; do if mkdir "${roles}/$i" 2>/dev/null; then n=$i; break; fi; done`,
    'if [ "$n" = 2 ]; then echo c > c.txt; else echo ok > ok.txt; echo "$n" > shared.txt; echo "$n" > "own$n.txt"; fi',
    commit,
    'echo "variant $n done"'
  ].join("; "),
  "agent"
]

describe("spindle thread start --variants / spindle attempt", () => {
  it.live("3 variants, a check in each, show, refusals, pick", () =>
    Effect.gen(function* () {
      const roles = mkdtempSync(join(tmpdir(), "spindle-roles-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(roles, { recursive: true, force: true })))
      // A variable of the server's own environment that the setup allowlist leaves out: the check
      // must not see it (it sees the allowlist and Spindle's variables, as a setup script does).
      process.env.SPINDLE_TEST_SERVER_SECRET = "secret"
      yield* Effect.addFinalizer(() => Effect.sync(() => delete process.env.SPINDLE_TEST_SERVER_SECRET))
      const world = yield* providerWorld(providersOn, { agentCommand: agent(roles) })
      const env = { SPINDLE_HOME: world.server.home }
      const mainBefore = git(world.repo, "rev-parse", "refs/heads/main").trim()

      // Bad input: refused before anything is started.
      const refusals = [
        [["--variants", "9"], "--variants"],
        [["--variants", "1"], "--variants"],
        [["--variants", "3", "--models", "a,b"], "one entry per variant"],
        [["--variants", "2", "--models", "a,b", "--providers", "codex,codex"], "not both"],
        [["--check", "true"], "--check goes with --variants"]
      ] as const
      for (const [flags, says] of refusals) {
        const bad = yield* runSpindle(["thread", "start", "--project", "p1", "--prompt", "go", ...flags], env)
        assert.strictEqual(bad.code, 2, `${flags.join(" ")}: ${bad.stderr}`)
        assert.include(bad.stderr, says)
      }
      assert.strictEqual(
        (yield* world.engine.readModel).threads.pipe((t) => [...t].length),
        0
      )

      const started = yield* runSpindle(
        [
          "thread",
          "start",
          "--project",
          "p1",
          "--prompt",
          "do the task",
          "--variants",
          "3",
          "--providers",
          "command,command,command",
          "--check",
          CHECK,
          "--json"
        ],
        env
      )
      assert.strictEqual(started.code, 0, started.stderr)
      const { attemptId, threads } = JSON.parse(started.stdout) as {
        attemptId: string
        threads: ReadonlyArray<Thread>
      }
      assert.match(attemptId, /^a-[0-9a-f]+$/)
      assert.strictEqual(threads.length, 3)
      assert.deepStrictEqual(
        threads.map((t) => [t.attempt?.id, t.attempt?.index, t.attempt?.of, t.attempt?.check]),
        [0, 1, 2].map((i) => [attemptId, i, 3, CHECK])
      )
      // Each variant's check is recorded after its turn completes.
      for (const thread of threads) {
        yield* eventsUntil(world.engine, thread.id, (e) => e.type === "thread.check-completed")
      }

      const shown = yield* runSpindle(["attempt", "show", attemptId, "--json"], env)
      assert.strictEqual(shown.code, 0, shown.stderr)
      const comparison = JSON.parse(shown.stdout) as AttemptComparison
      assert.strictEqual(comparison.check, CHECK)
      assert.strictEqual(comparison.picked, null)
      const roleOf = (v: AttemptComparison["variants"][number]) =>
        v.diff?.files.some((f) => f.path === "c.txt")
          ? 2
          : v.diff?.files.some((f) => f.path === "own0.txt")
            ? 0
            : 1
      const byRole = [0, 1, 2].map((role) => {
        const variant = comparison.variants.find((v) => roleOf(v) === role)
        assert.isDefined(variant, `a variant took role ${role}`)
        return variant as AttemptComparison["variants"][number]
      })
      for (const variant of comparison.variants) assert.strictEqual(variant.turn, "completed")
      assert.deepStrictEqual(
        byRole.map((v) =>
          v.check === null || v.check === "pending" ? v.check : [v.check.status, v.check.exitCode]
        ),
        [
          ["passed", 0],
          ["passed", 0],
          ["failed", 1]
        ]
      )
      assert.deepStrictEqual(
        byRole.map((v) => [v.diff?.filesChanged, v.diff?.commitsAhead]),
        [
          [3, 1],
          [3, 1],
          [1, 1]
        ]
      )
      assert.deepStrictEqual(
        byRole[2]?.diff?.files.map((f) => f.path),
        ["c.txt"]
      )
      // Only the two that wrote ok.txt and shared.txt overlap.
      assert.strictEqual(comparison.overlaps.length, 1)
      assert.sameMembers(
        [...(comparison.overlaps[0]?.threads ?? [])],
        [byRole[0]?.threadId, byRole[1]?.threadId]
      )
      assert.deepStrictEqual(comparison.overlaps[0]?.files, ["ok.txt", "shared.txt"])

      const human = yield* runSpindle(["attempt", "show", attemptId], env)
      assert.strictEqual(human.code, 0, human.stderr)
      assert.include(human.stdout, `Attempt ${attemptId}: 3 variants, check: ${CHECK}`)
      assert.include(human.stdout, "exit 1")
      assert.include(human.stdout, "ok.txt, shared.txt")

      const failing = yield* runSpindle(["thread", "show", byRole[2]?.threadId ?? ""], env)
      assert.include(failing.stdout, `attempt ${attemptId}: variant`)
      assert.include(failing.stdout, "of 3, check exit 1")

      // Bad picks: an unknown attempt, a thread that is not a variant; nothing changes.
      const unknown = yield* runSpindle(
        ["attempt", "pick", "a-000000", byRole[0]?.threadId ?? "", "--json"],
        env
      )
      assert.strictEqual(unknown.code, 1, unknown.stderr)
      assert.strictEqual(
        (JSON.parse(unknown.stdout) as { error: { reason: string } }).error.reason,
        "not-found"
      )
      const stranger = yield* runSpindle(["attempt", "pick", attemptId, "t-0123456789abcdef"], env)
      assert.strictEqual(stranger.code, 1, stranger.stderr)
      assert.include(stranger.stderr, "is not a variant of attempt")
      const notAnId = yield* runSpindle(["attempt", "show", "nope"], env)
      assert.strictEqual(notAnId.code, 2, notAnId.stderr)
      assert.strictEqual(git(world.repo, "rev-parse", "refs/heads/main").trim(), mainBefore)
      for (const t of threads) assert.strictEqual((yield* world.engine.getThread(t.id))?.status, "active")

      const chosen = byRole[0] as AttemptComparison["variants"][number]
      const picked = yield* runSpindle(["attempt", "pick", attemptId, chosen.threadId, "--json"], env)
      assert.strictEqual(picked.code, 0, picked.stderr)
      const result = JSON.parse(picked.stdout) as AttemptPickResult
      assert.strictEqual(result.merge.threadId, chosen.threadId)
      assert.strictEqual(result.merge.target, "main")
      assert.strictEqual(git(world.repo, "rev-parse", "refs/heads/main").trim(), result.merge.commit)
      assert.strictEqual(readFileSync(join(world.repo, "own0.txt"), "utf8"), "0\n")
      assert.isFalse(existsSync(join(world.repo, "c.txt")))
      // The others are archived; their commits are on no other branch, so archive keeps them.
      assert.sameMembers(
        result.archived.map((a) => a.threadId),
        [byRole[1]?.threadId, byRole[2]?.threadId]
      )
      for (const archived of result.archived) {
        assert.strictEqual(archived.worktree, "kept", JSON.stringify(archived))
        const thread = yield* world.engine.getThread(archived.threadId)
        assert.strictEqual(thread?.status, "archived")
        assert.isTrue(existsSync(thread?.workspace.worktreePath ?? ""))
        assert.strictEqual(
          git(world.repo, "branch", "--list", thread?.workspace.branch ?? "").trim() !== "",
          true
        )
      }
      const chosenNow = yield* world.engine.getThread(chosen.threadId)
      assert.strictEqual(chosenNow?.status, "active")
      assert.isNotNull(chosenNow?.merged)

      const after = JSON.parse(
        (yield* runSpindle(["attempt", "show", attemptId, "--json"], env)).stdout
      ) as AttemptComparison
      assert.strictEqual(after.picked, chosen.threadId)
    })
  )
})
