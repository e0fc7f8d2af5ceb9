// What the /mcp endpoint uses of the MCP SDK, in one module that McpEndpoint imports on the first
// request that opens a session. The server's bundle keeps it in a file of its own (see
// bin/bundle.mjs), so that a server start neither reads nor compiles the SDK, zod and ajv.
export { Server } from "@modelcontextprotocol/sdk/server/index.js"
export { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js"
export {
  CallToolRequestSchema,
  ErrorCode,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  RequestSchema
} from "@modelcontextprotocol/sdk/types.js"
