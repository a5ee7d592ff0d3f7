import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/** The TSDoc of one member: its text and its `@default`, as written. */
export interface MemberDoc {
  readonly text: string;
  readonly default?: string;
}

/** The members of an interface or class of a source file, by name, with their TSDoc. */
export function memberDocs(root: string, file: string, declaration: string): ReadonlyMap<string, MemberDoc> {
  const path = join(root, file);
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const docs = new Map<string, MemberDoc>();
  const visit = (node: ts.Node) => {
    if ((ts.isInterfaceDeclaration(node) || ts.isClassDeclaration(node)) && node.name?.text === declaration) {
      for (const member of node.members) {
        if (!member.name || !ts.isIdentifier(member.name)) continue;
        const jsDoc = ts.getJSDocCommentsAndTags(member).filter(ts.isJSDoc).pop();
        if (!jsDoc) continue;
        const defaultTag = jsDoc.tags?.find((t) => t.tagName.text === 'default');
        docs.set(member.name.text, {
          text: plain(ts.getTextOfJSDocComment(jsDoc.comment) ?? ''),
          ...(defaultTag && { default: plain(ts.getTextOfJSDocComment(defaultTag.comment) ?? '').replace(/^- /, '') }),
        });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  if (docs.size === 0) throw new Error(`${file}: no documented members of ${declaration}`);
  return docs;
}

/** TSDoc text as one paragraph of plain Markdown: `{@link X}` as `X`, lines joined. */
function plain(text: string): string {
  return text
    .replace(
      /\{@link\s+([^}|\s]+)(?:\s*\|\s*([^}]+))?\}/g,
      (_, target: string, label?: string) => `\`${label ?? target.split('.').pop()}\``,
    )
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}

/**
 * A prop's documentation as a module variable's description: without the sentences about
 * Terraform tokens (every input of a module is a Terraform value), with the props the module
 * names otherwise written as its variables.
 */
export function asVariableDescription(text: string, rename: (sentence: string) => string): string {
  return sentences(text)
    .filter((s) => !/\btokens?\b|TerraformVariable|listValue|Token\./.test(s))
    .map(rename)
    .join(' ')
    .trim();
}

/** Sentences of a paragraph, split after `.`, `!` or `?` followed by a space and a capital or backtick. */
function sentences(text: string): string[] {
  return text.split(/(?<=[.!?:])\s+(?=[A-Z`(])/);
}
