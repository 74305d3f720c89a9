'use strict'
// Many requests in flight at once are each answered with their own body: 1000 POSTs with distinct
// bodies over up to 200 connections, at least 100 of them in the app at the same time (the
// gated_echo fixture holds each request until 100 have arrived).
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { Agent, request } = require('undici')
const { startServer, native, waitFor } = require('./helpers')

const TOTAL = 1000
const CONNECTIONS = 200

let served
let gated
let agent
let inFlight = 0
let maxInFlight = 0

before(async () => {
  served = await startServer('raw_apps:echo')
  gated = await startServer('test_http_concurrency:gated_echo')
  // count requests between arrival and the end of their response, as the server sees them (the
  // native server counts them itself: sampled while the test runs)
  if (!native) {
    gated.server.prependListener('request', (req, res) => {
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      res.once('close', () => { inFlight-- })
    })
  }
  agent = new Agent({ connections: CONNECTIONS, pipelining: 1 })
})

after(async () => {
  await agent?.close()
  await served?.close()
  await gated?.close()
})

test(`${TOTAL} concurrent POSTs with distinct bodies each get their own body back`, { timeout: 60000 }, async () => {
  const sampler = native ? setInterval(() => { maxInFlight = Math.max(maxInFlight, gated.server.inFlight) }, 2) : null
  const bodyOf = (i) => `request-${i}-` + 'abcdefghij'.repeat(1 + (i % 50)) + `-end-${i}`
  const results = await Promise.all(Array.from({ length: TOTAL }, async (_, i) => {
    const { statusCode, headers, body } = await request(`${gated.url}/item/${i}?gate=100&name=thousand`, {
      method: 'POST',
      body: bodyOf(i),
      dispatcher: agent
    })
    return { i, statusCode, path: headers['x-path'], gate: headers['x-gate'], text: await body.text() }
  }))
  clearInterval(sampler)
  let mismatches = 0
  for (const { i, statusCode, path, text } of results) {
    if (statusCode !== 200 || path !== `/item/${i}` || text !== bodyOf(i)) mismatches++
  }
  assert.equal(mismatches, 0, `${mismatches} of ${TOTAL} responses were not their own request's echo`)
  const timedOut = results.filter((r) => r.gate !== 'open').length
  assert.equal(timedOut, 0, `${timedOut} requests waited 10 s for 100 requests to be in the app at once`)
  assert.ok(maxInFlight >= 100, `only ${maxInFlight} requests were in flight at once`)
  if (native) await waitFor(() => gated.server.inFlight === 0, { message: 'no request in flight' })
  assert.equal(inFlight, 0)
})

test('100 GETs in flight at once through fetch (ungated echo) all succeed', { timeout: 30000 }, async () => {
  const statuses = await Promise.all(Array.from({ length: 100 }, async (_, i) => {
    const res = await fetch(`${served.url}/get/${i}`)
    assert.equal(res.headers.get('x-path'), `/get/${i}`)
    await res.arrayBuffer()
    return res.status
  }))
  assert.ok(statuses.every((s) => s === 200))
})
