'use strict'
// Two headless Chromium pages (Debian's /usr/bin/chromium driven by playwright-core) use the chat
// page: join as alice and bob, see each other's join notices, chat, survive a server restart on the
// same port (both re-join by themselves and chat again), and see each other leave. Screenshots of both
// pages go to the test's temp dir (os.tmpdir()/realtime-chat-browser-*/), logged with t.diagnostic.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { start } = require('../server')
const { launchChromium } = require('../../../test/browser_support')

const WAIT_MS = 20000
const quiet = { error () {}, warn () {}, info () {} }

/** A page in its own browser context (its own cookies and storage), with its console kept for failures. */
async function openPage (browser, label, log) {
  const context = await browser.newContext({ viewport: { width: 900, height: 620 } })
  const page = await context.newPage()
  page.setDefaultTimeout(WAIT_MS)
  page.on('console', (msg) => log.push(`${label} console.${msg.type()}: ${msg.text()}`))
  page.on('pageerror', (err) => log.push(`${label} pageerror: ${err.message}`))
  return page
}

const waitState = (page, state) => page.waitForSelector(`body[data-state="${state}"]`)
const line = (page, selector, text) => page.locator(`#messages ${selector}`, { hasText: text }).first().waitFor()
const users = (page) => page.locator('#users li').allTextContents()

async function join (page, url, name) {
  await page.goto(url, { waitUntil: 'load' })
  await page.fill('#name', name)
  await page.click('#join')
  await waitState(page, 'joined')
  assert.equal(await page.textContent('#status'), `Connected as ${name}`)
  assert.equal(await page.isVisible('#join-form'), false, 'the name form is hidden once joined')
  assert.equal(await page.isVisible('#messages'), true)
}

async function say (page, text) {
  await page.fill('#text', text)
  await page.press('#text', 'Enter')
}

test('two Chromium pages chat, see each other join and leave, and re-join by themselves after a server restart', { timeout: 120000 }, async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'realtime-chat-browser-'))
  const log = [] // the pages' console lines, shown when something fails
  let chat = await start({ port: 0, logger: quiet })
  const port = chat.port
  let browser = null
  try {
    browser = await launchChromium({ timeout: WAIT_MS })
    const alice = await openPage(browser, 'alice', log)
    const bob = await openPage(browser, 'bob', log)

    // join: each sees the other's join notice and the user list
    await join(alice, chat.url, 'alice')
    await join(bob, chat.url, 'bob')
    await line(alice, 'li.notice-join', 'bob joined')
    await line(bob, 'li.notice-join', 'bob joined')
    assert.deepEqual(await users(alice), ['alice', 'bob'])
    assert.deepEqual(await users(bob), ['alice', 'bob'])

    // chat both ways; the sender sees its own message marked as its own
    await say(alice, 'Hello from Alice <b>not bold</b>')
    await line(bob, 'li.message', 'Hello from Alice <b>not bold</b>')
    await line(alice, 'li.message.mine', 'Hello from Alice')
    assert.equal(await bob.locator('#messages b').count(), 0, 'message text must not be parsed as HTML')
    await say(bob, 'Hi Alice, caf\u00e9 \u2713 from Bob')
    await line(alice, 'li.message', 'Hi Alice, caf\u00e9 \u2713 from Bob')
    assert.equal(await alice.locator('#messages li.message .from').last().textContent(), 'bob')

    const before = path.join(tmp, 'alice-before-restart.png')
    await alice.screenshot({ path: before })
    t.diagnostic(`screenshot: ${before}`)

    // restart on the same port: both pages get the notice, show that they reconnect, and re-join
    await chat.close()
    await line(alice, 'li.notice-shutdown', 'shutting down')
    await line(bob, 'li.notice-shutdown', 'shutting down')
    for (const page of [alice, bob]) {
      // set when the close (after the notice) arrived: the status names the restart and the backoff
      await page.waitForFunction(() => /reconnecting in/.test(document.getElementById('status').textContent))
      assert.equal(await page.getAttribute('body', 'data-state'), 'reconnecting')
      assert.match(await page.textContent('#status'), /^Disconnected \(server restarting, code 10\d\d\); reconnecting in \d+\.\d s \(attempt \d+\)$/)
      assert.equal(await page.isDisabled('#text'), true, 'input is disabled while disconnected')
    }
    chat = await start({ port, logger: quiet })
    assert.equal(chat.port, port)
    await waitState(alice, 'joined')
    await waitState(bob, 'joined')
    assert.equal(await alice.textContent('#status'), 'Connected as alice')
    assert.equal(await bob.textContent('#status'), 'Connected as bob')
    await line(alice, 'li.notice-reconnected', 'Reconnected as alice')
    await line(bob, 'li.notice-reconnected', 'Reconnected as bob')
    const listed = await (await fetch(new URL('api/users', chat.url), { signal: AbortSignal.timeout(10000) })).json()
    assert.deepEqual(listed, { users: ['alice', 'bob'] })

    await say(bob, 'back after the restart')
    await line(alice, 'li.message', 'back after the restart')
    await say(alice, 'welcome back')
    await line(bob, 'li.message', 'welcome back')

    const after = path.join(tmp, 'alice-after-restart.png')
    await alice.screenshot({ path: after })
    assert.ok(fs.statSync(after).size > 0)
    t.diagnostic(`screenshot: ${after}`)

    // bob leaves: alice sees the notice; bob's page is back at the name form and a taken name is refused there
    await bob.click('#leave')
    await line(alice, 'li.notice-leave', 'bob left')
    await alice.waitForFunction(() => document.querySelectorAll('#users li').length === 1)
    assert.deepEqual(await users(alice), ['alice'])
    await bob.fill('#name', 'ALICE')
    await bob.click('#join')
    await bob.waitForSelector('#join-error:not(:empty)')
    assert.match(await bob.textContent('#join-error'), /'ALICE' is taken/)
    assert.equal(await bob.getAttribute('body', 'data-state'), 'closed')
    assert.equal(await bob.isVisible('#join-form'), true)
    assert.equal(await bob.isVisible('#messages'), false)
    const refused = path.join(tmp, 'bob-name-taken.png')
    await bob.screenshot({ path: refused })
    t.diagnostic(`screenshot: ${refused}`)

    // bob joins under another name, then alice leaves: now bob sees her notices
    await bob.fill('#name', 'bobby')
    await bob.click('#join')
    await waitState(bob, 'joined')
    await line(alice, 'li.notice-join', 'bobby joined')
    await alice.click('#leave')
    await line(bob, 'li.notice-leave', 'alice left')
    assert.deepEqual(await users(bob), ['bobby'])
  } catch (err) {
    err.message += log.length ? `\nbrowser console:\n  ${log.join('\n  ')}` : ''
    throw err
  } finally {
    await browser?.close().catch((err) => t.diagnostic(`closing Chromium: ${err.message}`))
    await chat.close()
  }
})
