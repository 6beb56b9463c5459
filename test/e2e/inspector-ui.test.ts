/**
 * The inspector end to end in Debian's Chromium against three real `serve` peers: join the swarm from the UI, put,
 * get, provide, find providers, watch the buckets, open a lookup trace, export a snapshot and reopen it.
 * Screenshots of every view are saved under test-results/ui/.
 */
import { mkdir, readFile, rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { BrowserContext, Page } from 'playwright-core'
import { launchChromium } from '../helpers/browser.ts'
import { startServe, type ServeProcess } from '../helpers/processes.ts'
import { tempDir } from '../helpers/swarm.ts'

const SHOTS = 'test-results/ui'
let peers: ServeProcess[] = []
let browser: BrowserContext
const pages: Page[] = []
const dirs: string[] = []
const problems: string[] = []

const shot = (page: Page, name: string) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true })
const tab = (page: Page, name: string) => page.getByRole('tab', { name }).click()

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true })
  for (let i = 0; i < 3; i++) dirs.push(await tempDir())
  // Three peers that do not know each other: the UI joins them.
  peers = await Promise.all(dirs.map((d) => startServe(d)))
  browser = await launchChromium()
  for (const p of peers) {
    const page = await browser.newPage()
    page.on('pageerror', (e) => problems.push(e.message))
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text())
    })
    await page.goto(`${p.url}/`)
    await page.getByTestId('link-status').filter({ hasText: /^live/ }).waitFor()
    pages.push(page)
  }
})

