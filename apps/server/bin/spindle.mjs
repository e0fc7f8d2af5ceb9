#!/usr/bin/env node
// Entry point of the `spindle` command. Plain JavaScript, so that an old Node gets a clear
// message instead of a syntax error from the TypeScript sources it cannot load.
const [major, minor] = process.versions.node.split(".").map(Number)
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(
    `spindle: Node >= 22.19 is required (this is ${process.versions.node}).\n` +
      "Run it through npm (npm start, npx spindle), which uses the Node that 'npm ci' installed.\n"
  )
  process.exit(1)
}
const { main } = await import("../src/cli/main.ts")
main(process.argv.slice(2))
