// Copies MapLibre's prebuilt browser files from node_modules into
// static/vendor, where go:embed picks them up. No bundler: the viewer is
// plain ES modules and MapLibre ships a ready UMD build.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const from = join(here, 'node_modules', 'maplibre-gl', 'dist');
const to = join(here, 'static', 'vendor');

// LICENSE.txt travels with the code because the BSD licence asks for it.
const files = ['maplibre-gl.js', 'maplibre-gl.css', 'LICENSE.txt'];

mkdirSync(to, { recursive: true });
for (const f of files) {
  try {
    copyFileSync(join(from, f), join(to, f === 'LICENSE.txt' ? 'maplibre-gl-LICENSE.txt' : f));
  } catch (err) {
    console.error(`build: copy ${join(from, f)}: ${err.message} (run "npm ci" in web-map first)`);
    process.exit(1);
  }
}
console.log(`build: copied ${files.length} files to ${to}`);
