'use strict'
// A seeded, bounded fuzz of raw request bytes against the native server (in a child process, so
// a crash is seen): mutations of valid requests (bit flips, truncations, inserted CR/LF/NUL/
// control/high bytes, duplicated headers, random chunk framing, pipelines). The server must stay
// up and answer every connection with well-formed HTTP/1.1, a refusal last and followed by close;
// a strict RFC 9112 oracle says which inputs are invalid, and those must get 400 + close.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { startNativeChild, splitResponses, openCollector } = require('./native_support')

const SEED = 0x5eed2024
const CASES = 300
const PARALLEL = 30

/** mulberry32: a tiny seeded PRNG, so every run sends the same bytes. */
function prng (seed) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return { next, int: (n) => Math.floor(next() * n), pick: (list) => list[Math.floor(next() * list.length)] }
}

// --- generation --------------------------------------------------------------------------------

function validRequest (r, i) {
  const conn = r.next() < 0.15 ? 'Connection: close\r\n' : ''
  const extra = r.next() < 0.5 ? `X-Fuzz-${i}: v${r.int(1000)}\r\n` : ''
  switch (r.int(5)) {
    case 0: return `GET /g/${i}?q=${r.int(99)} HTTP/1.1\r\nHost: x\r\n${extra}${conn}\r\n`
    case 1: {
      const body = 'b'.repeat(r.int(40))
      return `POST /p/${i} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n${extra}${conn}\r\n${body}`
    }
    case 2: {
      let body = ''
      for (let n = r.int(4); n > 0; n--) {
        const size = 1 + r.int(20)
        const hex = r.next() < 0.3 ? size.toString(16).toUpperCase() : size.toString(16)
        body += `${hex}${r.next() < 0.2 ? ';ext=1' : ''}\r\n${'c'.repeat(size)}\r\n`
      }
      return `POST /c/${i} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n${extra}${conn}\r\n${body}0\r\n\r\n`
    }
    case 3: return `GET /h10/${i} HTTP/1.0\r\n${r.next() < 0.5 ? 'Connection: keep-alive\r\n' : ''}${extra}\r\n`
    default: return `HEAD /head/${i} HTTP/1.1\r\nHost: x\r\n${extra}${conn}\r\n`
  }
}

const INSERTS = ['\r', '\n', '\0', '\x7f', '\x01', '\xff', '\x80', ' ', '\t', ':', '\r\n', ';', 'G']

function mutate (r, text) {
  switch (r.int(7)) {
    case 0: { // bit flip
      const at = r.int(text.length)
      return text.slice(0, at) + String.fromCharCode(text.charCodeAt(at) ^ (1 << r.int(8))) + text.slice(at + 1)
    }
    case 1: return text.slice(0, r.int(text.length)) // truncation
    case 2: { // insert a special byte
      const at = r.int(text.length + 1)
      return text.slice(0, at) + r.pick(INSERTS) + text.slice(at)
    }
    case 3: { // delete a byte
      const at = r.int(text.length)
      return text.slice(0, at) + text.slice(at + 1)
    }
    case 4: { // duplicate a header line
      const lines = text.split('\r\n')
      const head = lines.findIndex((l) => l === '')
      if (head < 2) return text
      const which = 1 + r.int(head - 1)
      lines.splice(which, 0, lines[which])
      return lines.join('\r\n')
    }
    case 5: { // one CRLF becomes a bare LF (or a bare CR)
      const all = [...text.matchAll(/\r\n/g)]
      if (all.length === 0) return text
      const at = r.pick(all).index
      return text.slice(0, at) + (r.next() < 0.7 ? '\n' : '\r') + text.slice(at + 2)
    }
    default: { // random chunk framing: a bogus or mismatched chunk size
      const sizes = [...text.matchAll(/\r\n\r\n([0-9a-fA-F]+)\r\n|\r\n([0-9a-fA-F]+)\r\n/g)]
      if (sizes.length === 0) return text + r.pick(['0\r\n\r\n', 'zz\r\n', '5\r\nab\r\n'])
      const m = r.pick(sizes)
      const replacement = r.pick(['ff', '-1', '0x5', ' 5', '5 ', '1'.repeat(17), String(r.int(30))])
      const at = m.index + m[0].indexOf(m[1] ?? m[2])
      return text.slice(0, at) + replacement + text.slice(at + (m[1] ?? m[2]).length)
    }
  }
}