afterAll(async () => {
  await browser?.close()
  await Promise.all(peers.map((p) => p.stop()))
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

describe('the inspector UI against a live 3-peer swarm', () => {
  test('join the swarm from the UI: dial from one peer, bootstrap from another; buckets fill', async () => {
    const [a, b, c] = pages as [Page, Page, Page]
    await shot(a, '01-overview-alone')
    await a.getByLabel('Multiaddr to dial').fill(peers[1]!.addresses[0]!)
    await a.getByRole('button', { name: 'Dial' }).click()
    await expect.poll(() => a.getByTestId('dial-result').textContent()).toMatch(/Connected to/)
    await c.getByLabel('Bootstrap multiaddr').fill(peers[0]!.addresses[0]!)
    await c.getByRole('button', { name: 'Add bootstrap' }).click()
    await expect.poll(() => c.getByTestId('bootstrap-list').textContent()).toContain(peers[0]!.peerId)
    for (const page of [a, b, c]) {
      await expect
        .poll(() => page.getByTestId('routing-table-size').textContent(), { timeout: 20_000 })
        .not.toBe('0')
    }
    await tab(a, 'Routing table')
    await expect
      .poll(() => a.getByTestId('routing-summary').textContent(), { timeout: 20_000 })
      .toMatch(/^2 peer/)
    await a.locator('.bucket-head').first().click()
    await a.locator('.peer-table tbody tr').first().waitFor()
    // Clocks are read once the table is viewed, and each reading's event has the view fetch it: the skew column fills.
    await expect
      .poll(() => a.locator('.peer-table tbody tr td:nth-child(6)').first().textContent(), {
        timeout: 10_000
      })
      .toMatch(/ms$/)
    await shot(a, '02-routing-table')
    await shot(c, '03-overview-joined')
    // Swarm profiles: the default one is active; the current swarm can be saved under a name.
    await b
      .getByTestId('profiles')
      .filter({ hasText: /default\s*active/ })
      .waitFor()
    await b.getByLabel('Profile name').fill('lab')
    await b.getByRole('button', { name: 'Save current swarm' }).click()
    await b.getByTestId('profiles').filter({ hasText: 'lab' }).waitFor()
    // The SDK bridge: on, on the data directory's socket; a listener can be switched off and on again.
    await b.getByTestId('bridge-socket').filter({ hasText: 'bridge.sock' }).waitFor()
    expect(await b.getByTestId('bridge-state').textContent()).toBe('on')
    await b.getByLabel('Unix socket').click()
    await b.getByTestId('bridge-socket').filter({ hasText: /^off$/ }).waitFor()
    await b.getByLabel('Unix socket').click()
    await b.getByTestId('bridge-socket').filter({ hasText: 'bridge.sock' }).waitFor()
  })

  test('put through the form on one peer, get through the form on another: value and publisher', async () => {
    const [a, b] = pages as [Page, Page]
    await tab(a, 'Records')
    const put = a.getByRole('form', { name: 'Put a record' })
    await put.getByLabel('Topic').fill('status')
    await put.getByLabel('Key').fill('robot-1')
    await put.getByLabel('Value as').selectOption('json')
    await put.getByLabel('Value', { exact: true }).fill('{"battery": 83, "mode": "patrol"}')
    await put.getByRole('button', { name: 'Put' }).click()
    await expect.poll(() => a.getByTestId('put-result').textContent()).toMatch(/on [1-9] of \d+ peer/)
    // Invalid input is caught before sending, with the reason.
    await put.getByLabel('Topic').fill('bad/topic')
    await put.getByRole('button', { name: 'Put' }).click()
    expect(await put.getByRole('alert').textContent()).toMatch(/must not contain "\/"/)
    await put.getByLabel('Topic').fill('status')
    await a
      .getByTestId('records-table')
      .getByRole('row', { name: /robot-1/ })
      .click()
    await a.getByTestId('record-detail').filter({ hasText: 'patrol' }).waitFor()
    await shot(a, '04-records-put')

    await tab(b, 'Records')
    const get = b.getByRole('form', { name: 'Get a record' })
    await get.getByLabel('Topic').fill('status')
    await get.getByLabel('Key').fill('robot-1')
    await get.getByRole('button', { name: 'Get' }).click()
    await expect.poll(() => b.getByTestId('get-publisher').textContent()).toBe(peers[0]!.peerId)
    expect(await b.getByTestId('get-result').textContent()).toContain('"battery": 83')
    await shot(b, '05-records-get')

    // Replication check from b: every closest peer holds the newest version.
    const replication = b.getByRole('form', { name: 'Replication check' })
    await replication.getByLabel('Topic').fill('status')
    await replication.getByLabel('Key').fill('robot-1')
    await replication.getByRole('button', { name: 'Check' }).click()
    await b
      .getByTestId('replication-summary')
      .filter({ hasText: /^2 of 2 closest peers hold the newest version/ })
      .waitFor()

    // The lookup trace of that get, drawn.
    await b.getByRole('button', { name: 'Show the lookup trace' }).click()
    await b.getByTestId('trace-view').waitFor()
    await b.locator('.trace-picture circle').first().waitFor()
    await shot(b, '06-lookup-trace')
  })

  test('provide on two peers through the form, find providers from the third as they stream in', async () => {
    const [a, b, c] = pages as [Page, Page, Page]
    for (const page of [a, b]) {
      await tab(page, 'Providers')
      const form = page.getByRole('form', { name: 'Provide', exact: true })
      await form.getByLabel('Topic').fill('capabilities')
      await form.getByLabel('Key').fill('camera')
      await form.getByRole('button', { name: 'Provide' }).click()
      await expect.poll(() => page.getByTestId('provide-result').textContent()).toMatch(/Providing/)
      await expect
        .poll(() => page.getByTestId('provided-list').textContent())
        .toContain('capabilities/camera')
    }
    await tab(c, 'Providers')
    const find = c.getByRole('form', { name: 'Find providers' })
    await find.getByLabel('Topic').fill('capabilities')
    await find.getByLabel('Key').fill('camera')
    await find.getByRole('button', { name: 'Find' }).click()
    await expect
      .poll(() => c.getByTestId('find-status').textContent(), { timeout: 20_000 })
      .toMatch(/Done: 2 provider/)
    const found = await c.getByTestId('providers-found').textContent()
    expect(found).toContain(peers[0]!.peerId)
    expect(found).toContain(peers[1]!.peerId)
    await shot(c, '07-providers')
    await shot(a, '08-providers-provided')
    // Stop providing from b's list: it disappears from what b provides.
    await b.getByTestId('provided-list').getByRole('button', { name: 'Stop providing' }).click()
    await b.getByText('This node provides nothing yet').waitFor()
  })

  test('the lookups list shows every query; export a snapshot and reopen it read-only', async () => {
    const [a] = pages as [Page]
    await tab(a, 'Lookups')
    await expect.poll(async () => a.getByTestId('queries-table').getByRole('row').count()).toBeGreaterThan(2)
    await a.getByTestId('queries-table').getByRole('row', { name: /put/ }).first().click()
    await a.getByTestId('trace-view').waitFor()
    await shot(a, '09-lookups')

    const download = a.waitForEvent('download')
    await a.getByRole('button', { name: 'Export snapshot' }).click()
    const file = await (await download).path()
    const snapshot = JSON.parse(await readFile(file, 'utf8')) as {
      format: string
      node: { peerId: string }
      records: unknown[]
    }
    expect(snapshot.format).toBe('swarm-inspector-snapshot/1')
    expect(snapshot.node.peerId).toBe(peers[0]!.peerId)
    expect(snapshot.records.length).toBeGreaterThan(0)

    // A colleague (peer c's window) opens it: the views show peer a's state, read-only.
    const c = pages[2]!
    await c.getByTestId('snapshot-file').setInputFiles(file)
    await c.getByTestId('snapshot-banner').filter({ hasText: 'read-only' }).waitFor()
    await expect.poll(() => c.getByTestId('own-peer-id').textContent()).toBe(peers[0]!.peerId)
    await tab(c, 'Records')
    await c.getByTestId('records-table').filter({ hasText: 'robot-1' }).waitFor()
    expect(
      await c.getByRole('form', { name: 'Put a record' }).getByRole('button', { name: 'Put' }).isDisabled()
    ).toBe(true)
    await shot(c, '10-snapshot-records')
    await c.getByRole('button', { name: 'Back to live' }).click()
    await expect.poll(() => c.getByTestId('own-peer-id').textContent()).toBe(peers[2]!.peerId)
  })

  test('no page errors along the way', () => {
    expect(problems).toEqual([])
  })
})
