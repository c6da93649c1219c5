import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import GithubSlugger from 'github-slugger';

const repo = fileURLToPath(new URL('../../', import.meta.url));

function markdownFiles(): string[] {
  const docs = readdirSync(join(repo, 'docs'), { recursive: true, encoding: 'utf8' });
  return ['README.md', ...docs.filter(f => f.endsWith('.md')).map(f => join('docs', f))].sort();
}

/** The text outside fenced code blocks, line by line (code never holds links or headings). */
function proseLines(markdown: string): string[] {
  let fence: string | undefined;
  const out: string[] = [];
  for (const line of markdown.split('\n')) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker && (fence === undefined || marker.startsWith(fence))) {
      fence = fence === undefined ? marker : undefined;
      continue;
    }
    if (fence === undefined) out.push(line);
  }
  return out;
}

/** The `#anchors` GitHub gives a file's headings. */
function anchors(file: string): Set<string> {
  const slugger = new GithubSlugger();
  const found = new Set<string>();
  for (const line of proseLines(readFileSync(join(repo, file), 'utf8'))) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading !== undefined) found.add(slugger.slug(heading.replace(/`/g, '')));
  }
  return found;
}

/** Relative link targets of a file: `[text](target)`, outside code. */
function links(file: string): string[] {
  const text = proseLines(readFileSync(join(repo, file), 'utf8'))
    .join('\n')
    .replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)]
    .map(m => m[1] ?? '')
    .filter(target => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

function brokenLink(file: string, target: string): string | undefined {
  const [path = '', anchor] = target.split('#');
  const resolved = path === '' ? file : relative(repo, join(repo, dirname(file), decodeURIComponent(path)));
  if (!existsSync(join(repo, resolved))) return `${file}: ${target}: no such file ${resolved}`;
  if (anchor === undefined || !resolved.endsWith('.md')) return undefined;
  if (!anchors(resolved).has(anchor)) return `${file}: ${target}: ${resolved} has no heading #${anchor}`;
  return undefined;
}

test('the docs index and the reference pages exist', () => {
  const files = markdownFiles();
  for (const page of ['docs/README.md', 'docs/configuration.md', 'docs/handlers.md', 'docs/operations.md']) {
    assert.ok(files.includes(page), `${page} exists`);
  }
});

test('every relative link and #anchor in README.md and docs/ resolves', () => {
  const broken: string[] = [];
  let checked = 0;
  for (const file of markdownFiles()) {
    for (const target of links(file)) {
      checked++;
      const problem = brokenLink(file, target);
      if (problem) broken.push(problem);
    }
  }
  assert.ok(checked > 20, `found ${checked} links`);
  assert.deepEqual(broken, []);
});

test('the link checker sees a broken anchor and a missing file', () => {
  assert.match(brokenLink('README.md', 'docs/configuration.md#no-such-heading') ?? '', /no heading/);
  assert.match(brokenLink('docs/README.md', 'missing.md') ?? '', /no such file docs\/missing\.md/);
  assert.equal(brokenLink('docs/README.md', '../README.md'), undefined);
});
