// Server-side heartbeats: every WebSocket the server accepts pings its peer on an interval and is
// dropped only after several pings in a row went unanswered, so a flaky link or a busy client
// survives a late pong while a dead peer does not hold a connection forever. The class also holds
// the send bound of backpressure.ts, so one `ws` class carries both.
import { WebSocket } from "ws"
import { boundedSendSocket, DEFAULT_SEND_BOUND, type SendBound } from "./backpressure.ts"

export interface HeartbeatOptions {
  readonly intervalMs: number
  /** Pings in a row without a pong before the connection is closed. */
  readonly maxMissed: number
}

export const DEFAULT_HEARTBEAT: HeartbeatOptions = { intervalMs: 15_000, maxMissed: 3 }

/** A `ws` socket class for the server's WebSocketServer that keeps the heartbeat and the send bound. */
export const heartbeatSocket = (
  options: HeartbeatOptions,
  sendBound: SendBound = DEFAULT_SEND_BOUND
): typeof WebSocket =>
  class HeartbeatSocket extends boundedSendSocket(sendBound) {
    constructor(...args: Array<any>) {
      super(...(args as ConstructorParameters<typeof WebSocket>))
      let missed = 0
      const timer = setInterval(() => {
        if (this.readyState !== WebSocket.OPEN) return
        if (missed >= options.maxMissed) {
          clearInterval(timer)
          this.terminate()
          return
        }
        missed++
        this.ping()
      }, options.intervalMs)
      timer.unref()
      this.on("pong", () => {
        missed = 0
      })
      this.on("close", () => clearInterval(timer))
    }
  }
