// A bound on the bytes queued for one WebSocket connection. Everything the server sends (RPC
// replies, subscription chunks, pings) goes through `send`, so this is the one place a peer that
// stops reading is caught: above `pauseAbove` queued bytes the server stops reading that peer's
// requests until its queue drains; above `closeAbove` it closes the connection with 1008 and
// drops it soon after, since a peer that does not read never receives the close frame either.
// It does not decide what to send; the subscription's own event buffer is in subscription.ts.
import type { Socket } from "node:net"
import { WebSocket } from "ws"

export interface SendBound {
  /** Queued bytes above which the peer's requests are not read until the queue drains. */
  readonly pauseAbove: number
  /** Queued bytes above which the connection is closed (code 1008). */
  readonly closeAbove: number
  /** After the close frame, how long the peer has to read it before the socket is destroyed. */
  readonly closeGraceMs: number
}

export const DEFAULT_SEND_BOUND: SendBound = {
  pauseAbove: 1024 * 1024,
  closeAbove: 8 * 1024 * 1024,
  closeGraceMs: 1_000
}

/** Policy violation: the peer is not reading what it asked for. */
export const OVERFLOW_CLOSE_CODE = 1008

export const overflowReason = (bound: SendBound) =>
  `send buffer over ${bound.closeAbove} bytes: the client is not reading`

export interface Overflow {
  readonly queuedBytes: number
  readonly reason: string
}

/** Connections this server closed for not reading, by their TCP socket (for the log line). */
const overflowed = new WeakMap<Socket, Overflow>()

/** Why the server closed the WebSocket on this TCP socket, when it did so for not reading. */
export const overflowOf = (socket: Socket): Overflow | undefined => overflowed.get(socket)

/** A `ws` socket class whose `send` holds the bound. */
export const boundedSendSocket = (bound: SendBound = DEFAULT_SEND_BOUND): typeof WebSocket =>
  class BoundedSendSocket extends WebSocket {
    // Two reasons to stop reading, kept apart: the Effect socket pauses and resumes `ws` for its
    // own frame buffer, and must not resume a connection paused here (nor the reverse).
    #readerPaused = false
    #sendPaused = false

    override pause() {
      this.#readerPaused = true
      super.pause()
    }

    override resume() {
      this.#readerPaused = false
      if (!this.#sendPaused) super.resume()
    }

    override send(data: any, ...rest: Array<any>) {
      if (this.readyState === WebSocket.OPEN && this.bufferedAmount > bound.closeAbove) this.#overflow()
      // Once closing, `ws` would drop the data anyway, after copying it; skip that unless a
      // callback waits to hear about it.
      if (this.readyState !== WebSocket.OPEN && rest.length === 0) return
      super.send(data, ...(rest as []))
      if (!this.#sendPaused && this.readyState === WebSocket.OPEN && this.bufferedAmount > bound.pauseAbove) {
        this.#pauseUntilDrained()
      }
    }

    get #tcp(): Socket | undefined {
      return (this as unknown as { readonly _socket?: Socket })._socket
    }

    #pauseUntilDrained() {
      const tcp = this.#tcp
      // 'drain' comes only after a write that filled the buffer; without one there is nothing to wait for.
      if (tcp === undefined || !tcp.writableNeedDrain) return
      this.#sendPaused = true
      super.pause()
      // A socket that closes instead never drains; the listener goes with it.
      tcp.once("drain", () => {
        this.#sendPaused = false
        if (!this.#readerPaused) super.resume()
      })
    }

    #overflow() {
      const tcp = this.#tcp
      const reason = overflowReason(bound)
      if (tcp !== undefined) overflowed.set(tcp, { queuedBytes: this.bufferedAmount, reason })
      this.close(OVERFLOW_CLOSE_CODE, reason)
      const timer = setTimeout(() => this.terminate(), bound.closeGraceMs)
      timer.unref()
      this.once("close", () => clearTimeout(timer))
    }
  }
