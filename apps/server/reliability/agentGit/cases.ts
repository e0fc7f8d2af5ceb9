// The cases of the "agent with git" scenario, one file each, run in this order against one server.
import { leftoversInPoolSlot } from "./leftovers.ts"
import type { AgentGitCase } from "./world.ts"

export const CASES: ReadonlyArray<AgentGitCase> = [leftoversInPoolSlot]