function generateCases () {
  const r = prng(SEED)
  const cases = []
  for (let i = 0; i < CASES; i++) {
    let text = ''
    for (let n = 1 + (r.next() < 0.3 ? r.int(3) : 0); n > 0; n--) text += validRequest(r, i)
    const mutations = r.next() < 0.1 ? 0 : 1 + r.int(3)
    for (let m = 0; m < mutations; m++) text = mutate(r, text)
    cases.push(Buffer.from(text, 'latin1'))
  }
  return cases
}

// --- the oracle: RFC 9112, strictly ------------------------------------------------------------

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE'])
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/

/**
 * Classifies `bytes` as a sequence of requests: { requests: [{ method, keepAlive }], end } where
 * `end` is 'bad' (the next request is invalid), 'incomplete' (a valid prefix), 'done' (all bytes
 * used, or the last request closes the connection) or 'unknown' (a case the oracle does not
 * judge: a head that never ends, trailer fields). Known server leniencies are named in `why`.
 */
function oracle (bytes) {
  const s = bytes.toString('latin1')
  const requests = []
  let at = 0
  const result = (end, why = null) => ({ requests, end, why })
  while (at < s.length) {
    const headEnd = s.indexOf('\r\n\r\n', at)
    const headText = headEnd < 0 ? s.slice(at) : s.slice(at, headEnd)
    // a bad byte in what we have of the head is enough to call it bad
    const lines = headText.split('\r\n')
    const requestLine = lines[0]
    const complete = headEnd >= 0
    // RFC 9112 3: recipients MAY split the request-line on runs of SP (llhttp does)
    const rl = /^([A-Z]+) +(\/[\x21-\x7e]*) +HTTP\/1\.([01])$/.exec(requestLine)
    const partialLine = !complete && lines.length === 1
    if (!rl) {
      const word = /^[A-Z]*/.exec(requestLine)[0]
      const methodOk = requestLine.length === word.length ? [...METHODS].some((m) => m.startsWith(word)) : METHODS.has(word)
      if (partialLine && methodOk && /^[A-Z]*( +(\/[\x21-\x7e]*( +H?T?T?P?\/?1?\.?[01]?\r?)?)?)?$/.test(requestLine)) return result('incomplete')
      return result('bad', /\n/.test(requestLine) ? 'bare LF' : null)
    }
    if (!METHODS.has(rl[1])) return result('bad')
    const fields = []
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]
      const last = !complete && i === lines.length - 1
      if (line.includes('\n')) return result('bad', 'bare LF')
      if (/^[ \t]/.test(line)) return result('bad', i === 1 ? null : 'obs-fold')
      const colon = line.indexOf(':')
      if (colon < 0) {
        if (last && TOKEN.test(line + 'a') && !line.includes('\r')) return result('incomplete')
        if (last && /^[!#$%&'*+\-.^_`|~0-9A-Za-z]*\r?$/.test(line)) return result('incomplete')
        return result('bad')
      }
      const name = line.slice(0, colon)
      let value = line.slice(colon + 1)
      if (last && value.endsWith('\r')) value = value.slice(0, -1)
      if (!TOKEN.test(name)) return result('bad', name === '' ? 'empty header name' : null)
      if (!FIELD_VALUE.test(value)) return result('bad')
      fields.push([name.toLowerCase(), value.replace(/^[ \t]+|[ \t]+$/g, '')])
    }
    if (!complete) {
      if (s.slice(at).endsWith('\r\n\r')) return result('incomplete')
      return result('incomplete')
    }
    const version = rl[3]
    const get = (n) => fields.filter(([k]) => k === n).map(([, v]) => v)
    if (version === '1' && get('host').length !== 1) return result('bad', get('host').length === 0 ? 'missing Host' : 'duplicate Host')
    const cl = get('content-length')
    const te = get('transfer-encoding')
    if (cl.length && te.length) return result('bad')
    if (cl.length > 1 || (cl.length === 1 && !/^\d{1,15}$/.test(cl[0]))) return result('bad')
    if (te.length > 1 || (te.length === 1 && te[0].toLowerCase() !== 'chunked')) return result('bad', te.length > 1 ? 'duplicate Transfer-Encoding' : null)
    const connection = get('connection').join(',').toLowerCase().split(',').map((v) => v.trim())
    const keepAlive = version === '1' ? !connection.includes('close') : connection.includes('keep-alive')
    at = headEnd + 4
    if (cl.length) {
      const n = Number(cl[0])
      if (s.length - at < n) return result('incomplete')
      at += n
    } else if (te.length) {
      while (true) {
        const lineEnd = s.indexOf('\r\n', at)
        const sizeLine = lineEnd < 0 ? s.slice(at) : s.slice(at, lineEnd)
        const m = /^([0-9a-fA-F]{1,15})(;[!#$%&'*+\-.^_`|~0-9A-Za-z]+(=[!#$%&'*+\-.^_`|~0-9A-Za-z]+)?)*$/.exec(sizeLine)
        if (lineEnd < 0) return result(/^[0-9a-fA-F]*(;[!#$%&'*+\-.^_`|~0-9A-Za-z=]*)*\r?$/.test(sizeLine) ? 'incomplete' : 'bad', /\n/.test(sizeLine) ? 'bare LF' : null)
        if (!m) return result('bad', /\n/.test(sizeLine) ? 'bare LF' : null)
        const size = parseInt(m[1], 16)
        at = lineEnd + 2
        if (size === 0) {
          if (s.length - at < 2) return result(s.slice(at) === '' || s.slice(at) === '\r' ? 'incomplete' : 'unknown')
          if (s.slice(at, at + 2) !== '\r\n') return result('unknown', 'trailer fields')
          at += 2
          break
        }
        if (s.length - at < size + 2) return result(s.length - at <= size || s[at + size] === '\r' ? 'incomplete' : 'bad')
        if (s.slice(at + size, at + size + 2) !== '\r\n') return result('bad')
        at += size + 2
      }
    }
    requests.push({ method: rl[1], keepAlive })
    if (!keepAlive) return result('done')
  }
  return result('done')
}

// --- running ---------------------------------------------------------------------------------

let server
let outcomes = []
const crashes = []

async function runCase (bytes, expected) {
  const c = await openCollector(server.port)
  c.socket.write(bytes)
  const methods = expected.requests.map((q) => q.method)
  const want = expected.requests.length + (expected.end === 'bad' ? 1 : 0)
  // wait for the close, or for the expected responses and a quiet moment, up to 3 s
  const deadline = Date.now() + 3000
  let lastSize = -1
  while (!c.isClosed() && Date.now() < deadline) {
    await c.until(() => false, 150)
    const got = splitResponses(c.data(), { requestMethods: methods, closed: false }).responses.filter((r) => r.status >= 200).length
    if (got >= want && c.size() === lastSize && expected.end !== 'bad') break
    lastSize = c.size()
  }
  const closedByServer = c.isClosed()
  c.socket.destroy()
  const parsed = splitResponses(c.data(), { requestMethods: methods, closed: closedByServer })
  return { bytes, expected, closedByServer, data: c.data(), ...parsed }
}

before(async () => {
  server = await startNativeChild('raw_apps:echo', { listenOptions: { timeoutHeaders: 1, timeoutKeepAlive: 5 } })
  const cases = generateCases()
  for (let i = 0; i < cases.length; i += PARALLEL) {
    const batch = cases.slice(i, i + PARALLEL)
    outcomes.push(...await Promise.all(batch.map((bytes) => runCase(bytes, oracle(bytes)))))
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      crashes.push({ signal: server.child.signalCode, code: server.child.exitCode, batch: batch.map((b) => JSON.stringify(b.toString('latin1'))) })
      outcomes = outcomes.slice(0, i) // this batch's results are meaningless
      server = await startNativeChild('raw_apps:echo', { listenOptions: { timeoutHeaders: 1, timeoutKeepAlive: 5 } })
    }
  }
})
after(() => server?.close())

const show = (o) => `${JSON.stringify(o.bytes.toString('latin1'))} → ${JSON.stringify(o.data.toString('latin1').slice(0, 300))}`

test(`fuzz (seed ${SEED}, ${CASES} cases): the server never crashes and still serves 200 afterwards`, async () => {
  assert.deepEqual(crashes, [], 'server process crashes (each entry lists the batch sent)')
  const r = await fetch(`${server.url}/after-fuzz`, { method: 'POST', body: 'ok' })
  assert.equal(r.status, 200)
  assert.equal(await r.text(), 'ok')
})

test('fuzz: every response is well-formed HTTP/1.1 and any error response is the last, followed by close', () => {
  const problems = []
  for (const o of outcomes) {
    if (o.error) { problems.push(`malformed response (${o.error}): ${show(o)}`); continue }
    if (o.rest.length && o.closedByServer) problems.push(`a truncated response before the close: ${show(o)}`)
    const finals = o.responses.filter((r) => r.status >= 200)
    finals.forEach((res, i) => {
      if (![200, 400, 408, 413, 431, 505].includes(res.status)) problems.push(`unexpected status ${res.status}: ${show(o)}`)
      if (res.status >= 400) {
        if (i !== finals.length - 1) problems.push(`responses after a ${res.status}: ${show(o)}`)
        if (!o.closedByServer) problems.push(`no close after ${res.status}: ${show(o)}`)
        if (res.headers.connection?.[0] !== 'close') problems.push(`${res.status} without connection: close: ${show(o)}`)
      }
    })
  }
  assert.deepEqual(problems.slice(0, 10), [], `${problems.length} problems`)
})

const KNOWN = new Set(['obs-fold', 'missing Host', 'duplicate Host', 'empty header name', 'bare LF', 'duplicate Transfer-Encoding'])

function mismatches (filter) {
  const list = []
  for (const o of outcomes) {
    const { expected } = o
    if (expected.end === 'unknown' || !filter(expected)) continue
    const finals = o.responses.filter((r) => r.status >= 200)
    const okCount = expected.requests.length
    const served = finals.slice(0, okCount)
    let wrong = served.length < okCount || served.some((r) => r.status !== 200)
    // 505 is the right refusal for a request-line without a version (HTTP/0.9 form)
    if (expected.end === 'bad') wrong ||= finals.length !== okCount + 1 || ![400, 505].includes(finals[okCount].status) || !o.closedByServer
    if (expected.end === 'incomplete') wrong ||= finals.length > okCount + 1 || (finals.length === okCount + 1 && finals[okCount].status !== 408)
    if (expected.end === 'done') wrong ||= finals.length !== okCount
    if (wrong) list.push(`expected ${okCount} × 200 then ${expected.end}${expected.why ? ` (${expected.why})` : ''}, got [${finals.map((r) => r.status)}]${o.closedByServer ? ' + close' : ''}: ${show(o)}`)
  }
  return list
}

test('fuzz: inputs that are not valid HTTP/1.1 get 400 and close; valid ones get their 200s (strict oracle)', () => {
  const list = mismatches((e) => !KNOWN.has(e.why))
  assert.deepEqual(list.slice(0, 10), [], `${list.length} mismatches with the oracle`)
  const judged = outcomes.filter((o) => o.expected.end !== 'unknown').length
  assert.ok(judged > CASES * 0.8, `the oracle judged most cases (${judged})`)
})

test('fuzz: obs-fold, missing or duplicate Host, empty names and bare LF get 400 and close (the cases llhttp 8.1 lets through and the server checks itself)', () => {
  const list = mismatches((e) => KNOWN.has(e.why))
  assert.deepEqual(list.slice(0, 10), [], `${list.length} mismatches with the oracle`)
})

module.exports = { oracle, generateCases }
