// The README's local-model recipe, read as a newcomer would copy it: the sh block after its marker.
// Used by the test that runs it and by the clone-to-first-turn measurement.
import { readFileSync } from "node:fs"
import { join } from "node:path"

/** The words of the recipe (lines joined, single quotes removed), from the README in `root`. */
export const recipeWords = (root: string): Array<string> => {
  const readme = readFileSync(join(root, "README.md"), "utf8")
  const marker = readme.indexOf("<!-- local-model-recipe -->")
  if (marker < 0) throw new Error("README.md has no <!-- local-model-recipe --> marker")
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(marker))?.[1] ?? ""
  return [...block.replace(/\\\n/g, " ").matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? "")
}

/**
 * The recipe's `npm start --` arguments as a reader would run them against `modelUrl`: only the
 * model's URL changed, its --home and --port left out (the caller picks its own).
 */
export const recipeServeArgs = (words: ReadonlyArray<string>, modelUrl: string): Array<string> => {
  if (words.slice(0, 3).join(" ") !== "npm start --")
    throw new Error(`the recipe is not an npm start line: ${words.join(" ")}`)
  const args: Array<string> = []
  const given = words.slice(3)
  for (let i = 0; i < given.length; i++) {
    if (given[i] === "--home" || given[i] === "--port") i++
    else args.push(given[i]!.replace(/base_url="[^"]*"/, `base_url="${modelUrl}"`))
  }
  return args
}
