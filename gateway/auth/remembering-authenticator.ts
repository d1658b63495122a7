/**
 * An {@link Authenticator} decorator that lets the plugins after useAuthentication learn who a
 * request is from without verifying its token a second time (an HS256 verification costs about
 * as much as a small query's planning).
 *
 * useAuthentication keeps the viewer it verified to itself (until context building, after
 * parsing). The rate limiter needs it earlier, in `onRequest`, and the suggestion filter needs it
 * for requests that never reach context building. So useAuthentication is given this decorator:
 * each successful verification is remembered under its `Authorization` value until one later
 * {@link RememberingAuthenticator.viewerOf} of the same request takes it. The same header value
 * always names the same viewer, so concurrent requests with one token share an entry safely.
 */
import type { Viewer } from '../context.ts';
import type { Authenticator } from './authenticator.ts';

interface Remembered {
  readonly viewer: Viewer;
  /** Verifications not yet taken by a viewerOf. */
  pending: number;
}

export class RememberingAuthenticator implements Authenticator {
  readonly #inner: Authenticator;
  readonly #recent = new Map<string, Remembered>();
  readonly #byRequest = new WeakMap<Request, Viewer | null>();
  readonly #capacity: number;

  /** `capacity` bounds the entries of requests whose viewerOf never came (oldest go first). */
  constructor(inner: Authenticator, capacity = 10_000) {
    this.#inner = inner;
    this.#capacity = capacity;
  }

  async authenticate(authorization: string | null | undefined): Promise<Viewer> {
    const viewer = await this.#inner.authenticate(authorization);
    if (authorization) {
      const entry = this.#recent.get(authorization);
      if (entry) entry.pending += 1;
      else {
        if (this.#recent.size >= this.#capacity) this.#recent.delete(this.#recent.keys().next().value!);
        this.#recent.set(authorization, { viewer, pending: 1 });
      }
    }
    return viewer;
  }

  /**
   * Who `request` is from: the viewer useAuthentication verified for it, or (if that is not
   * known here) its token verified now. Undefined when the request carries no valid token.
   * Cached per request, so every plugin may ask.
   */
  async viewerOf(request: Request): Promise<Viewer | undefined> {
    const cached = this.#byRequest.get(request);
    if (cached !== undefined) return cached ?? undefined;
    const authorization = request.headers.get('authorization');
    let viewer: Viewer | null = null;
    const entry = authorization ? this.#recent.get(authorization) : undefined;
    if (entry && authorization) {
      viewer = entry.viewer;
      entry.pending -= 1;
      if (entry.pending <= 0) this.#recent.delete(authorization);
    } else {
      viewer = await this.#inner.authenticate(authorization).catch(() => null);
    }
    this.#byRequest.set(request, viewer);
    return viewer ?? undefined;
  }
}
