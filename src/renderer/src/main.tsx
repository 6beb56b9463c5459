import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App.tsx'
import { createClient } from './api-client.ts'
import { startEventBridge } from './store/event-bridge.ts'
import { useInspector } from './store/index.ts'
import { setPeerClient } from './store/peer-client.ts'
import { markHiddenOnRoot } from './store/page-visibility.ts'
import './styles.css'

const { client, transport } = createClient()
setPeerClient(client)
startEventBridge(client, useInspector)
markHiddenOnRoot()

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <App transport={transport} />
  </StrictMode>
)
