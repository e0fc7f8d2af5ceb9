// @spindle/contracts: schemas only (ids, read models, commands, events, errors); no layers, no I/O.
export * from "./commands.ts"
export * from "./errors.ts"
export * from "./events.ts"
export * from "./ids.ts"
export * from "./project.ts"
export * from "./readModel.ts"
export * from "./thread.ts"
export * from "./values.ts"
