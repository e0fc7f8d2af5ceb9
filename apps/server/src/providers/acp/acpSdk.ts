// What the ACP providers use of the ACP SDK, in one module that AcpAdapter imports when an ACP
// session starts. The server's bundle keeps it in a file of its own (see bin/bundle.mjs), so that a
// server start neither reads nor compiles the SDK and zod.
export { client, ndJsonStream, PROTOCOL_VERSION, RequestError } from "@agentclientprotocol/sdk"
