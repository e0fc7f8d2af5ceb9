// The README's local-model recipe works as written: its `npm start` line, with only the model's URL
// pointed at the loopback fake model (and the test's own home and port), runs a real Codex turn to
// its end through `spindle thread start --follow`. So the docs cannot drift from what Codex needs.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { gitRepo, tempDir } from "../testing/fixtures.ts"
import { codexHome, fakeModel, SPINDLE_BIN } from "../testing/providers.ts"
import { REPO_ROOT, runProcess, startServer } from "../testing/serverProcess.ts"

/** The words of the README's recipe: the sh block after its marker, lines joined, quotes removed. */
const recipeWords = () => {
  const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8")
  const marker = readme.indexOf("<!-- local-model-recipe -->")
  assert.isAbove(marker, -1, "the README marks its local-model recipe")
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(marker))?.[1] ?? ""
  const line = block.replace(/\\\n/g, " ")
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? "")
}

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
        const words = recipeWords()
        assert.deepStrictEqual(words.slice(0, 3), ["npm", "start", "--"])
        const model = yield* fakeModel
        // The reader changes the URL (and the model's name, which the fake model takes as it comes);
        // --home and --port are the test's own.
        const args: Array<string> = []
        const given = words.slice(3)
        for (let i = 0; i < given.length; i++) {
          if (given[i] === "--home" || given[i] === "--port") i++
          else args.push(given[i]!.replace(/base_url="[^"]*"/, `base_url="${model.url}"`))
        }
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
