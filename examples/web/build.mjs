// Bundles the page (src/main.jsx and its dependencies) for browsers into dist/, with
// index.html beside it. Run: `node build.mjs` (or `npm run build`).
import { copyFile, mkdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
await esbuild.build({
	entryPoints: [join(here, "src/main.jsx")],
	outfile: join(dist, "main.js"),
	bundle: true,
	format: "esm",
	// Picks rivetkit's browser build of its client (its `browser` export condition).
	platform: "browser",
	target: "es2022",
	jsx: "automatic",
	// React reads this to drop its development-only checks.
	define: { "process.env.NODE_ENV": '"production"' },
	minify: true,
	sourcemap: true,
	logLevel: "warning",
});
await copyFile(join(here, "index.html"), join(dist, "index.html"));
console.log(`built ${dist}`);
