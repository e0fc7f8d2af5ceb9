// The server's folders are layers: a folder imports only from folders below it, never from one above
// it or beside it. The README's architecture section lists the same layers, top to bottom. The
// board and the packages import no server source, and no production file imports test support.
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative, resolve, sep } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

/** Top to bottom; the entries on one line are peers and do not import each other. */
const LAYERS: ReadonlyArray<ReadonlyArray<string>> = [
  ["cli"],
  ["main.ts"],
  ["ws", "mcp", "http"],
  ["board"],
  ["children"],
  ["notify"],
  ["radar"],
  ["commands"],
  ["lifecycle", "queue", "cluster"],
  ["bootstrap"],
  ["providers", "pool"],
  ["ports", "auth", "setup", "hosts"],
  ["reads"],
  ["engine"],
  ["persistence", "git", "logging.ts"],
  ["config", "domain", "version.ts"]
]

const src = dirname(fileURLToPath(import.meta.url))
const repo = resolve(src, "../../..")

const sourceFiles = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === "node_modules" ? [] : sourceFiles(path)
    return /\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name) ? [path] : []
  })

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g

/** Every relative import of `file`, resolved to an absolute path. */
const importsOf = (file: string): Array<string> =>
  [...readFileSync(file, "utf8").matchAll(IMPORT)]
    .map((match) => match[1] ?? match[2] ?? "")
    .filter((spec) => spec.startsWith("."))
    .map((spec) => resolve(dirname(file), spec))

/** The layer entry (a top folder, or a file at the top) a path under src belongs to. */
const entryOf = (path: string) => relative(src, path).split(sep)[0] ?? ""

const levelOf = (entry: string) => LAYERS.findIndex((level) => level.includes(entry))

type Edge = readonly [from: string, to: string]

const edgesOf = (files: ReadonlyArray<string>): Array<Edge> =>
  files.flatMap((file) => importsOf(file).map((target): Edge => [file, target]))

/** Each import between two entries under src that goes up or sideways, as "from → to". */
const violations = (edges: ReadonlyArray<Edge>): Array<string> =>
  edges.flatMap(([file, target]) => {
    if (!target.startsWith(src + sep)) return []
    const from = entryOf(file)
    const to = entryOf(target)
    if (to === from) return []
    const a = levelOf(from)
    const b = levelOf(to)
    return a !== -1 && b !== -1 && b > a ? [] : [`${relative(src, file)} → ${relative(src, target)}`]
  })

describe("layering", () => {
  const files = sourceFiles(src).filter((file) => entryOf(file) !== "testing")

  it("places every folder of the server in one layer", () => {
    const entries = [...new Set(files.map(entryOf))].sort()
    expect(entries.filter((entry) => levelOf(entry) === -1)).toEqual([])
    expect(LAYERS.flat().filter((entry) => !entries.includes(entry))).toEqual([])
  })

  it("is the list the README's architecture section shows", () => {
    const readme = readFileSync(join(repo, "README.md"), "utf8")
    const table = readme.slice(
      readme.indexOf("| layer | folders"),
      readme.indexOf("\n\n", readme.indexOf("| layer | folders"))
    )
    const named = [...table.matchAll(/`([a-z]+)\/`|`([a-zA-Z]+\.ts)`/g)].map((m) => m[1] ?? m[2])
    expect(named).toEqual(LAYERS.flat())
  })

  it("imports only from the layers below", () => {
    expect(violations(edgesOf(files))).toEqual([])
  })

  it("tells an upward or sideways import from a downward one", () => {
    const at = (path: string) => join(src, path)
    expect(
      violations([
        [at("engine/Engine.ts"), at("commands/Commands.ts")],
        [at("ws/handlers.ts"), at("mcp/toolServer.ts")],
        [at("commands/Commands.ts"), at("engine/Engine.ts")],
        [at("engine/Engine.ts"), at("engine/decider.ts")]
      ])
    ).toEqual(["engine/Engine.ts → commands/Commands.ts", "ws/handlers.ts → mcp/toolServer.ts"])
  })

  it("keeps test support out of production code", () => {
    const testing = join(src, "testing") + sep
    expect(files.flatMap((file) => importsOf(file).filter((target) => target.startsWith(testing)))).toEqual(
      []
    )
  })

  it("keeps the board and the packages off the server's source", () => {
    const server = join(repo, "apps", "server") + sep
    const outside = [
      join(repo, "apps", "board", "src"),
      ...["contracts", "shared", "read-model"].map((p) => join(repo, "packages", p, "src"))
    ]
    const reaching = outside.flatMap(sourceFiles).flatMap((file) =>
      importsOf(file)
        .filter((target) => target.startsWith(server))
        .map((t) => `${relative(repo, file)} → ${relative(repo, t)}`)
    )
    expect(reaching).toEqual([])
  })
})
