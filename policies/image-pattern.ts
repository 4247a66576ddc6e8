// allowedImages entries: a glob when it has * or ?, otherwise a plain prefix.
const GLOB_CHARS = /[*?]/;

// Compiled once per pattern: every admission matches the same few policy patterns.
const compiled = new Map<string, RegExp>();
const maxCompiled = 1024;

function globToRegExp(glob: string): RegExp {
  let re = compiled.get(glob);
  if (re) return re;
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*+/g, '.*').replace(/\?/g, '.');
  re = new RegExp(`^${body}$`);
  if (compiled.size >= maxCompiled) compiled.clear();
  compiled.set(glob, re);
  return re;
}

// "*" also crosses "/" and ":", so "registry.example.com/ml/*" covers every repository and tag below it.
export function imageMatches(image: string, pattern: string): boolean {
  return GLOB_CHARS.test(pattern) ? globToRegExp(pattern).test(image) : image.startsWith(pattern);
}

export function isGlob(pattern: string): boolean {
  return GLOB_CHARS.test(pattern);
}

// A prefix that stops mid-name ("registry/ml") would also admit "registry/ml-untrusted/...".
export function prefixEndsAtBoundary(pattern: string): boolean {
  return isGlob(pattern) || /[/:@]$/.test(pattern);
}

// No tag, or :latest: a restart may pull different code.
export function hasMovingTag(image: string): boolean {
  if (image.includes('@')) return false;
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.indexOf(':');
  return colon === -1 || lastSegment.slice(colon + 1) === 'latest';
}
