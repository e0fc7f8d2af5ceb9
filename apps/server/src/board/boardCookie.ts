// The board's session cookie: its name (one per port, since browsers share cookies between the
// ports of a host) and the same-origin rule a cookie-authenticated request must pass. Pure: the
// routes and the /ws upgrade both read it.

/** The port in a Host header value (`name:port`, `[v6]:port`); 80 when absent. */
const portOf = (host: string | undefined): string => {
  const match = /:(\d+)$/.exec(host ?? "")
  return match?.[1] ?? "80"
}

/** `spindle_board_<port>`: a second server on another port keeps its own session. */
export const boardCookieName = (host: string | undefined) => `spindle_board_${portOf(host)}`

/** The token in the board cookie, if any. */
export const boardCookieToken = (
  cookies: Readonly<Record<string, string>>,
  host: string | undefined
): string | undefined => {
  const value = cookies[boardCookieName(host)]
  return value === undefined || value === "" ? undefined : value
}

/**
 * A cookie rides along with any request the browser makes to this host, whichever page made it
 * (another port on the same host counts as the same site). So a request that a cookie
 * authenticates must come from the board itself: an `Origin` equal to this server's own origin.
 */
export const isSameOrigin = (headers: { readonly [name: string]: string | undefined }): boolean => {
  const { host, origin } = headers
  if (host === undefined || origin === undefined) return false
  return origin.toLowerCase() === `http://${host.toLowerCase()}`
}
