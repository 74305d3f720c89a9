'use strict'
// The CLI's log lines in uvicorn's console format: "INFO:     message" on stderr for the server's
// own messages and errors, and the access log on stdout:
// `INFO:     127.0.0.1:50000 - "GET / HTTP/1.1" 200 OK`. Every line leaves in one write.
const { STATUS_CODES } = require('node:http')
const { getSystemErrorMap } = require('node:util')

const label = (level) => (level + ':').padEnd(10)

function consoleSink () {
  const line = (level) => (message) => process.stderr.write(`${label(level)}${message}\n`)
  return { error: line('ERROR'), warn: line('WARNING'), info: line('INFO'), debug: line('DEBUG') }
}

/** `client - "request line" status` → the access log line with the status phrase. */
function accessLine (client, requestLine, status) {
  return `${label('INFO')}${client} - "${requestLine}" ${status} ${STATUS_CODES[status] ?? ''}`.trimEnd() + '\n'
}

// The native server's lines of one turn of the loop (`client - "line" status`, '\n'-joined):
// one stdout write for all of them.
function writeNativeAccessLines (text) {
  let out = ''
  for (const line of text.split('\n')) {
    const space = line.lastIndexOf(' ')
    const status = Number(line.slice(space + 1))
    out += `${label('INFO')}${line.startsWith(':0 - ') ? line.slice(2) : line} ${STATUS_CODES[status] ?? ''}`.trimEnd() + '\n'
  }
  process.stdout.write(out)
}

/**
 * uvicorn's bind failure line: `[Errno 98] error while attempting to bind on address (127.0.0.1,
 * 8000): address already in use (EADDRINUSE)`.
 */
function bindErrorLine (err, args) {
  const address = args.uds ?? (args.fd !== null ? `fd ${args.fd}` : `(${args.host}, ${args.port})`)
  const known = Number.isInteger(err.errno) ? getSystemErrorMap().get(err.errno) : undefined
  const reason = known ? `${known[1]} (${known[0]})` : (err.code ?? err.message)
  return `[Errno ${known ? Math.abs(err.errno) : ''}] error while attempting to bind on address ${address}: ${reason}`
}

/**
 * Where a listening server is, for the "running on" line: an http(s) URL, `unix socket PATH`, or
 * `socket fd N` (an inherited Unix socket has no address to show).
 */
function listeningOn (address, args) {
  if (address === null) return `socket fd ${args.fd}`
  if (typeof address === 'string') return `unix socket ${address}`
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return `${args.ssl === null ? 'http' : 'https'}://${host}:${address.port}`
}

module.exports = { consoleSink, accessLine, writeNativeAccessLines, bindErrorLine, listeningOn }
