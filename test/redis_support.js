'use strict'
// A throwaway redis-server for tests (free 127.0.0.1 port, no persistence, temp dir) and a tiny RESP client.
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')

const REDIS_SERVER = process.env.NODE_ASGI_REDIS_SERVER || '/usr/bin/redis-server'

/** Resolves a port that was free a moment ago on 127.0.0.1. */
function freePort () {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** Encodes one command as a RESP array of bulk strings. */
function encodeCommand (args) {
  let out = `*${args.length}\r\n`
  for (const arg of args) {
    const text = String(arg)
    out += `$${Buffer.byteLength(text)}\r\n${text}\r\n`
  }
  return out
}

/** Parses one RESP reply at `offset` of `buf`: { value, end }, or null when incomplete. Errors become Error values. */
function parseReply (buf, offset = 0) {
  const lineEnd = buf.indexOf('\r\n', offset)
  if (lineEnd < 0) return null
  const type = String.fromCharCode(buf[offset])
  const line = buf.toString('utf8', offset + 1, lineEnd)
  const next = lineEnd + 2
  if (type === '+') return { value: line, end: next }
  if (type === '-') return { value: new Error(line), end: next }
  if (type === ':') return { value: Number(line), end: next }
  if (type === '$') {
    const length = Number(line)
    if (length < 0) return { value: null, end: next }
    if (buf.length < next + length + 2) return null
    return { value: buf.toString('utf8', next, next + length), end: next + length + 2 }
  }
  if (type === '*') {
    const count = Number(line)
    if (count < 0) return { value: null, end: next }
    const items = []
    let at = next
    for (let i = 0; i < count; i++) {
      const item = parseReply(buf, at)
      if (item === null) return null
      items.push(item.value)
      at = item.end
    }
    return { value: items, end: at }
  }
  throw new Error(`unexpected RESP reply type ${JSON.stringify(type)}`)
}

/**
 * Sends one command (e.g. redisCommand(port, 'PUBSUB', 'NUMSUB', 'socketio')) on a new connection
 * and resolves its reply; a Redis error reply rejects. Rejects after `timeoutMs`.
 */
function redisCommand (port, ...args) {
  const timeoutMs = 5000
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' })
    let buf = Buffer.alloc(0)
    const timer = setTimeout(() => finish(new Error(`redis ${args[0]}: no reply within ${timeoutMs} ms`)), timeoutMs)
    const finish = (err, value) => {
      clearTimeout(timer)
      socket.destroy()
      if (err) reject(err)
      else resolve(value)
    }
    socket.on('connect', () => socket.write(encodeCommand(args)))
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk])
      const reply = parseReply(buf)
      if (reply === null) return
      if (reply.value instanceof Error) finish(new Error(`redis ${args[0]}: ${reply.value.message}`))
      else finish(null, reply.value)
    })
    socket.on('error', (err) => finish(err))
    socket.on('close', () => finish(new Error(`redis ${args[0]}: connection closed before a reply`)))
  })
}

/** One attempt: spawns redis-server on `port` and waits for PING → PONG, or for its exit. */
async function spawnRedis (port, dir, timeoutMs) {
  const child = spawn(REDIS_SERVER, [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'
  ], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d) => { output += d })
  child.stderr.on('data', (d) => { output += d })
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })))
  let exit = null
  exited.then((result) => { exit = result })
  const spawnError = new Promise((resolve) => child.on('error', resolve))
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const failed = await Promise.race([spawnError, new Promise((resolve) => setTimeout(resolve, 25, null))])
    if (failed) throw new Error(`cannot run ${REDIS_SERVER}: ${failed.message}`)
    if (exit) return { child: null, output, exit }
    try {
      if (await redisCommand(port, 'PING') === 'PONG') return { child, output: () => output, exited }
    } catch { /* not listening yet */ }
  }
  child.kill('SIGKILL')
  await exited
  throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms:\n${output}`)
}

/**
 * Starts a real redis-server on a free 127.0.0.1 port, without persistence, in a temp dir, and
 * waits until it answers PING. Resolves { port, url, dir, output(), stop() }; stop() ends it (SIGTERM,
 * SIGKILL after 5 s), removes the temp dir and is safe to call twice. Rejects with a clear error
 * when redis-server is missing (set NODE_ASGI_REDIS_SERVER to use another binary).
 */
async function startRedis ({ timeoutMs = 15000 } = {}) {
  if (!fs.existsSync(REDIS_SERVER)) {
    throw new Error(`${REDIS_SERVER} not found: install Debian's redis-server package (npm run setup does), ` +
      'or set NODE_ASGI_REDIS_SERVER to a redis-server binary')
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-asgi-redis-'))
  let lastOutput = ''
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    const started = await spawnRedis(port, dir, timeoutMs)
    if (started.child === null) { // lost the port to another process, or a real failure: retry, then report
      lastOutput = started.output
      continue
    }
    const { child, exited } = started
    let stopping = null
    const stop = () => {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
        await exited
        clearTimeout(timer)
        fs.rmSync(dir, { recursive: true, force: true })
      })()
      return stopping
    }
    return { port, url: `redis://127.0.0.1:${port}/0`, dir, output: started.output, stop }
  }
  fs.rmSync(dir, { recursive: true, force: true })
  throw new Error(`redis-server exited before answering PING (3 attempts):\n${lastOutput}`)
}

module.exports = { startRedis, redisCommand, REDIS_SERVER }
