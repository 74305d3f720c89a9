'use strict'
// A real browser against the native server (handler.listen()): Debian's headless Chromium, driven
// by playwright-core, loads fixtures/browser_ws_app.py's page, whose WebSocket sends text and
// binary messages (empty, non-ASCII, 200 KB compressible) and checks every echo; Chromium offers
// permessage-deflate and the server must accept it; a close with code 4000 and a reason from the
// page must reach the app. A screenshot of the page goes to os.tmpdir()/node-asgi-browser-*/.
// scripts/setup.sh installs Chromium, so a Chromium that cannot be launched fails the test.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { PythonHandler } = require('..')
const { FIXTURES, captureLogger } = require('./helpers')
const { launchChromium } = require('./browser_support')

const CLOSE_CODE = 4000
const CLOSE_REASON = 'browser says bye \u2713'

/** Resolves `probe()`'s first truthy value, polling every 50 ms; rejects after `ms`. */
async function waitFor (probe, ms, what) {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

test('Chromium echoes text and binary messages through the native server with permessage-deflate, and its close code 4000 reaches the app', { timeout: 60000 }, async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'node-asgi-browser-'))
  const profileDir = path.join(tmp, 'profile')
  const logger = captureLogger()
  const handler = new PythonHandler({ app: 'browser_ws_app:app', appDir: FIXTURES, logger })
  let server = null
  let context = null
  const consoleLines = [] // the page's console messages and errors, and the WebSocket as CDP saw it
  const report = () => consoleLines.length ? `\nbrowser console / network:\n  ${consoleLines.join('\n  ')}` : ''
  try {
    server = await handler.listen({ port: 0, host: '127.0.0.1' })
    const { port } = server.address()
    const origin = `http://127.0.0.1:${port}`

    context = await launchChromium({ userDataDir: profileDir, viewport: { width: 900, height: 600 } })
    const page = context.pages()[0] ?? await context.newPage()
    page.setDefaultTimeout(20000)
    page.on('console', (msg) => consoleLines.push(`console.${msg.type()}: ${msg.text()}`))
    page.on('pageerror', (err) => consoleLines.push(`pageerror: ${err.message}`))

    // The handshake's headers and any frame error, from the DevTools protocol.
    const handshake = { request: null, response: null }
    const cdp = await context.newCDPSession(page)
    await cdp.send('Network.enable')
    cdp.on('Network.webSocketWillSendHandshakeRequest', (e) => { handshake.request = e.request.headers })
    cdp.on('Network.webSocketHandshakeResponseReceived', (e) => {
      handshake.response = { status: e.response.status, headers: e.response.headers }
      consoleLines.push(`handshake response: ${e.response.status} ${JSON.stringify(e.response.headers)}`)
    })
    cdp.on('Network.webSocketFrameError', (e) => consoleLines.push(`websocket frame error: ${e.errorMessage}`))
    cdp.on('Network.webSocketClosed', () => consoleLines.push('websocket closed (CDP)'))

    const response = await page.goto(`${origin}/`, { waitUntil: 'load' })
    assert.equal(response.status(), 200, `GET / answered ${response.status()}`)

    // Every echo came back with the sent frame type and the same content.
    try {
      await page.waitForFunction(() => window.__wsTest.done || window.__wsTest.error !== null ||
        window.__wsTest.closeEvent !== null, null, { timeout: 20000 })
    } catch (err) {
      const state = await page.evaluate(() => window.__wsTest).catch(() => null)
      assert.fail(`the page's echoes did not all arrive: ${err.message}\npage state: ${JSON.stringify(state)}${report()}`)
    }
    const state = await page.evaluate(() => window.__wsTest)
    t.diagnostic(`echoes: ${state.results.map((r) => `${r.name} (${r.type}, ${r.bytes} B): ${r.match ? 'ok' : 'DIFFERS'}`).join('; ')}`)
    assert.equal(state.error, null, `WebSocket error in the page: ${state.error}${report()}`)
    assert.equal(state.closeEvent, null, `the WebSocket closed early: ${JSON.stringify(state.closeEvent)}${report()}`)
    assert.equal(state.done, true)
    assert.equal(state.results.length, 7, JSON.stringify(state.results))
    assert.deepEqual(state.results.map((r) => r.type), ['text', 'text', 'text', 'binary', 'binary', 'text', 'binary'])
    assert.ok(state.allMatch, `some echoes differ: ${JSON.stringify(state.results)}${report()}`)
    assert.ok(state.results.find((r) => r.name === '200 KB text').bytes >= 200000)

    // Chromium offered permessage-deflate, and the server accepted it.
    t.diagnostic(`offered Sec-WebSocket-Extensions: ${state.offered}`)
    t.diagnostic(`negotiated ws.extensions: ${state.extensions}`)
    if (handshake.response) t.diagnostic(`handshake response headers: ${JSON.stringify(handshake.response.headers)}`)
    assert.match(state.offered, /permessage-deflate/, 'the browser offered no permessage-deflate')
    assert.match(state.extensions, /permessage-deflate/, `the server did not accept permessage-deflate${report()}`)

    // A close from the page with 4000 and a reason reaches the app as websocket.disconnect.
    await page.evaluate(({ code, reason }) => window.__ws.close(code, reason), { code: CLOSE_CODE, reason: CLOSE_REASON })
    const closeEvent = await page.waitForFunction(() => window.__wsTest.closeEvent, null, { timeout: 10000 })
      .then((h) => h.jsonValue())
    t.diagnostic(`page close event: ${JSON.stringify(closeEvent)}`)
    assert.equal(closeEvent.code, CLOSE_CODE, `the server's closing frame: ${JSON.stringify(closeEvent)}${report()}`)
    assert.equal(closeEvent.wasClean, true, `close was not clean: ${JSON.stringify(closeEvent)}${report()}`)
    const lastClose = await waitFor(async () => {
      const res = await fetch(`${origin}/last-close`)
      assert.equal(res.status, 200)
      return res.json()
    }, 10000, 'the app to record the websocket.disconnect')
    t.diagnostic(`app's websocket.disconnect: ${JSON.stringify(lastClose)}`)
    assert.deepEqual(lastClose, { code: CLOSE_CODE, reason: CLOSE_REASON })

    const screenshot = path.join(tmp, 'page.png')
    await page.screenshot({ path: screenshot, fullPage: true })
    assert.ok(fs.statSync(screenshot).size > 0)
    t.diagnostic(`screenshot: ${screenshot}`)
    for (const line of consoleLines) t.diagnostic(`browser: ${line}`)
  } finally {
    await context?.close().catch((err) => t.diagnostic(`closing Chromium: ${err.message}`))
    await server?.close()
    await handler.close()
    fs.rmSync(profileDir, { recursive: true, force: true })
  }
})
