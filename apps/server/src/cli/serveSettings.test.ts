// `spindle serve --agent-env`: entries resolved at start (NAME=VALUE, or NAME for the server's own
// value), from the flag, else SPINDLE_AGENT_ENV, else config.json; bad ones refused by name.
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { tempDir } from "../testing/fixtures.ts"
import { resolveServeSettings, type ServeFlags } from "./serveSettings.ts"

const flags = (agentEnv: ReadonlyArray<string>): ServeFlags => ({
  allowOrigin: [],
  codexConfig: [],
  agentEnv
})

describe("serve --agent-env", () => {
  it.effect("NAME=VALUE sets; a bare NAME passes the server's own value; none: no agentEnv at all", () =>
    Effect.gen(function* () {
      const home = yield* tempDir()
      const env = { AZURE_OPENAI_API_KEY: "azure-key" }
      const settings = yield* resolveServeSettings(flags(["AZURE_OPENAI_API_KEY", "A=b=c"]), home, env)
      assert.deepStrictEqual(settings.providers?.agentEnv, { AZURE_OPENAI_API_KEY: "azure-key", A: "b=c" })
      const none = yield* resolveServeSettings(flags([]), home, env)
      assert.notProperty(none.providers, "agentEnv")
    }).pipe(Effect.scoped)
  )

  it.effect("the flag wins over SPINDLE_AGENT_ENV (one entry a line), which wins over config.json", () =>
    Effect.gen(function* () {
      const home = yield* tempDir()
      writeFileSync(join(home, "config.json"), JSON.stringify({ agentEnv: ["FROM=file"] }))
      const fromFile = yield* resolveServeSettings(flags([]), home, {})
      assert.deepStrictEqual(fromFile.providers?.agentEnv, { FROM: "file" })
      const fromEnv = yield* resolveServeSettings(flags([]), home, { SPINDLE_AGENT_ENV: "FROM=env\nX=1\n" })
      assert.deepStrictEqual(fromEnv.providers?.agentEnv, { FROM: "env", X: "1" })
      const fromFlag = yield* resolveServeSettings(flags(["FROM=flag"]), home, {
        SPINDLE_AGENT_ENV: "FROM=env"
      })
      assert.deepStrictEqual(fromFlag.providers?.agentEnv, { FROM: "flag" })
    }).pipe(Effect.scoped)
  )

  it.effect("refuses an unset NAME, a name twice, a bad name and Spindle's own, naming the fix", () =>
    Effect.gen(function* () {
      const home = yield* tempDir()
      const refused = (entries: ReadonlyArray<string>, env: NodeJS.ProcessEnv = {}) =>
        Effect.flip(resolveServeSettings(flags(entries), home, env)).pipe(Effect.map((e) => e.message))
      assert.include(yield* refused(["MISSING_KEY"]), "passes the server's own MISSING_KEY, which is not set")
      assert.include(yield* refused(["A=1", "A=2"]), "--agent-env sets A twice")
      assert.include(yield* refused(["1BAD=x"]), "agent variable names must be")
      assert.include(yield* refused(["SPINDLE_TOKEN"], { SPINDLE_TOKEN: "spc_x" }), "Spindle's own")
      assert.include(yield* refused([], { SPINDLE_AGENT_ENV: "SPINDLE_HOME=/x" }), "SPINDLE_AGENT_ENV")
    }).pipe(Effect.scoped)
  )
})
