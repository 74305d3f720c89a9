'use strict'
// The realtime-chat's graceful shutdown: close() and SIGTERM/SIGINT tell every client with a
// shutdown notice, close it with 1012 (Service Restart), run lifespan shutdown, and exit 0.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { once } = require('node:events')
const { start } = require('../server')
const { ChatClient } = require('./chat_client')

const SERVER = path.join(__dirname, '..', 'server.js')
const quiet = { error () {}, warn () {}, info () {} }

/** Both clients get the shutdown notice as their next frame, then a 1012 close. */
async function assertToldAndClosed (clients) {
  for (const client of clients) {
    const notice = await client.next()
    assert.deepEqual(notice, { type: 'notice', event: 'shutdown', text: 'the server is shutting down; reconnecting' })
    assert.deepEqual(await client.closed, { code: 1012, reason: 'Service Restart' })
  }
}

test('close() sends the shutdown notice to joined and not-yet-joined clients, closes them with 1012, and stops listening', { timeout: 30000 }, async () => {
  const chat = await start({ port: 0, logger: quiet })
  const joined = await ChatClient.open(chat.url)
  await joined.join('gina')
  const lurker = await ChatClient.open(chat.url)
  const closing = chat.close()
  assert.equal(chat.close(), closing, 'close() is idempotent')
  await assertToldAndClosed([joined, lurker])
  await closing
  await assert.rejects(fetch(new URL('api/health', chat.url), { signal: AbortSignal.timeout(5000) }), /fetch failed/)
})

/** Runs `node server.js` with PORT=0; resolves { child, url, output() } once it printed its URL. */
async function spawnServer (env = {}) {
  const child = spawn(process.execPath, [SERVER], {
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (d) => { out += d })
  child.stderr.on('data', (d) => { err += d })
  const exited = once(child, 'exit')
  const killer = setTimeout(() => child.kill('SIGKILL'), 25000) // never outlive the test
  exited.then(() => clearTimeout(killer))
  const output = () => `stdout:\n${out}\nstderr:\n${err}`
  const url = await new Promise((resolve, reject) => {
    const onData = () => {
      const match = /serving on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)
      if (match) { child.stdout.off('data', onData); resolve(match[1]) }
    }
    child.stdout.on('data', onData)
    exited.then(([code, signal]) => reject(new Error(`server.js exited (${code ?? signal}) before listening\n${output()}`)))
  })
  return { child, url, exited, output }
}

for (const signal of ['SIGTERM', 'SIGINT']) {
  test(`node server.js on ${signal}: clients get the notice and 1012, lifespan shutdown runs, exit code 0`, { timeout: 30000 }, async () => {
    const server = await spawnServer()
    const a = await ChatClient.open(server.url)
    await a.join('hana')
    const b = await ChatClient.open(server.url)
    await b.join('ivan')
    await a.next() // ivan's join notice
    server.child.kill(signal)
    await assertToldAndClosed([a, b])
    const [code, sig] = await server.exited
    assert.equal(code, 0, `exit ${code ?? sig}\n${server.output()}`)
    assert.match(server.output(), new RegExp(`${signal}, shutting down`))
    assert.match(server.output(), /realtime-chat: lifespan shutdown \(frames received: [1-9]\d*\)/)
    assert.match(server.output(), /realtime-chat: stopped/)
  })
}

test('node server.js with a bad PORT exits 2 naming it', { timeout: 30000 }, async () => {
  const child = spawn(process.execPath, [SERVER], { env: { ...process.env, PORT: 'eighty' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  child.stderr.on('data', (d) => { err += d })
  const [code] = await once(child, 'exit')
  assert.equal(code, 2)
  assert.match(err, /PORT must be an integer from 0 to 65535, got "eighty"/)
})

test('start() rejects a bad port or host with a TypeError naming it', async () => {
  await assert.rejects(start({ port: -1 }), { name: 'TypeError', message: /'port' must be an integer from 0 to 65535, got -1/ })
  await assert.rejects(start({ port: '8000' }), { name: 'TypeError', message: /'port'.*got "8000"/ })
  await assert.rejects(start({ port: 0, host: '' }), { name: 'TypeError', message: /'host' must be a non-empty string/ })
})

test('start() on a port in use rejects with EADDRINUSE and leaves nothing running; the first server keeps serving', { timeout: 30000 }, async () => {
  const first = await start({ port: 0, logger: quiet })
  try {
    await assert.rejects(start({ port: first.port, logger: quiet }), { code: 'EADDRINUSE' })
    const res = await fetch(new URL('api/health', first.url), { signal: AbortSignal.timeout(10000) })
    assert.equal((await res.json()).status, 'ok')
  } finally {
    await first.close()
  }
})
