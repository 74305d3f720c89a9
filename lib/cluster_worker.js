'use strict'
// A `node-asgi/cluster` worker process: its own interpreter, loop and lifespan, serving the
// connections its primary accepts and hands over (one IPC message with the socket each). The
// CLI arguments arrive in $NODE_ASGI_WORKER as JSON. JS thread only.
const { serve } = require('./cli/serve')

const args = JSON.parse(process.env.NODE_ASGI_WORKER)
let onConnection = null
let onShutdown = null

process.on('message', (message, handle) => {
  if (message?.cmd === 'node-asgi:connection' && handle) {
    if (onConnection !== null) onConnection(handle)
    else handle.destroy() // not serving yet (the primary only routes to ready workers)
  } else if (message?.cmd === 'node-asgi:shutdown') {
    onShutdown?.()
  }
})
// The primary went away (killed): drain and leave rather than serve orphaned.
process.on('disconnect', () => onShutdown?.())
// Ctrl-C in a terminal signals the whole process group: the primary coordinates the shutdown,
// and serve() drains on SIGINT/SIGTERM the same way it does on the primary's message.

serve(args, {
  onConnection (fn) { onConnection = fn },
  onShutdown (fn) { onShutdown = fn },
  ready () { process.send({ cmd: 'node-asgi:ready' }) }
})
