/*
 * Terraform's two syntaxes meet here. A value of a `.tf.json` file is a string template
 * (`"name-${var.x}"`), a number, a boolean, null, or a list or object of those; an expression of
 * the native syntax is what goes between `${` and `}`. A merged value chooses between the values
 * of several plans inside one `${…}`, so each of them is written as a native expression first.
 */

/** A JSON value as a plan holds it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The position after the string literal that starts at `start` (on its opening quote). */
function endOfString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\\') i += 2;
    else if (c === '"') return i + 1;
    else if ((c === '$' || c === '%') && text[i + 1] === '{') {
      if (text[i - 1] === c && text[i - 2] !== c) {
        // `$${` and `%%{` are escapes: the brace is text.
        i += 2;
        continue;
      }
      i = endOfInterpolation(text, i + 2);
    } else i++;
  }
  throw new Error(`unterminated string literal in ${JSON.stringify(text)}`);
}

/** The position after the `}` closing an interpolation whose expression starts at `start`. */
function endOfInterpolation(text: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      i = endOfString(text, i);
      continue;
    }
    if (c === '{' || c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth--;
    else if (c === '}') {
      if (depth === 0) return i + 1;
      depth--;
    }
    i++;
  }
  throw new Error(`unterminated interpolation in ${JSON.stringify(text)}`);
}

/** A template's parts: literal text, and the expressions of its `${…}` and `%{…}` sequences as written. */
export type TemplatePart = { readonly text: string } | { readonly expression: string; readonly directive: boolean };

/** Splits a template (a JSON string of a plan) into text and interpolations. */
export function templateParts(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = '';
  let i = 0;
  while (i < template.length) {
    const two = template.slice(i, i + 2);
    const escaped = template.slice(i, i + 3);
    if (escaped === '$${' || escaped === '%%{') {
      text += escaped;
      i += 3;
    } else if (two === '${' || two === '%{') {
      if (text !== '') parts.push({ text });
      text = '';
      const end = endOfInterpolation(template, i + 2);
      parts.push({ expression: template.slice(i + 2, end - 1), directive: two === '%{' });
      i = end;
    } else {
      text += template[i];
      i++;
    }
  }
  if (text !== '') parts.push({ text });
  return parts;
}

/** Whether an expression is a plain reference (`var.x`, `google_x.y[0].name`), which needs no parentheses anywhere. */
export function isReference(expression: string): boolean {
  return /^[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\[\d+\])*$/.test(expression);
}

/** Whether an expression is one function call (`can(regex(…))`), which needs no parentheses either. */
function isCall(expression: string): boolean {
  const name = /^[A-Za-z_][\w:]*\(/.exec(expression);
  if (!name) return false;
  try {
    // The call's closing parenthesis is the expression's last character.
    return endOfGroup(expression, name[0].length) === expression.length;
  } catch {
    return false;
  }
}

/** Whether an expression is one parenthesized group, `(…)`. */
export function isParenthesized(expression: string): boolean {
  if (!expression.startsWith('(')) return false;
  try {
    return endOfGroup(expression, 1) === expression.length;
  } catch {
    return false;
  }
}

/** The position after the `)` that closes a group whose contents start at `start`. */
function endOfGroup(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') i = endOfString(text, i) - 1;
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      if (depth === 0) return i + 1;
      depth--;
    }
  }
  throw new Error(`unbalanced group in ${JSON.stringify(text)}`);
}

/** Escapes literal text for a quoted native-syntax template. */
function quotedText(text: string): string {
  return text.replace(/[\\"\n\r\t]/g, (c) => ({ '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]!);
}

/**
 * A plan's value as a native-syntax expression: a string that is one interpolation becomes that
 * expression (in parentheses unless a plain reference); any other string a quoted template with
 * the same interpolations; lists and objects their constructors.
 */
export function toExpression(value: Json): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'number') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(toExpression).join(', ')}]`;
  if (typeof value === 'object') {
    return `{ ${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)} = ${toExpression(v)}`)
      .join(', ')} }`;
  }
  const parts = templateParts(value);
  if (parts.length === 1 && 'expression' in parts[0]! && !parts[0].directive) {
    const expression = parts[0].expression.trim();
    return isReference(expression) || isCall(expression) ? expression : `(${expression})`;
  }
  return `"${parts.map((p) => ('text' in p ? quotedText(p.text) : `${p.directive ? '%' : '$'}{${p.expression}}`)).join('')}"`;
}

/** An expression as a `.tf.json` value: `${expression}`. */
export function asTemplate(expression: string): string {
  return `\${${expression}}`;
}

/** A literal string of the native syntax (no interpolation in it): for variable names' values in conditions. */
export function quoted(text: string): string {
  return `"${quotedText(text).replace(/\$\{/g, '$${').replace(/%\{/g, '%%{')}"`;
}
