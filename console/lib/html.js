// Preact + htm: components written as tagged templates, no build step. Every module of the console
// imports its rendering tools from here, so the vendored paths are named once.
import { h, render, Fragment } from '/console/vendor/preact.mjs';
import htm from '/console/vendor/htm.mjs';

export const html = htm.bind(h);
export { h, render, Fragment };
export { useState, useEffect, useMemo, useRef, useCallback } from '/console/vendor/preact-hooks.mjs';
