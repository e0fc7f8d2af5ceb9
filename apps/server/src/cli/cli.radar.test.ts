// The conflict radar from the `spindle` command, a real CLI process against a real server whose
// threads' worktrees really overlap: `overlaps` (human and --json, one project or all, an unknown
// project refused with its reason), `thread show` naming the overlapping thread and lines, and
// `thread children` with each child's changes, their overlaps and the suggested merge order.
import { assert, describe, it } from "@effect/vitest"
import type { BootstrapResult, ProjectOverlaps } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { ConflictRadar } from "../radar/ConflictRadar.ts"
import { commitFile, serverActor } from "../testing/fixtures.ts"
import { providerWorld } from "../testing/providers.ts"
import { runSpindle } from "../testing/serverProcess.ts"

const BASE = "1\n2\n3\n4\n5\n"
const providersOff = { enabled: false, codexBin: "codex", codexConfig: [] }

describe("spindle overlaps and thread children", () => {
  it.live("overlaps, thread show and thread children say what the radar sees", () =>
    Effect.gen(function* () {
      const world = yield* providerWorld(providersOff)
      commitFile(world.repo, "shared.txt", BASE)
      const env = { SPINDLE_HOME: world.server.home }
      yield* world.start("p", "parent")
      const child = (id: string) =>
        Effect.map(
          world.commands.dispatch(
            {
              type: "thread.turn.start",
              commandId: `start-${id}`,
              threadId: id,
              prompt: id,
              bootstrap: {
                createThread: { projectId: "p1" },
                workspace: { mode: "new_worktree" },
                runSetupScript: false
              }
            },
            serverActor,
            { parent: { threadId: "p" as never, worktreePath: null } }
          ),
          (r) => (r as BootstrapResult).worktreePath as string
        )
      commitFile(yield* child("c1"), "shared.txt", BASE.replace("3\n", "c1\n"))
      commitFile(yield* child("c2"), "shared.txt", BASE.replace("3\n", "c2\n"))
      commitFile(yield* child("c3"), "other.txt", "c3\n")
      yield* world.engine.events(0).pipe(
        Stream.filter((e) => e.type === "project.overlap-changed" && e.payload.threadIds.join() === "c1,c2"),
        Stream.runHead,
        Effect.timeout("20 seconds"),
        Effect.orDie
      )
      const radar = Context.getUnsafe(world.server.context, ConflictRadar)
      yield* radar.caughtUp((yield* world.engine.readModel).sequence)

      const json = yield* runSpindle(["overlaps", "--json"], env)
      assert.strictEqual(json.code, 0, json.stderr)
      const all = JSON.parse(json.stdout) as ReadonlyArray<ProjectOverlaps>
      assert.deepStrictEqual(
        all.map((p) => [p.projectId, p.overlaps.map((o) => o.threadIds.join())]),
        [["p1", ["c1,c2"]]]
      )
      assert.deepStrictEqual(all[0]?.overlaps[0]?.files[0]?.ranges, {
        c1: [{ start: 3, end: 3 }],
        c2: [{ start: 3, end: 3 }]
      })
      const human = yield* runSpindle(["overlaps", "--project", "p1"], env)
      assert.strictEqual(human.code, 0, human.stderr)
      assert.include(human.stdout, "project p1:")
      assert.include(human.stdout, "c1 and c2: 1 file(s)")
      assert.include(human.stdout, "shared.txt: c1 3; c2 3")
      const unknown = yield* runSpindle(["overlaps", "--project", "nope", "--json"], env)
      assert.strictEqual(unknown.code, 1, unknown.stderr)
      // --json: the error as JSON on stdout, with its stable reason.
      const refusal = JSON.parse(unknown.stdout) as { error: { reason: string; message: string } }
      assert.strictEqual(refusal.error.reason, "not-found")
      assert.include(refusal.error.message, "Project nope does not exist")

      const shown = yield* runSpindle(["thread", "show", "c1"], env)
      assert.strictEqual(shown.code, 0, shown.stderr)
      assert.include(shown.stdout, "overlaps (conflict radar): 1 live thread(s) change the same lines")
      assert.include(shown.stdout, "with c2: 1 file(s)")
      const quiet = yield* runSpindle(["thread", "show", "c3"], env)
      assert.notInclude(quiet.stdout, "overlaps")

      const children = yield* runSpindle(["thread", "children", "p"], env)
      assert.strictEqual(children.code, 0, children.stderr)
      assert.include(children.stdout, "1 file(s) +1 -1, 1 commit(s) ahead")
      assert.include(children.stdout, "c1 and c2: 1 file(s)")
      assert.include(children.stdout, "suggested merge order:\n  1. c3: overlaps no sibling\n  2. c1:")
      assert.include(children.stdout, "3. c2: conflicts with c1")
      const childrenJson = yield* runSpindle(["thread", "children", "p", "--json"], env)
      const tree = JSON.parse(childrenJson.stdout) as {
        children: Array<{ id: string }>
        mergeOrder: Array<{ threadId: string }>
        diffs: Record<string, { filesChanged: number }>
      }
      assert.deepStrictEqual(
        tree.children.map((c) => c.id),
        ["c1", "c2", "c3"]
      )
      assert.deepStrictEqual(
        tree.mergeOrder.map((e) => e.threadId),
        ["c3", "c1", "c2"]
      )
      assert.strictEqual(tree.diffs.c3?.filesChanged, 1)
    })
  )
})
