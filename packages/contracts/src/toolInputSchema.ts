// MCP tool input schemas shaped for what an agent's model really receives. Codex 0.171 rewrites a
// tool's JSON Schema before the model sees it: it drops `pattern`, `maxLength`, `minLength`,
// `maxItems`, `minimum`, `maximum`, `format` and `default`, and past 5000 characters (of what is
// left, compact JSON) it drops every `description` too. So the rules a model needs are also said
// in words, generated from those keywords (they cannot drift from the checks), and the shared
// definitions are inlined (no `$ref` for a client to resolve). Pure; the tool list is the server's.
import type * as Schema from "effect/Schema"
import { toJsonSchema } from "./jsonSchema.ts"
import { REF_PATTERN } from "./workspaceInput.ts"

type Node = Record<string, unknown>

const isNode = (value: unknown): value is Node =>
  value !== null && typeof value === "object" && !Array.isArray(value)

/** Where a subschema lives: one schema under these keys, a list of schemas under the next ones. */
const ONE = ["items", "additionalProperties", "not"] as const
const MANY = ["anyOf", "oneOf", "allOf", "prefixItems"] as const

/** Each `$ref` to `#/$defs/...` replaced by its definition (a description beside the `$ref` wins). */
export const inlineDefinitions = (document: Node): Node => {
  const { $defs, ...root } = document
  const definitions = isNode($defs) ? $defs : {}
  const resolve = (node: unknown, seen: ReadonlyArray<string>): unknown => {
    if (Array.isArray(node)) return node.map((item) => resolve(item, seen))
    if (!isNode(node)) return node
    const { $ref, ...rest } = node
    if (typeof $ref === "string") {
      const name = $ref.replace("#/$defs/", "")
      const target = definitions[name]
      if (!isNode(target) || seen.includes(name)) {
        throw new Error(`A tool input schema cannot inline ${$ref}: it is missing or recursive.`)
      }
      return resolve({ ...target, ...rest }, [...seen, name])
    }
    return Object.fromEntries(Object.entries(rest).map(([key, value]) => [key, resolve(value, seen)]))
  }
  return resolve(root, []) as Node
}

/** Patterns said in words; any other is shown as it is. */
const PATTERN_WORDS: Readonly<Record<string, string>> = {
  "\\S": "not blank",
  "^\\/": "an absolute path",
  [REF_PATTERN.source]: "not starting with '-' or a space, no control characters"
}

const range = (min: unknown, max: unknown, unit: string) => {
  const low = typeof min === "number" ? min : undefined
  const high = typeof max === "number" ? max : undefined
  if (low !== undefined && high !== undefined) return [`${low} to ${high}${unit}`]
  if (high !== undefined) return [`at most ${high}${unit}`]
  if (low !== undefined && low > 0) return [`at least ${low}${unit}`]
  return []
}

/** What a node's validation keywords say, in words (its items' rules after "each"). */
export const rulesOf = (node: Node): Array<string> => {
  const own: Array<string> = [
    ...range(node.minItems, node.maxItems, " items"),
    ...range(node.minLength, node.maxLength, " characters"),
    ...range(node.minimum, node.maximum, "")
  ]
  if (typeof node.pattern === "string") own.push(PATTERN_WORDS[node.pattern] ?? `matching ${node.pattern}`)
  const items = isNode(node.items) && node.items.description === undefined ? rulesOf(node.items) : []
  return items.length === 0 ? own : [...own, `each ${items.join(", ")}`]
}

/** Every described node's description ends with its rules ("Rules: ..."). */
export const describeRules = (node: unknown): unknown => {
  if (Array.isArray(node)) return node.map(describeRules)
  if (!isNode(node)) return node
  const out: Node = { ...node }
  if (isNode(node.properties)) {
    out.properties = Object.fromEntries(
      Object.entries(node.properties).map(([name, value]) => [name, describeRules(value)])
    )
  }
  for (const key of ONE) if (key in node) out[key] = describeRules(node[key])
  for (const key of MANY) if (key in node) out[key] = describeRules(node[key])
  if (typeof node.description === "string") {
    const rules = rulesOf(node)
    const end = /[.!?]$/.test(node.description) ? "" : "."
    if (rules.length > 0) out.description = `${node.description}${end} Rules: ${rules.join("; ")}.`
  }
  return out
}

/**
 * A tool's input schema: an object at the root, definitions inlined, rules said in words. The
 * `brief` top-level properties keep their description as it is (a batch's defaults, whose rules
 * the entries already say).
 */
export const toolInputSchema = (schema: Schema.Top, brief: ReadonlyArray<string> = []): Node => {
  const { $schema: _dialect, ...document } = toJsonSchema(schema)
  const inlined: Node = { type: "object", ...inlineDefinitions(document) }
  const shaped = describeRules(inlined) as Node
  if (!isNode(inlined.properties) || !isNode(shaped.properties)) return shaped
  const plain = inlined.properties
  return {
    ...shaped,
    properties: Object.fromEntries(
      Object.entries(shaped.properties).map(([name, value]) => [
        name,
        brief.includes(name) ? plain[name] : value
      ])
    )
  }
}
