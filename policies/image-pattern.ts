// allowedImages entries: a glob when it has * or ?, otherwise a plain prefix.
const GLOB_CHARS = /[*?]/;

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*+/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
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
