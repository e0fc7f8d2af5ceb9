// A WebSocket peer that stops reading: it keeps asking for snapshots (big replies) with its socket
// paused, so whatever the server queues for it is memory the server holds. Bounded: a fixed number
// of requests. At the end it reads again, to learn whether the server closed it and with what code.
import { openRaw } from "../harness/wsRaw.ts"

export interface StalledPeer {
  /** Stops sending; answers how many requests it sent and how the connection ended. */
  readonly stop: () => Promise<{ readonly sent: number; readonly answered: number; readonly closed: string }>
}

export const stalledPeer = async (
  url: string,
  token: string,
  every = 1_500,
  max = 40
): Promise<StalledPeer> => {
  const raw = await openRaw(url, { authorization: `Bearer ${token}` })
  const tcp = (raw.socket as unknown as { _socket: { pause: () => void; resume: () => void } })._socket
  let closed = "still open"
  let answered = 0
  let settle: () => void = () => {}
  raw.socket.on("close", (code) => {
    closed = `closed by the server (${code})`
    settle()
  })
  raw.socket.on("message", (data) => {
    if (String(data).includes('"requestId":"stall-')) answered++
    if (answered >= sent) settle()
  })
  tcp.pause()
  let sent = 0
  const timer = setInterval(() => {
    if (sent >= max || raw.socket.readyState !== raw.socket.OPEN) return
    sent++
    raw.socket.send(
      JSON.stringify({
        _tag: "Request",
        id: `stall-${sent}`,
        tag: "orchestration.getSnapshot",
        payload: {},
        headers: []
      })
    )
  }, every)
  return {
    stop: async () => {
      clearInterval(timer)
      tcp.resume()
      // Whatever was queued now drains, or the close frame arrives (bounded).
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 15_000)
        settle = () => {
          clearTimeout(timer)
          resolve()
        }
        if (answered >= sent || closed !== "still open") settle()
      })
      const result = { sent, answered, closed }
      raw.close()
      return result
    }
  }
}
