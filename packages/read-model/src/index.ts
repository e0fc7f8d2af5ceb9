// The read model the engine keeps and the board rebuilds: projects and threads folded from events.
export { addNotice } from "./agentNotices.ts"
export { project } from "./projector.ts"
export { type AggregateRef, aggregateOf, emptyReadModel, type ReadModel, threadOfEvent } from "./readModel.ts"
export { hasLiveTurn, turnStateOf } from "./turnState.ts"
