// The read model the engine keeps and the board rebuilds: projects and threads folded from events.
// The CLI imports ./readModel and ./turnState alone (they load no schema, for its start time).
export { addNotice } from "./agentNotices.ts"
export { checkoutOn, hasCheckoutOn, projectOn } from "./checkouts.ts"
export { project } from "./projector.ts"
export {
  type AggregateRef,
  aggregateOf,
  emptyReadModel,
  queueOf,
  type ReadModel,
  threadOfEvent
} from "./readModel.ts"
export { hasLiveTurn, turnStateOf } from "./turnState.ts"
