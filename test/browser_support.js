'use strict'
// Launches Debian's headless Chromium (/usr/bin/chromium) with playwright-core for the browser tests
// (test/native_browser_websocket.test.js and the chat examples' page tests); failing the test clearly
// when playwright-core or Chromium is missing or cannot start (scripts/setup.sh installs both).
const assert = require('node:assert/strict')
const fs = require('node:fs')

const CHROMIUM = '/usr/bin/chromium'

const ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'
]

/**
 * Resolves a playwright Browser from chromium.launch(), or, with `userDataDir` (a fresh, empty
 * directory: playwright refuses --user-data-dir in args), a BrowserContext from
 * chromium.launchPersistentContext(). Other options (timeout, viewport...) go to playwright.
 */
async function launchChromium ({ userDataDir = null, ...options } = {}) {
  let chromium
  try {
    ({ chromium } = require('playwright-core'))
  } catch (err) {
    assert.fail(`playwright-core is not installed (a devDependency; run npm install): ${err.message}`)
  }
  if (!fs.existsSync(CHROMIUM)) {
    assert.fail(`${CHROMIUM} is missing: scripts/setup.sh installs Debian's chromium package (apt-get install chromium)`)
  }
  const launchOptions = {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 20000,
    ...options,
    // not the sanitizer runtime `npm run test:asan` preloads into Node: Chromium is not built for it
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'LD_PRELOAD')),
    args: ARGS
  }
  try {
    return userDataDir === null
      ? await chromium.launch(launchOptions)
      : await chromium.launchPersistentContext(userDataDir, launchOptions)
  } catch (err) {
    assert.fail(`could not launch Chromium (${CHROMIUM}) with playwright-core: ${err.message}`)
  }
}

module.exports = { CHROMIUM, launchChromium }
