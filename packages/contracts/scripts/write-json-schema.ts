// npm run contracts:schema [-- --out DIR]: writes one JSON Schema file per public schema
// (default: packages/contracts/schema/).
import { mkdirSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { parseArgs } from "node:util"
import { publicSchemas, toJsonSchema } from "../src/jsonSchema.ts"

const { values } = parseArgs({ options: { out: { type: "string" } } })
const out = resolve(values.out ?? join(import.meta.dirname, "..", "schema"))
mkdirSync(out, { recursive: true })
for (const [name, schema] of Object.entries(publicSchemas)) {
  writeFileSync(join(out, `${name}.json`), `${JSON.stringify(toJsonSchema(schema), null, 2)}\n`)
}
process.stdout.write(`Wrote ${Object.keys(publicSchemas).length} JSON Schema files to ${out}\n`)
