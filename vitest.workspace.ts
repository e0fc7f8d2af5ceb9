// The test projects, one per workspace package. vitest 5 ignores this file on its own:
// vitest.config.ts imports it into `test.projects`.
import { defineProject } from "vitest/config"

const project = (name: string, root: string) =>
  defineProject({
    test: {
      name,
      root,
      include: ["src/**/*.test.ts", "test/**/*.test.ts", "scripts/**/*.test.ts"],
      testTimeout: 30_000,
      hookTimeout: 30_000
    }
  })

export default [
  project("contracts", "packages/contracts"),
  project("shared", "packages/shared"),
  project("server", "apps/server")
]
