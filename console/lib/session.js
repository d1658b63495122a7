// The signed-in user's bearer token, kept for this browser tab only (sessionStorage). The claims are
// decoded for display and to choose the views; the gateway verifies the token on every call.
const KEY = 'lianqiao.token';

export function token() {
  return sessionStorage.getItem(KEY);
}

export function signIn(value) {
  sessionStorage.setItem(KEY, value.trim());
}

export function signOut() {
  sessionStorage.removeItem(KEY);
}

/** The token's claims ({sub, org, roles, exp}), or null when it is not a JWT. Not a verification. */
export function claimsOf(value) {
  try {
    const part = value.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(part.padEnd(Math.ceil(part.length / 4) * 4, '=')), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return { sub: String(claims.sub ?? ''), org: String(claims.org ?? ''), roles: Array.isArray(claims.roles) ? claims.roles.map(String) : [], exp: claims.exp };
  } catch {
    return null;
  }
}
