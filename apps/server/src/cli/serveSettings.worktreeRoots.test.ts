// `spindle serve`'s worktree roots: from --worktree-root, else SPINDLE_WORKTREE_ROOTS, else
// config.json's worktreeRoots; absolute directories only, never `/`.
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { tempHome } from "../testing/fixtures.ts"
import { resolveServeSettings } from "./serveSettings.ts"

const flags = (worktreeRoot: ReadonlyArray<string> = []) => ({
  allowOrigin: [],
  codexConfig: [],
  agentEnv: [],
  worktreeRoot
})

describe("serve settings: worktree roots", () => {
  it.effect("takes the flag, then the environment, then the file; none by default", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      assert.isUndefined((yield* resolveServeSettings(flags(), home, {})).worktreeRoots)
      writeFileSync(join(home, "config.json"), JSON.stringify({ worktreeRoots: ["/srv/file"] }))
      assert.deepStrictEqual((yield* resolveServeSettings(flags(), home, {})).worktreeRoots, ["/srv/file"])
      const env = { SPINDLE_WORKTREE_ROOTS: "/srv/a:/srv/b/" }
      assert.deepStrictEqual((yield* resolveServeSettings(flags(), home, env)).worktreeRoots, [
        "/srv/a",
        "/srv/b"
      ])
      assert.deepStrictEqual(
        (yield* resolveServeSettings(flags(["/srv/x/../flag"]), home, env)).worktreeRoots,
        ["/srv/flag"]
      )
    })
  )

  it.effect("refuses a relative directory and the file system's root, naming the setting", () =>
    Effect.gen(function* () {
      const home = yield* tempHome
      const relative = yield* Effect.flip(resolveServeSettings(flags(["worktrees"]), home, {}))
      assert.include(relative.message, "--worktree-root takes absolute directories")
      const root = yield* Effect.flip(resolveServeSettings(flags(), home, { SPINDLE_WORKTREE_ROOTS: "/" }))
      assert.include(root.message, "SPINDLE_WORKTREE_ROOTS cannot be '/'")
    })
  )
})
