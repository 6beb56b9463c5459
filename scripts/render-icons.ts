/**
 * Renders resources/icon.svg into every size and format the installers need, into build/ (committed):
 *   build/icons/<N>x<N>.png (Linux), build/icon.png (512), build/icon.ico (Windows), build/icon.icns (macOS),
 *   and resources/icon.png (the window icon on Linux).
 *   npm run icons
 */
import { Resvg } from '@resvg/resvg-js'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import png2icons from 'png2icons'
import { ICON_SIZES } from './icon-sizes.ts'

const svg = await readFile('resources/icon.svg')
const render = (size: number): Buffer =>
  Buffer.from(new Resvg(svg, { fitTo: { mode: 'width', value: size } }).render().asPng())

await mkdir('build/icons', { recursive: true })
for (const size of ICON_SIZES) await writeFile(`build/icons/${size}x${size}.png`, render(size))
await writeFile('build/icon.png', render(512))
await writeFile('resources/icon.png', render(256))
const master = render(1024)
const ico = png2icons.createICO(master, png2icons.BICUBIC2, 0, false, true)
const icns = png2icons.createICNS(master, png2icons.BICUBIC2, 0)
if (ico == null || icns == null) throw new Error('png2icons could not make the .ico or .icns')
await writeFile('build/icon.ico', ico)
await writeFile('build/icon.icns', icns)
console.log(`rendered ${ICON_SIZES.length} PNG sizes, icon.ico and icon.icns`)
