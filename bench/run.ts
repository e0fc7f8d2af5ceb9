// npm run bench [-- scenario...]: runs the named scenarios (default: all) and prints their
// figures, each against a baseline measured in the same run.
import type { BenchResult } from "./report.ts"

const scenarios: Record<string, () => Promise<BenchResult>> = {
  engine: async () => (await import("./engine.ts")).run(),
  worktree: async () => (await import("./worktree.ts")).run(),
  pool: async () => (await import("./pool.ts")).run(),
  bootstrap: async () => (await import("./bootstrap.ts")).run(),
  ws: async () => (await import("./ws.ts")).run(),
  mcp: async () => (await import("./mcp.ts")).run(),
  cli: async () => (await import("./cli.ts")).run(),
  provider: async () => (await import("./provider.ts")).run(),
  merge: async () => (await import("./merge.ts")).run(),
  radar: async () => (await import("./radar.ts")).run(),
  cluster: async () => (await import("./cluster.ts")).run()
}

const requested = process.argv.slice(2)
const unknown = requested.filter((name) => !(name in scenarios))
if (unknown.length > 0) {
  process.stderr.write(
    `Unknown scenario(s): ${unknown.join(", ")}. Known: ${Object.keys(scenarios).join(", ")}\n`
  )
  process.exit(2)
}
for (const name of requested.length > 0 ? requested : Object.keys(scenarios)) {
  const result = await scenarios[name]!()
  process.stdout.write(`\n## ${result.name}\n${result.lines.map((line) => `  ${line}`).join("\n")}\n`)
}
