import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import {
  checkForUpdatesWithConsent,
  updateFeedConfigured,
  type UpdaterLike
} from '../../../src/main/desktop/updates.ts'

function fakeUpdater(latest: string | null) {
  const calls: string[] = []
  const updater: UpdaterLike = {
    autoDownload: true,
    autoInstallOnAppQuit: true,
    checkForUpdates: async () => {
      calls.push('check')
      return latest == null ? null : { updateInfo: { version: latest } }
    },
    downloadUpdate: async () => void calls.push('download'),
    quitAndInstall: () => void calls.push('install')
  }
  return { updater, calls }
}
const answering = (...choices: number[]) => {
  const asked: string[] = []
  return {
    asked,
    ui: {
      ask: async (m: string) => (asked.push(m), choices.shift() ?? 1),
      tell: async (m: string) => void asked.push(m)
    }
  }
}

test('nothing is downloaded or installed without a yes at each step', async () => {
  const declined = fakeUpdater('0.2.0')
  expect(await checkForUpdatesWithConsent(declined.updater, answering(1).ui, '0.1.0', true)).toBe('declined')
  expect(declined.calls).toEqual(['check'])
  expect(declined.updater.autoDownload).toBe(false)
  expect(declined.updater.autoInstallOnAppQuit).toBe(false)

  const later = fakeUpdater('0.2.0')
  expect(await checkForUpdatesWithConsent(later.updater, answering(0, 1).ui, '0.1.0', true)).toBe('declined')
  expect(later.calls).toEqual(['check', 'download'])

  const yes = fakeUpdater('0.2.0')
  expect(await checkForUpdatesWithConsent(yes.updater, answering(0, 0).ui, '0.1.0', true)).toBe('installing')
  expect(yes.calls).toEqual(['check', 'download', 'install'])
})

test('up to date, no feed, and a failing feed are said plainly', async () => {
  const same = fakeUpdater('0.1.0')
  const told = answering()
  expect(await checkForUpdatesWithConsent(same.updater, told.ui, '0.1.0', true)).toBe('none')
  expect(told.asked).toEqual(['Swarm Inspector is up to date'])
  const off = fakeUpdater('9.9.9')
  expect(await checkForUpdatesWithConsent(off.updater, answering().ui, '0.1.0', false)).toBe('off')
  expect(off.calls).toEqual([])
  const broken: UpdaterLike = {
    ...fakeUpdater(null).updater,
    checkForUpdates: async () => Promise.reject(new Error('offline'))
  }
  expect(await checkForUpdatesWithConsent(broken, answering().ui, '0.1.0', true)).toBe('failed')
})

test('the feed is configured only in a packaged build that carries app-update.yml', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'swarm-inspector-res-'))
  try {
    expect(updateFeedConfigured(dir, true)).toBe(false)
    await writeFile(join(dir, 'app-update.yml'), 'provider: github\n')
    expect(updateFeedConfigured(dir, true)).toBe(true)
    expect(updateFeedConfigured(dir, false)).toBe(false)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
