/**
 * Browser mode end to end: a real `serve` serves the built UI; Debian's Chromium opens it; the page shows the
 * peer's own id and a routing-table size that follows the swarm live, all through the HTTP transport.
 */
import { mkdir, rm } from 'node:fs/promises'
import { afterAll, beforeAll, expect, test } from 'vitest'
import type { BrowserContext } from 'playwright-core'
import { launchChromium } from '../helpers/browser.ts'
import { startServe, type ServeProcess } from '../helpers/processes.ts'
import { tempDir } from '../helpers/swarm.ts'

let a: ServeProcess
let b: ServeProcess | undefined
let browser: BrowserContext
const dirs: string[] = []

beforeAll(async () => {
  dirs.push(await tempDir(), await tempDir())
  a = await startServe(dirs[0]!)
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  await Promise.all([a, b].map((p) => p?.stop()))
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

test('the UI served by serve shows the peer id and a live routing-table size over HTTP', async () => {
  expect(a.output.join('\n')).toMatch(/^ui\s+http:\/\/127\.0\.0\.1:\d+\/$/m)
  const page = await browser.newPage()
  const problems: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text())
  })
  page.on('pageerror', (e) => problems.push(e.message))
  const response = await page.goto(`${a.url}/`)
  expect(response?.headers()['content-security-policy']).toContain("script-src 'self'")

  await expect.poll(() => page.getByTestId('own-peer-id').textContent()).toBe(a.peerId)
  await expect.poll(() => page.getByTestId('link-status').textContent()).toMatch(/live · browser \(HTTP\)/)
  expect(await page.getByTestId('routing-table-size').textContent()).toBe('0')

  // A second peer joins: the count changes without a reload, from the event stream.
  b = await startServe(dirs[1]!, ['--bootstrap', a.addresses[0]!])
  await expect.poll(() => page.getByTestId('routing-table-size').textContent(), { timeout: 20_000 }).toBe('1')
  await expect.poll(() => page.getByTestId('connection-count').textContent()).not.toBe('0')

  await mkdir('test-results', { recursive: true })
  await page.screenshot({ path: 'test-results/browser-mode.png' })
  expect(problems).toEqual([])
})
