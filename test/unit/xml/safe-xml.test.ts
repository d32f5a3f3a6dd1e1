import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseXml, serializeXml } from '../../../src/main/xml/safe-xml';
import { installXmldomRegexCache } from '../../../src/main/xml/xmldom-regex-cache';
import { HAS_SHARED, SHARED_MISSING, sharedPath } from '../../support/shared';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** Serialisations of the same inputs by a pristine xmldom in another process (no regex cache installed). */
function pristine(inputs: string[]): (string | null)[] {
  const script = `
    const { DOMParser, XMLSerializer } = require('@xmldom/xmldom');
    const inputs = JSON.parse(require('fs').readFileSync(0, 'utf8'));
    const out = inputs.map((t) => {
      const errors = [];
      try {
        const doc = new DOMParser({ onError: (l, m) => { if (l !== 'warning') errors.push(m); } }).parseFromString(t, 'text/xml');
        return errors.length || !doc.documentElement ? null : new XMLSerializer().serializeToString(doc);
      } catch { return null; }
    });
    process.stdout.write(JSON.stringify(out));`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: ROOT, input: JSON.stringify(inputs), maxBuffer: 256 * 1024 * 1024 }).toString()) as (string | null)[];
}

function ours(inputs: string[]): (string | null)[] {
  return inputs.map((t) => {
    try {
      return serializeXml(parseXml(t));
    } catch {
      return null;
    }
  });
}

describe('safe XML parsing', () => {
  it('refuses DTDs and entity declarations', () => {
    expect(() => parseXml('<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>')).toThrow(/DOCTYPE\/ENTITY/);
    expect(() => parseXml('<?xml version="1.0"?>\n<!doctype a SYSTEM "file:///etc/passwd"><a/>')).toThrow(/DOCTYPE/);
  });

  it('installs the regex cache on the xmldom in use', () => {
    expect(installXmldomRegexCache()).toBe(true);
  });

  it('parses exactly like a pristine xmldom, well-formed and malformed inputs alike', () => {
    const inputs = [
      '<a xmlns="urn:x" xmlns:p="urn:p"><p:b c="1">t&amp;u</p:b><d/><!-- c --><?pi x?><![CDATA[<z>]]></a>',
      '<a><b></b ></a>',
      '<a><b></c></a>',
      '<a><b>',
      '<a></a\n x>',
      '<a>&unknown;</a>',
      '<a b="1" b="2"/>',
      '<é:ü xmlns:é="urn:e">ñ</é:ü>',
      'text<a/>',
      '<a/><b/>',
    ];
    expect(ours(inputs)).toEqual(pristine(inputs));
    // The malformed ones are still refused.
    expect(ours(inputs).filter((x) => x === null).length).toBeGreaterThanOrEqual(4);
  });

  it.skipIf(!HAS_SHARED)('parses every ANS CDA example and NIST XDM metadata exactly like a pristine xmldom', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (/\.xml$/i.test(e.name)) files.push(p);
      }
    };
    walk(sharedPath('fixtures'));
    expect(files.length).toBeGreaterThan(5);
    const texts = files.map((f) => fs.readFileSync(f, 'utf8')).filter((t) => !/<!DOCTYPE|<!ENTITY/i.test(t));
    const digest = (xs: (string | null)[]) => xs.map((x) => (x === null ? null : createHash('sha256').update(x).digest('hex')));
    expect(digest(ours(texts))).toEqual(digest(pristine(texts)));
  });
  if (!HAS_SHARED) it.skip(SHARED_MISSING, () => {});
});
