// Where a WebSocket client's token travels: `Authorization: Bearer …` for native clients, or a
// `bearer.<token>` entry of `Sec-WebSocket-Protocol` for browsers, which cannot set headers.

export const SUBPROTOCOL = "spindle"
const PROTOCOL_PREFIX = "bearer."

/**
 * The token in the headers, or undefined. Header names are lower-case. A call's own
 * `Authorization` comes after the connection's, and the RPC server joins repeated headers with ", "
 * (tokens hold no comma): the last one is the call's, and it is the one that counts.
 */
export const tokenFromHeaders = (headers: {
  readonly [name: string]: string | undefined
}): string | undefined => {
  const authorization = headers.authorization?.split(",").at(-1)
  if (authorization !== undefined) {
    const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(authorization)
    if (match?.[1] !== undefined) return match[1]
  }
  const protocols = headers["sec-websocket-protocol"]
  if (protocols !== undefined) {
    for (const entry of protocols.split(",")) {
      const value = entry.trim()
      if (value.startsWith(PROTOCOL_PREFIX)) return value.slice(PROTOCOL_PREFIX.length)
    }
  }
  return undefined
}
