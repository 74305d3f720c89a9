'use strict'
// A 100 MB download to a slow reader: the app's send() waits while the socket is congested, so
// the server never holds the whole body (RSS bounded) and the client still gets every byte; when
// the reader goes away, the app's remaining sends are ignored and it runs to completion.
// The server runs in a child process so that its RSS can be measured alone.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const net = require('node:net')
const { startChildServer, parseResponse, sleep, waitFor } = require('./helpers')

const MB = 1024 * 1024
const TOTAL = 100 * MB
const MAX_GROWTH = 150 * MB

let served

before(async () => {
  served = await startChildServer('raw_apps:download')
})

after(async () => {
  await served?.close()
})

async function progress (id) {
  const res = await fetch(`${served.url}/progress`)
  return (await res.json())[id]
}

/** byte k of the download is k % 256 */
const PATTERN = Buffer.alloc(256 * 2 + 4 * MB)
for (let i = 0; i < PATTERN.length; i++) PATTERN[i] = i % 256

function checkBytes (chunk, offset) {
  for (let start = 0; start < chunk.length; start += 4 * MB) {
    const part = chunk.subarray(start, start + 4 * MB)
    const at = (offset + start) % 256
    if (!part.equals(PATTERN.subarray(at, at + part.length))) return false
  }
  return true
}

test('a 100 MB download read slowly: send() waits for the reader, RSS growth < 150 MB, every byte arrives', { timeout: 60000 }, async (t) => {
  await (await fetch(`${served.url}/?mb=0.01&id=warmup`)).arrayBuffer()
  await sleep(200)
  const baseline = served.rss()
  let maxRss = baseline

  const socket = net.connect({ port: served.port, host: '127.0.0.1' })
  socket.setNoDelay(true)
  let head = null
  let pending = Buffer.alloc(0)
  let received = 0 // body bytes
  let corrupt = false
  let closed = false
  let resumeAt = 0 // pause again once `received` passes this
  socket.on('close', () => { closed = true })
  socket.on('error', () => {})
  socket.on('data', (chunk) => {
    if (head === null) {
      pending = Buffer.concat([pending, chunk])
      const parsed = parseResponse(pending)
      if (parsed === null) return
      head = parsed
      chunk = parsed.body
    }
    if (!corrupt && !checkBytes(chunk, received)) corrupt = true
    received += chunk.length
    if (received >= resumeAt) socket.pause()
  })
  try {
    // read ~1 MB, then stop reading
    resumeAt = MB
    socket.write('GET /?mb=100&id=slow HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
    await waitFor(() => received >= MB, { timeoutMs: 10000, message: 'the first MB' })
    assert.equal(head.status, 200)
    assert.deepEqual(head.headers['content-length'], [String(TOTAL)])

    // the app stops well short of the end while nobody reads: its send() is waiting
    await sleep(1000)
    const stalled = await progress('slow')
    await sleep(500)
    const stalledLater = await progress('slow')
    maxRss = Math.max(maxRss, served.rss())
    t.diagnostic(`while paused: client has ${(received / MB).toFixed(1)} MB, app sent ${(stalled.sent / MB).toFixed(1)} MB`)
    assert.equal(stalled.complete, false)
    assert.ok(stalled.sent < 40 * MB, `the app sent ${(stalled.sent / MB).toFixed(1)} MB to a client that read ${(received / MB).toFixed(1)} MB`)
    assert.equal(stalledLater.sent, stalled.sent, 'the app kept sending while the client was not reading')

    // then read slowly: 2 MB at a time with a pause between, sampling the server's RSS
    const deadline = Date.now() + 45000
    while (received < TOTAL && !closed && Date.now() < deadline) {
      resumeAt = received + 2 * MB
      socket.resume()
      await sleep(15)
      maxRss = Math.max(maxRss, served.rss())
    }
    socket.resume()
    await waitFor(() => received >= TOTAL || closed, { timeoutMs: 10000, message: 'the whole body' })
  } finally {
    socket.destroy()
  }
  const growth = maxRss - baseline
  t.diagnostic(`server RSS baseline ${(baseline / MB).toFixed(1)} MB, max ${(maxRss / MB).toFixed(1)} MB`)
  assert.equal(received, TOTAL, `received ${received} of ${TOTAL} body bytes`)
  assert.equal(corrupt, false, 'the body bytes did not follow the k % 256 pattern')
  assert.ok(growth < MAX_GROWTH, `server RSS grew by ${(growth / MB).toFixed(1)} MB`)
  await waitFor(async () => (await progress('slow')).complete, { message: 'the app to complete its download' })
})

test('a 100 MB download read at full speed by fetch arrives whole', { timeout: 60000 }, async () => {
  const res = await fetch(`${served.url}/?mb=100&id=fast`)
  assert.equal(res.status, 200)
  let received = 0
  let corrupt = false
  for await (const chunk of res.body) {
    if (!corrupt && !checkBytes(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength), received)) corrupt = true
    received += chunk.byteLength
  }
  assert.equal(received, TOTAL)
  assert.equal(corrupt, false)
})

test('a reader that leaves mid-download: the app\'s later sends are ignored and it completes', { timeout: 30000 }, async () => {
  const socket = net.connect({ port: served.port, host: '127.0.0.1' })
  socket.on('error', () => {})
  let received = 0
  socket.on('data', (chunk) => {
    received += chunk.length
    if (received >= MB) socket.pause()
  })
  try {
    socket.write('GET /?mb=50&id=leaver HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    await waitFor(() => received >= MB, { timeoutMs: 10000, message: 'the first MB' })
    assert.equal((await progress('leaver')).complete, false)
  } finally {
    socket.destroy()
  }
  // send() no longer waits for a reader that is gone: the app's loop finishes without an error
  await waitFor(async () => (await progress('leaver')).complete, { timeoutMs: 10000, message: 'the app to finish its sends' })
  const res = await fetch(`${served.url}/?mb=0.01&id=after`)
  assert.equal(res.status, 200)
  assert.equal((await res.arrayBuffer()).byteLength, Math.floor(0.01 * MB))
})
