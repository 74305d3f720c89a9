'use strict'
// The native server under large bodies and many connections, measured from outside (the server
// runs in a child process): a 100 MB download to a client that stops reading, a 100 MB upload,
// and 10,000 idle keep-alive connections (RSS reported next to the node:http path's).
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const crypto = require('node:crypto')
const { sleep, waitFor, parseResponse } = require('./helpers')
const { startNativeChild, connect } = require('./native_support')

const MB = 1024 * 1024
const RSS_BUDGET = 60 * MB

/** Samples `rss()` every 50 ms until stop() is called; stop() resolves the peak. */
function sampleRss (rss) {
  let peak = rss()
  const timer = setInterval(() => { try { peak = Math.max(peak, rss()) } catch {} }, 50)
  return () => { clearInterval(timer); try { peak = Math.max(peak, rss()) } catch {} return peak }
}

test('a 100 MB download to a client that stops reading: the server RSS stays bounded', { timeout: 120000 }, async (t) => {
  const server = await startNativeChild('raw_apps:download')
  t.after(() => server.close())
  const warm = await fetch(`${server.url}/?mb=2&id=warm`)
  assert.equal((await warm.arrayBuffer()).byteLength, 2 * MB)
  const baseline = server.rss()
  const stop = sampleRss(server.rss)

  const socket = await connect(server.port)
  socket.pause()
  socket.write('GET /?mb=100&id=slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
  // the app's send() must stall: progress stops well short of the total while nobody reads
  let stalled = null
  await waitFor(async () => {
    const before = (await (await fetch(`${server.url}/progress`)).json()).slow
    await sleep(300)
    const now = (await (await fetch(`${server.url}/progress`)).json()).slow
    if (before && now && now.sent === before.sent && now.sent < now.total) stalled = now
    return stalled
  }, { timeoutMs: 20000, message: 'the download to stall' })
  const pausedRss = server.rss()
  t.diagnostic(`paused: app sent ${(stalled.sent / MB).toFixed(1)} MB of 100; server RSS ${(baseline / MB).toFixed(1)} → ${(pausedRss / MB).toFixed(1)} MB`)
  assert.ok(pausedRss - baseline < RSS_BUDGET, `RSS grew ${((pausedRss - baseline) / MB).toFixed(1)} MB while the client did not read`)

  // now read it all, checking every byte (byte k of the body is k % 256)
  let head = null
  let pending = Buffer.alloc(0)
  let received = 0
  let mismatch = -1
  await new Promise((resolve, reject) => {
    socket.on('data', (chunk) => {
      if (head === null) {
        pending = Buffer.concat([pending, chunk])
        const res = parseResponse(pending)
        if (res === null) return
        head = res
        chunk = res.body
      }
      for (let i = 0; i < chunk.length && mismatch < 0; i++) if (chunk[i] !== ((received + i) & 255)) mismatch = received + i
      received += chunk.length
    })
    socket.on('end', resolve)
    socket.on('error', reject)
    socket.resume()
  })
  const peak = stop()
  assert.equal(head.status, 200)
  assert.equal(received, 100 * MB)
  assert.equal(mismatch, -1, `body byte ${mismatch} is wrong`)
  t.diagnostic(`peak server RSS ${(peak / MB).toFixed(1)} MB (baseline ${(baseline / MB).toFixed(1)} MB)`)
  assert.ok(peak - baseline < RSS_BUDGET, `peak RSS grew ${((peak - baseline) / MB).toFixed(1)} MB`)
})

test('a 100 MB upload: the app counts every byte and the server RSS stays bounded', { timeout: 120000 }, async (t) => {
  const server = await startNativeChild('raw_apps:upload_count')
  t.after(() => server.close())
  const warm = await fetch(server.url, { method: 'POST', body: Buffer.alloc(MB) })
  assert.equal((await warm.json()).bytes, MB)
  const baseline = server.rss()
  const stop = sampleRss(server.rss)

  const total = 100 * MB
  const block = Buffer.alloc(256 * 1024)
  for (let i = 0; i < block.length; i++) block[i] = (i * 7) & 255
  const hash = crypto.createHash('sha256')
  const socket = await connect(server.port)
  const chunks = []
  socket.on('data', (c) => chunks.push(c))
  const ended = new Promise((resolve) => socket.on('close', resolve))
  socket.write(`POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: ${total}\r\nConnection: close\r\n\r\n`)
  for (let sent = 0; sent < total; sent += block.length) {
    hash.update(block)
    if (!socket.write(block)) await new Promise((resolve) => socket.once('drain', resolve))
  }
  await ended
  const peak = stop()
  const res = parseResponse(Buffer.concat(chunks))
  assert.equal(res.status, 200)
  const answer = JSON.parse(res.body.toString())
  assert.equal(answer.bytes, total)
  assert.equal(answer.sha256, hash.digest('hex'))
  t.diagnostic(`upload: ${answer.chunks} body messages; peak server RSS ${(peak / MB).toFixed(1)} MB (baseline ${(baseline / MB).toFixed(1)} MB)`)
  assert.ok(peak - baseline < RSS_BUDGET, `peak RSS grew ${((peak - baseline) / MB).toFixed(1)} MB`)
})

function softFdLimit () {
  const m = /Max open files\s+(\d+|unlimited)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'))
  return m ? (m[1] === 'unlimited' ? Infinity : Number(m[1])) : 0
}

const CONNECTIONS = 10000
const fdLimit = softFdLimit()
const tooFewFds = fdLimit < CONNECTIONS + 500 ? `the soft open-files limit is ${fdLimit} (< ${CONNECTIONS + 500}); raise it with ulimit -n` : false

/** Opens `count` connections in batches, one request each, and keeps them open (idle keep-alive). */
async function openIdle (port, count) {
  const sockets = []
  for (let i = 0; i < count; i += 500) {
    const batch = await Promise.all(Array.from({ length: Math.min(500, count - i) }, async () => {
      const socket = await connect(port)
      socket.on('error', () => {})
      let data = Buffer.alloc(0)
      await new Promise((resolve, reject) => {
        socket.on('data', function onData (chunk) {
          data = Buffer.concat([data, chunk])
          const res = parseResponse(data)
          if (res && res.body.length >= Number(res.headers['content-length'][0])) { socket.off('data', onData); resolve() }
        })
        socket.once('close', () => reject(new Error('closed before the response')))
        socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
      })
      return socket
    }))
    sockets.push(...batch)
  }
  return sockets
}

for (const mode of ['native', 'node']) {
  const label = mode === 'native' ? 'handler.listen()' : 'handler.createServer() (node:http)'
  test(`${CONNECTIONS} idle keep-alive connections on ${label}: still serving; RSS recorded`, { skip: tooFewFds, timeout: 180000 }, async (t) => {
    const server = await startNativeChild('raw_apps:hello', { mode, listenOptions: { timeoutKeepAlive: 300, ...(mode === 'native' ? { backlog: 4096 } : {}) } })
    t.after(() => server.close())
    assert.equal((await fetch(server.url)).status, 200)
    const baseline = server.rss()
    const sockets = await openIdle(server.port, CONNECTIONS)
    t.after(() => { for (const s of sockets) s.destroy() })
    assert.ok(await server.ask('connections') >= CONNECTIONS, 'the server holds every connection')
    const loaded = server.rss()
    t.diagnostic(`${label}: RSS ${(baseline / MB).toFixed(1)} MB idle → ${(loaded / MB).toFixed(1)} MB with ${CONNECTIONS} keep-alive connections (${((loaded - baseline) / CONNECTIONS / 1024).toFixed(1)} KiB each)`)
    const res = await fetch(`${server.url}/one-more`)
    assert.equal(res.status, 200, 'a new request is served with 10k connections open')
    assert.equal(await res.text(), 'Hello, world!')
    // and one of the old connections is still usable
    const old = sockets[0]
    const again = await new Promise((resolve) => {
      let data = Buffer.alloc(0)
      old.on('data', (c) => { data = Buffer.concat([data, c]); const r = parseResponse(data); if (r) resolve(r) })
      old.write('GET /again HTTP/1.1\r\nHost: x\r\n\r\n')
    })
    assert.equal(again.status, 200)
    for (const s of sockets) s.destroy()
    await waitFor(async () => (await server.ask('connections')) <= 1, { timeoutMs: 20000, message: 'every connection to close' })
  })
}
