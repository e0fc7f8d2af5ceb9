// Turns an Effect Schema issue into the first problem as a dotted field path and a sentence, for
// error messages that name the field at fault. No domain knowledge.
import type * as SchemaIssue from "effect/SchemaIssue"
import { makeFormatterStandardSchemaV1 } from "effect/SchemaIssue"

const formatter = makeFormatterStandardSchemaV1()

/** The first problem with the input: `field` ("" for the whole value) and a message naming it. */
export const describeIssue = (
  issue: SchemaIssue.Issue
): { readonly field: string; readonly message: string } => {
  const first = formatter(issue).issues[0]
  const field = (first?.path ?? []).map((key) => String(typeof key === "object" ? key.key : key)).join(".")
  const detail = first?.message ?? "is invalid"
  return { field, message: field === "" ? detail : `${field}: ${detail}` }
}
