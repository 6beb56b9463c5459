#!/usr/bin/env node
// The `swarm-inspector` command from a checkout: runs the TypeScript CLI through tsx's loader.
import { register } from 'tsx/esm/api'

register()
await import('../src/main/cli/index.ts')
