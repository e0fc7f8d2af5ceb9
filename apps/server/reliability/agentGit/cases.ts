// The cases of the "agent with git" scenario, one file each, run in this order against one server.
import { escapes } from "./escapes.ts"
import { leftoversInPoolSlot } from "./leftovers.ts"
import { modesCase } from "./modes.ts"
import { plantedPrograms } from "./planted.ts"
import { refsCase } from "./refs.ts"
import { REGISTRATION_CASES } from "./registrations.ts"
import { setupPin } from "./setupPin.ts"
import type { AgentGitCase } from "./world.ts"

export const CASES: ReadonlyArray<AgentGitCase> = [
  refsCase,
  plantedPrograms,
  setupPin,
  ...REGISTRATION_CASES,
  leftoversInPoolSlot,
  modesCase,
  escapes
]
