'use strict'
// What the bench scripts share to run a server on 127.0.0.1: a free port, and waiting until the
// server listens on it.
const net = require('node:net')

function freePort () {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })
}

/** Resolves once `port` accepts connections; rejects if `child` exits first or after `timeoutMs`. */
async function waitForPort (port, child, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode}`)
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(true) })
      c.on('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`server did not listen on ${port} within ${timeoutMs} ms`)
}

module.exports = { freePort, waitForPort }
