// Ending a `spindle` client command without losing output: the process exits only once stdout
// and stderr have handed everything written so far to the OS. `process.exit` right after a write
// cuts a pipe off at its buffer (64 KiB): past that, pipe writes complete asynchronously.
export const exitWhenFlushed = (code: number): void => {
  process.exitCode = code
  const streams = [process.stdout, process.stderr]
  let pending = streams.length
  const flushed = () => {
    pending -= 1
    if (pending === 0) process.exit(code)
  }
  for (const stream of streams) {
    // A reader that went away (EPIPE, `| head`) leaves nobody to tell: exit, do not crash.
    stream.once("error", () => process.exit(code))
    // Writes complete in order, so this callback runs after every earlier write has.
    stream.write("", flushed)
  }
}
