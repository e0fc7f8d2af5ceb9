// The README's local-model recipe works as written: its `npm start` line, with only the model's URL
// pointed at the loopback fake model (and the test's own home and port), runs a real Codex turn to
// its end through `spindle thread start --follow`. So the docs cannot drift from what Codex needs.
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { gitRepo, tempDir } from "../testing/fixtures.ts"
import { codexHome, fakeModel, SPINDLE_BIN } from "../testing/providers.ts"
import { recipeWords as readRecipe, recipeServeArgs } from "../testing/readmeRecipe.ts"
import { REPO_ROOT, runProcess, startServer } from "../testing/serverProcess.ts"

const recipeWords = () => readRecipe(REPO_ROOT)

describe("the README's local-model recipe", () => {
  it("names the provider and turns off plugin sync and analytics", () => {
    const configs = recipeWords().filter((_, i, words) => words[i - 1] === "--codex-config")
    assert.includeMembers(configs, [
      'model_providers.local.name="local"',
      "features.plugins=false",
      "analytics.enabled=false"
    ])
  })

  it.live(
    "runs a Codex turn to its end against a local model, as written",
    () =>
      Effect.gen(function* () {
        const model = yield* fakeModel
        // The reader changes the URL (and the model's name, which the fake model takes as it comes);
        // --home and --port are the test's own.
        const args = recipeServeArgs(recipeWords(), model.url)
        assert.include(args.join(" "), model.url, "the recipe has a base_url to change")
        const home = join(yield* tempDir(), "home")
        yield* startServer(home, ["--providers", "on", ...args], 30_000, { CODEX_HOME: yield* codexHome })
        const env = { SPINDLE_HOME: home }
        const repo = yield* gitRepo
        const added = yield* runProcess(
          process.execPath,
          [SPINDLE_BIN, "project", "add", repo, "--id", "demo"],
          {
            env
          }
        )
        assert.strictEqual(added.code, 0, added.stderr)
        const started = yield* runProcess(
          process.execPath,
          [
            SPINDLE_BIN,
            "thread",
            "start",
            "--project",
            "demo",
            "--prompt",
            "say hello",
            "--follow",
            "--json"
          ],
          { env, timeout: "90 seconds" }
        )
        assert.strictEqual(started.code, 0, started.output)
        const thread = JSON.parse(started.stdout.trim().split("\n").at(-1)!)
        assert.strictEqual(thread.latestTurn.status, "completed")
        assert.include(thread.latestTurn.lastMessage, "done: say hello")
        assert.isAbove(model.requests.length, 0)
      }),
    120_000
  )
})
