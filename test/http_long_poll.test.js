'use strict'
// Requests may take as long as the app likes: a long poll of several seconds completes, with no
// built-in cap, and other requests are served meanwhile.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { startServer, rawRequest, parseResponse } = require('./helpers')

let served
let hello

before(async () => {
  served = await startServer('raw_apps:long_poll')
  hello = await startServer('raw_apps:hello')
})

after(async () => {
  await served?.close()
  await hello?.close()
})

test('a 6-second long poll completes with its answer', { timeout: 30000 }, async () => {
  const started = Date.now()
  const res = await fetch(`${served.url}/?seconds=6`)
  const elapsed = Date.now() - started
  assert.equal(res.status, 200)
  assert.equal(await res.text(), 'done')
  assert.ok(elapsed >= 5900, `answered after ${elapsed} ms, before the app finished waiting`)
})

test('a silent 3-second long poll over a raw HTTP/1.1 socket gets its full response', { timeout: 30000 }, async () => {
  const { data, timedOut } = await rawRequest(served.port, 'GET /?seconds=3 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n', { timeoutMs: 10000 })
  assert.equal(timedOut, false)
  const res = parseResponse(data)
  assert.equal(res.status, 200)
  assert.equal(res.body.toString(), 'done')
})

test('long polls in flight do not hold up other requests on the same handler', { timeout: 30000 }, async () => {
  const polls = Array.from({ length: 10 }, () => fetch(`${served.url}/?seconds=3`))
  const started = Date.now()
  const quick = await fetch(`${served.url}/?seconds=0`)
  assert.equal(await quick.text(), 'done')
  assert.ok(Date.now() - started < 1500, `a quick request waited ${Date.now() - started} ms behind long polls`)
  const other = await fetch(`${hello.url}/`)
  assert.equal(await other.text(), 'Hello, world!')
  for (const res of await Promise.all(polls)) {
    assert.equal(res.status, 200)
    assert.equal(await res.text(), 'done')
  }
})
