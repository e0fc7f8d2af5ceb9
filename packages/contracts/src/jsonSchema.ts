// JSON Schema documents generated from the Effect Schemas, so clients in other languages (and
// MCP tool definitions) share one source of truth. Pure: the script in scripts/ writes files.
import * as Schema from "effect/Schema"
import { BootstrapResult } from "./bootstrap.ts"
import * as Commands from "./commands.ts"
import { SpindleError } from "./errors.ts"
import * as Events from "./events.ts"
import { Project } from "./project.ts"
import { DispatchResult, Snapshot } from "./readModel.ts"
import { Thread } from "./thread.ts"

export type JsonSchemaDocument = Record<string, unknown>

/** A self-contained draft 2020-12 document: the schema with its definitions under `$defs`. */
export const toJsonSchema = (schema: Schema.Top): JsonSchemaDocument => {
  const document = Schema.toJsonSchemaDocument(schema, { onExcessProperty: "error" })
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    ...document.schema,
    ...(Object.keys(document.definitions).length > 0 ? { $defs: document.definitions } : {})
  }
}

/** Every public schema by file name: read models, commands, events, the wire error. */
export const publicSchemas: Readonly<Record<string, Schema.Top>> = {
  Project,
  Thread,
  Snapshot,
  DispatchResult,
  BootstrapResult,
  SpindleError,
  ClientCommand: Commands.ClientCommand,
  InternalCommand: Commands.InternalCommand,
  SpindleEvent: Events.SpindleEvent
}
