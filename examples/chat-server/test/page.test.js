'use strict'
// The chat page in a real browser: two headless Chromium pages (Debian's /usr/bin/chromium driven
// by playwright-core) load it from Express, connect to /api/ws, chat, list clients, get the error
// for a 256-character message, and quit. A screenshot goes to os.tmpdir()/chat-server-page-*/.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { startChat, post } = require('./chat_support')
const { launchChromium } = require('../../../test/browser_support')

const WAIT_MS = 20000

async function openPage (browser, url, log, label) {
  const context = await browser.newContext({ viewport: { width: 900, height: 700 } })
  const page = await context.newPage()
  page.setDefaultTimeout(WAIT_MS)
  page.on('console', (msg) => log.push(`${label} console.${msg.type()}: ${msg.text()}`))
  page.on('pageerror', (err) => log.push(`${label} pageerror: ${err.message}`))
  await page.goto(url, { waitUntil: 'load' })
  return page
}

const logLine = (page, kind, text) => page.locator(`#log .${kind}`, { hasText: text }).first().waitFor()

async function connect (page, room, id) {
  await page.fill('#room', room)
  await page.fill('#client', id)
  await page.click('#connect-button')
  await logLine(page, 'ok', `OK HELLO ${room}:${id} CONNECTED`)
  assert.equal(await page.textContent('#state'), `connected as ${id} in ${room}`)
}

async function say (page, text) {
  await page.fill('#message', text)
  await page.press('#message', 'Enter')
}

test('two Chromium pages connect, chat, list clients, see the length error and quit', { timeout: 90000 }, async (t) => {
  const served = await startChat()
  const log = []
  let browser = null
  try {
    browser = await launchChromium({ timeout: WAIT_MS })
    const ana = await openPage(browser, served.url + '/', log, 'ana')
    const ben = await openPage(browser, served.url + '/', log, 'ben')
    await connect(ana, 'lobby', 'ana')
    await connect(ben, 'lobby', 'ben')

    await say(ana, 'hello from Chromium')
    await logLine(ana, 'ok', 'OK SEND lobby:ana delivered=1 held=0')
    await logLine(ben, 'msg', 'MSG lobby:ana hello from Chromium')
    await say(ben, 'hi ana \u{1F600}')
    await logLine(ana, 'msg', 'MSG lobby:ben hi ana \u{1F600}')

    assert.equal((await post(served.url, '/clients/register', { client_id: 'bot', room: 'lobby' })).status, 201)
    assert.equal((await post(served.url, '/messages/send', { room: 'lobby', client_id: 'bot', message: 'from REST' })).status, 200)
    await logLine(ana, 'msg', 'MSG lobby:bot from REST')
    await logLine(ben, 'msg', 'MSG lobby:bot from REST')

    await ben.click('button[data-line="LIST clients"]')
    await logLine(ben, 'ok', 'OK CLIENTS ana:ACTIVE ben:ACTIVE bot:NEW')
    await say(ben, 'x'.repeat(256))
    await logLine(ben, 'error', 'ERROR message is 256 characters; the limit is 255 (nothing was sent)')

    await ben.click('#status')
    await logLine(ben, 'info', 'status 200: {"clients":3')

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-server-page-'))
    await ana.screenshot({ path: path.join(dir, 'ana.png') })
    t.diagnostic(`screenshot: ${path.join(dir, 'ana.png')}`)

    await ana.click('button[data-line="QUIT {id}"]')
    await logLine(ana, 'ok', 'OK QUIT ana CLOSING')
    await logLine(ana, 'info', 'closed (1000: ana quit)')
    assert.equal(await ana.textContent('#state'), 'disconnected')
    assert.equal(await ana.isDisabled('#send'), true)
    assert.deepEqual(log.filter((l) => l.includes('pageerror')), [])
  } catch (err) {
    err.message += `\npage console:\n${log.join('\n')}`
    throw err
  } finally {
    await browser?.close()
    await served.close()
  }
})
