'use strict'
// A client that goes away mid-request is seen by the app as http.disconnect from receive()
// (disconnect_watcher records the path), whether it left while waiting for the response or in
// the middle of sending its body; the server keeps serving.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const net = require('node:net')
const { once } = require('node:events')
const { startServer, sleep, waitFor } = require('./helpers')

let served

before(async () => {
  served = await startServer('raw_apps:disconnect_watcher')
})

after(async () => {
  await served?.close()
})

async function disconnects () {
  const res = await fetch(`${served.url}/disconnects`)
  assert.equal(res.status, 200)
  return res.json()
}

/** Opens a connection, writes `data`, waits `holdMs`, then closes it (or resets it). */
async function sendAndLeave (data, { holdMs = 200, reset = false } = {}) {
  const socket = net.connect({ port: served.port, host: '127.0.0.1' })
  socket.on('error', () => {})
  await once(socket, 'connect')
  socket.write(data)
  await sleep(holdMs)
  let received = ''
  socket.on('data', (chunk) => { received += chunk.toString('latin1') })
  if (reset) socket.resetAndDestroy()
  else socket.destroy()
  return received
}

test('a client that closes while waiting for the response: the app receives http.disconnect', async () => {
  const received = await sendAndLeave('GET /left-waiting HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  assert.equal(received, '', 'the app sent nothing, so neither should the server')
  await waitFor(async () => (await disconnects()).includes('/left-waiting'), { message: 'http.disconnect for /left-waiting' })
})

test('a client that closes halfway through its request body: the app receives http.disconnect', async () => {
  await sendAndLeave('POST /left-mid-body HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n' + 'x'.repeat(5000))
  await waitFor(async () => (await disconnects()).includes('/left-mid-body'), { message: 'http.disconnect for /left-mid-body' })
})

test('a client that resets the connection (RST): the app receives http.disconnect', async () => {
  await sendAndLeave('GET /reset HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', { reset: true })
  await waitFor(async () => (await disconnects()).includes('/reset'), { message: 'http.disconnect for /reset' })
})

test('fetch aborted with an AbortController: the app receives http.disconnect', async () => {
  const controller = new AbortController()
  const pending = fetch(`${served.url}/aborted-fetch`, { signal: controller.signal })
  await sleep(200)
  controller.abort()
  await assert.rejects(pending, { name: 'AbortError' })
  await waitFor(async () => (await disconnects()).includes('/aborted-fetch'), { message: 'http.disconnect for /aborted-fetch' })
})

test('many clients leaving at once: each request sees its own http.disconnect', async () => {
  const paths = Array.from({ length: 20 }, (_, i) => `/many-${i}`)
  await Promise.all(paths.map((path) => sendAndLeave(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, { holdMs: 300 })))
  await waitFor(async () => {
    const seen = await disconnects()
    return paths.every((path) => seen.includes(path))
  }, { message: 'http.disconnect for all 20 requests' })
  const seen = await disconnects()
  for (const path of paths) assert.equal(seen.filter((p) => p === path).length, 1, `${path} disconnected more than once`)
})

test('the handler has no request left in flight after the disconnects', async () => {
  // close() would wait timeoutGracefulShutdown for a stuck request; a quick close shows none is left
  const started = Date.now()
  await served.close()
  assert.ok(Date.now() - started < 5000, `close() took ${Date.now() - started} ms`)
  assert.equal(served.handler.state, 'closed')
})
