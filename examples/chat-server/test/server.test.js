'use strict'
// The Node side: Express serves the page and its own 404s next to FastAPI at /api, start()
// validates its options, and `node examples/chat-server/server.js` honours PORT and shuts down
// gracefully on SIGTERM and SIGINT (WebSockets closed with 1012, exit code 0).
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { start } = require('../server')
const { startChat, LineClient, get } = require('./chat_support')
const { childEnv, runNodeProcess } = require('../../../test/helpers')

const SERVER = path.resolve(__dirname, '..', 'server.js')
const children = new Set()
let served

test.before(async () => { served = await startChat() })
test.after(async () => {
  for (const child of children) child.kill('SIGKILL')
  await served?.close()
})

test('Express serves the chat page, with no outside resources', async () => {
  const res = await fetch(served.url + '/', { signal: AbortSignal.timeout(10000) })
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type'), /^text\/html/)
  const html = await res.text()
  assert.match(html, /<title>node-asgi chat server<\/title>/)
  assert.match(html, /\/api\/ws/, 'the page connects to the chat endpoint')
  assert.match(html, /HELLO \$\{me\.room\}:\$\{me\.id\}/, 'the page speaks the line protocol')
  assert.doesNotMatch(html, /(src|href)=["']?(https?:)?\/\//, 'nothing is loaded from another host')
  assert.equal((await fetch(served.url + '/index.html')).status, 200)
})

test('paths outside /api that Express does not serve get Express\'s 404; /api paths are FastAPI\'s', async () => {
  const res = await fetch(served.url + '/clients/register', { signal: AbortSignal.timeout(10000) })
  assert.equal(res.status, 404)
  assert.equal(await res.text(), 'Not Found: /clients/register\n')
  const spec = await get(served.url, '/openapi.json')
  assert.equal(spec.status, 200)
  assert.deepEqual(Object.keys(spec.body.paths).sort(),
    ['/chatrooms/list', '/clients/close', '/clients/pause', '/clients/register', '/messages/send', '/server/status'])
})

test('start() refuses bad options with a TypeError naming the option', async () => {
  await assert.rejects(start({ port: -1 }), { name: 'TypeError', message: "chat-server: 'port' must be an integer from 0 to 65535, got -1" })
  await assert.rejects(start({ port: '80' }), { name: 'TypeError', message: "chat-server: 'port' must be an integer from 0 to 65535, got \"80\"" })
  await assert.rejects(start({ port: 0, host: '' }), { name: 'TypeError', message: "chat-server: 'host' must be a non-empty string, got \"\"" })
})

/** Runs server.js with PORT=0 and resolves { child, url, exited } once it prints its address. */
async function runServer () {
  const child = spawn(process.execPath, [SERVER], { env: childEnv({ PORT: '0' }), stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  let output = ''
  const exited = new Promise((resolve) => child.on('close', (code, signal) => {
    children.delete(child)
    resolve({ code, signal, output })
  }))
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "running on" line within 20 s:\n${output}`)), 20000)
    const onData = (d) => {
      output += d
      const m = /chat-server running on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (m) { clearTimeout(timer); resolve(m[1]) }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    exited.then(({ code }) => { clearTimeout(timer); reject(new Error(`server.js exited (${code}) before listening:\n${output}`)) })
  })
  return { child, url, exited }
}

for (const signal of ['SIGTERM', 'SIGINT']) {
  test(`node server.js serves on PORT and exits 0 on ${signal}, closing WebSockets with 1012`, async () => {
    const { child, url, exited } = await runServer()
    const client = await LineClient.hello(url, 'proc', 'p1')
    assert.equal((await get(url, '/server/status')).body.clients, 1)
    assert.equal((await fetch(url + '/')).status, 200)
    child.kill(signal)
    assert.equal((await client.closed).code, 1012)
    const result = await exited
    assert.equal(result.code, 0, result.output)
    assert.match(result.output, new RegExp(`chat-server: ${signal}, shutting down`))
  })
}

test('node server.js with a PORT that is not a port exits 2 naming it; a port in use exits 1 with the error', async () => {
  const result = await runNodeProcess([SERVER], { env: childEnv({ PORT: 'eighty' }), timeoutMs: 20000 })
  assert.equal(result.code, 2)
  assert.equal(result.stderr, 'chat-server: PORT must be a port number from 0 to 65535, got "eighty"\n')
  const port = String(new URL(served.url).port)
  const busy = await runNodeProcess([SERVER], { env: childEnv({ PORT: port }), timeoutMs: 20000 })
  assert.equal(busy.code, 1)
  assert.match(busy.stderr, new RegExp(`chat-server: cannot start: listen EADDRINUSE: address already in use 127\\.0\\.0\\.1:${port}`))
})
