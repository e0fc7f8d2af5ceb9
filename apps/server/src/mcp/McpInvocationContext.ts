// Who is calling an MCP tool: the thread its session runs in, that thread's project, the
// provider session and what its token allows. Built from the resolved token only, so tool input
// can never widen it.
import type { ProjectId, ProviderCapability, ThreadId } from "@spindle/contracts"

export type { ProviderCapability }

export interface McpInvocationContext {
  readonly tokenId: string
  readonly threadId: ThreadId
  readonly projectId: ProjectId
  readonly providerSessionId: string
  readonly capabilities: ReadonlyArray<ProviderCapability>
}
