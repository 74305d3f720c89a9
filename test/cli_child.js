'use strict'
// The CLI in a child process for the end-to-end CLI tests: waits for its "running on" line (http,
// https or a Unix socket), a one-shot HTTP(S) request client over TCP or a Unix socket, and the
// first WebSocket message of the app the CLI serves.
const http = require('node:http')
const https = require('node:https')
const path = require('node:path')
const { spawn } = require('node:child_process')
const WebSocket = require('ws')
const { childEnv, runNodeProcess } = require('./helpers')

const ROOT = path.resolve(__dirname, '..')
const BIN = path.join(ROOT, 'bin', 'node-asgi.js')

// http(s)://127.0.0.1:PORT, "unix socket PATH", or (an inherited descriptor, uvicorn's words) "socket NAME"
const RUNNING = /node-asgi running on (?:(https?):\/\/127\.0\.0\.1:(\d+)|(?:unix )?socket (.+?)) \(Press CTRL\+C to quit\)/

/**
 * Starts `node bin/node-asgi.js ...args` and waits for its "running on" line on stderr. `stdio`
 * adds entries after stdout/stderr (inherited descriptors 3, 4, ...). `track` (a Set) holds the
 * child until it exits. Resolves { child, scheme, port, url, socketPath, stdout(), stderr(),
 * exited, stop() }; stop() sends SIGTERM and waits up to 10 s (then SIGKILL).
 */
async function startCli (args, { env = {}, track = null, stdio = [], timeoutMs = 20000 } = {}) {
  const child = spawn(process.execPath, [BIN, ...args],
    { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe', ...stdio] })
  track?.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => { stdout += d })
  const exited = new Promise((resolve) => child.on('close', (code, signal) => {
    track?.delete(child)
    resolve({ code, signal })
  }))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 10000)
    const result = await exited
    clearTimeout(timer)
    return result
  }
  const m = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`no "running on" line within ${timeoutMs} ms:\n${stderr}`))
    }, timeoutMs)
    child.stderr.on('data', (d) => {
      stderr += d
      const found = RUNNING.exec(stderr)
      if (found) { clearTimeout(timer); resolve(found) }
    })
    exited.then(({ code, signal }) => {
      clearTimeout(timer)
      reject(new Error(`the CLI exited (${code ?? signal}) before listening:\n${stderr}`))
    })
  })
  const [, scheme = null, port = null, socketPath = null] = m
  return {
    child,
    scheme,
    port: port === null ? null : Number(port),
    url: port === null ? null : `${scheme}://127.0.0.1:${port}`,
    socketPath,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    stop
  }
}

/** Runs the CLI to its exit (SIGKILLed after `timeoutMs`): { code, signal, stdout, stderr, killed }. */
function runCli (args, { env = {}, timeoutMs = 20000 } = {}) {
  return runNodeProcess([BIN, ...args], { env: childEnv(env), timeoutMs })
}

/**
 * One request with node:http(s): `target` is a URL, or { socketPath, path } for a Unix socket;
 * `options` are http.request() options (headers, ca, cert, key...). Resolves { status, headers,
 * rawHeaders, body (string), json() }; rejects on a connection/TLS error or after 10 s.
 */
function request (target, { body: requestBody, ...options } = {}) {
  return new Promise((resolve, reject) => {
    const isUrl = typeof target === 'string'
    const client = isUrl && target.startsWith('https:') ? https : http
    const req = isUrl
      ? client.request(target, { agent: false, ...options })
      : http.request({ socketPath: target.socketPath, path: target.path ?? '/', agent: false, ...options })
    req.setTimeout(10000, () => req.destroy(new Error('request timed out after 10 s')))
    req.on('error', reject)
    req.on('response', (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d) => { body += d })
      res.on('error', reject)
      res.on('end', () => resolve({
        status: res.statusCode,
        headers: res.headers,
        rawHeaders: res.rawHeaders,
        body,
        json: () => JSON.parse(body)
      }))
    })
    req.end(requestBody)
  })
}

/**
 * The first WebSocket message of cluster_apps:app ({pid, scheme}) from `url` (ws://, wss:// or
 * ws+unix://), parsed as JSON; `options` go to ws (headers, ca, cert, key...). Rejects if the
 * connection fails or closes before a message; the socket is terminated either way.
 */
async function wsHello (url, options = {}) {
  const ws = new WebSocket(url, { ...options, handshakeTimeout: 10000 })
  try {
    const [data] = await new Promise((resolve, reject) => {
      ws.once('message', (...a) => resolve(a))
      ws.once('error', reject)
      ws.once('close', (code) => reject(new Error(`closed (${code}) before the first message`)))
    })
    return JSON.parse(data.toString())
  } finally {
    ws.terminate()
  }
}

/** Waits until `read()` matches `pattern` (polling every 20 ms); rejects with the text after `timeoutMs`. */
async function waitForText (read, pattern, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs
  while (!pattern.test(read())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} in:\n${read()}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** The "Error: ..." line a usage error (exit 2) ends with, after the usage text; '' when there is none. */
function usageError (stderr) {
  const lines = stderr.split('\n').filter((l) => l.startsWith('Error: '))
  return lines.length === 0 ? '' : lines[lines.length - 1]
}

module.exports = { ROOT, BIN, startCli, runCli, request, wsHello, waitForText, usageError }
