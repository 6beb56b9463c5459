/** The icon sizes the installers need (Linux hicolor sizes; Windows and macOS take theirs from the largest). */
export const ICON_SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024]
